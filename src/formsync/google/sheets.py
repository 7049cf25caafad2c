"""Google Sheets backend: the same protocol as LocalSheets, over gspread's HTTP client.

API calls per sync, whatever the number of members (each spreadsheet; the responses and the
master may be one spreadsheet, then they share every call):
  read   one `spreadsheets.get` (worksheet titles and grid sizes, cached for the run) and one
         `values.batchGet` of every worksheet wanted (a missing worksheet reads as None);
  write  one `spreadsheets.batchUpdate` only when a worksheet must be created, its grid grown
         or a date column formatted for the first time; one `values.batchUpdate` with every
         header row and cell write; one `values.append` per worksheet that gets new rows.
An edit with nothing in it makes no call at all.

Everything is written RAW, so form text such as `=IMPORTXML(...)` stays text; see
formsync.google.cells for how dates are written and read back.
"""

from __future__ import annotations

import datetime as dt
import re
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import requests
from google.auth.credentials import Credentials
from gspread.exceptions import APIError
from gspread.utils import absolute_range_name, rowcol_to_a1

from formsync.actions import CellWrite, SheetEdit
from formsync.config import Config
from formsync.errors import BackendError, ConfigError
from formsync.google.auth import SCOPE_SHEETS, load_credentials
from formsync.google.cells import (
    PATTERNS,
    WRITTEN_AS_SERIAL,
    Kind,
    Value,
    column_kinds,
    from_cell,
    to_cell,
    to_table,
)
from formsync.google.transport import RetryPolicy, api_error, open_gspread_client
from formsync.model import (
    MEMBER_HEADER,
    MEMBERS,
    REMINDER_HEADER,
    REMINDERS,
    RESPONSES,
    SESSION_HEADER,
    SESSIONS,
    SUBMISSIONS,
    Table,
)

MASTER_KEY, RESPONSES_KEY = "google.master_spreadsheet", "google.responses_spreadsheet"
HOMEWORK_KEY = "homework.responses_spreadsheet"
MASTER_WORKSHEETS = ((SESSIONS, SESSION_HEADER), (MEMBERS, MEMBER_HEADER),
                     (REMINDERS, REMINDER_HEADER))
READ_OPTIONS = {"valueRenderOption": "UNFORMATTED_VALUE",
                "dateTimeRenderOption": "SERIAL_NUMBER", "majorDimension": "ROWS"}
METADATA_FIELDS = ("properties(title,timeZone),"
                   "sheets(properties(sheetId,title,index,gridProperties(rowCount,columnCount)))")
NEW_SHEET_ROWS, NEW_SHEET_COLUMNS = 1000, 26  # what Google gives a new worksheet
_ID_IN_URL = re.compile(r"/spreadsheets/d/([a-zA-Z0-9_-]+)")
# The worksheet a Google Form writes to, in an English or a Spanish account.
_FORM_RESPONSES = re.compile(r"^\s*(form responses|respuestas de formulario)\s+\d+\s*$",
                             re.IGNORECASE)


def spreadsheet_id(value: str) -> str:
    """The id of a spreadsheet given as its id or its full URL."""
    match = _ID_IN_URL.search(value)
    return match.group(1) if match else value.strip()


@dataclass(frozen=True)
class SpreadsheetRef:
    key: str  # the config key that names it, for messages
    id: str


@dataclass(frozen=True)
class FormSheet:
    """A worksheet a Google Form writes to, in a spreadsheet of its own. Which worksheet lives
    where is this map (sheet name → FormSheet) plus the master spreadsheet for the rest, so a
    second form is a config entry, not code."""

    key: str  # the config key naming the spreadsheet, for messages
    ref: SpreadsheetRef | None  # None: the config does not name it
    worksheet: str = ""  # as configured; "" finds "Form Responses 1" (any language), or the first
    worksheet_key: str = ""  # the config key naming the worksheet, for messages
    optional: bool = False  # with no spreadsheet named, it reads as absent (no call)


def _homework_form(config: Config) -> FormSheet:
    """The homework Form's worksheet: in its own spreadsheet, else in the master."""
    named = config.homework.responses_spreadsheet.strip()
    key = HOMEWORK_KEY if named else MASTER_KEY
    source = named or config.google.master_spreadsheet
    return FormSheet(key, SpreadsheetRef(key, spreadsheet_id(source)),
                     config.homework.worksheet.strip(), "homework.worksheet")


@dataclass
class WorksheetInfo:
    """What this run knows about one worksheet (from metadata, the read and its own writes)."""

    title: str
    sheet_id: int
    rows: int
    columns: int
    last_row: int | None = None  # last row with data when read; None: not read
    serial_columns: set[int] | None = None  # columns holding numbers when read


@dataclass
class SpreadsheetInfo:
    ref: SpreadsheetRef
    title: str
    time_zone: str
    worksheets: dict[str, WorksheetInfo] = field(default_factory=dict)  # in sheet order

    def first_title(self) -> str | None:
        return next(iter(self.worksheets), None)

    def title_of(self, name: str) -> str | None:
        """The real title of the worksheet called `name`, matched as Google matches titles:
        ignoring case (it refuses a new "Members" beside a "members")."""
        if name in self.worksheets:
            return name
        wanted = name.casefold()
        return next((title for title in self.worksheets if title.casefold() == wanted), None)

    def responses_title(self) -> str | None:
        """The form's responses worksheet ("Form Responses 1", "Respuestas de formulario 1"),
        or else the first worksheet."""
        return next((title for title in self.worksheets if _FORM_RESPONSES.match(title)),
                    None) or self.first_title()


@dataclass
class _SheetWrite:
    """One edit turned into API payloads."""

    info: WorksheetInfo
    ranges: list[dict[str, Any]]
    appends: list[list[Value]]  # rows for values.append (a log edit, or a sheet not read)
    serial_columns: set[int]  # columns this write puts serial numbers in
    needed_rows: int
    needed_columns: int
    first_new_row: int | None = None  # where `ranges` put the edit's new rows


class GoogleSheets:
    """The responses and the master spreadsheet's worksheets, in Google Sheets."""

    def __init__(self, client: Any, *, master: str, forms: Mapping[str, FormSheet] | None = None,
                 tz: dt.tzinfo = dt.UTC, overrides: Mapping[str, str] | None = None,
                 account: str = "") -> None:
        self.client = client  # gspread.Client; its http_client makes every call
        self.master = SpreadsheetRef(MASTER_KEY, spreadsheet_id(master))
        self.forms = dict(forms or {})
        self.tz = tz
        self.overrides = dict(overrides or {})
        self.account = account  # the identity to share spreadsheets with, for messages
        self._metadata: dict[str, SpreadsheetInfo] = {}
        # What reads learnt of worksheets whose metadata was not fetched: spreadsheet id →
        # folded title → its info (real title and what was read; no sheet id or grid yet).
        self._read_only: dict[str, dict[str, WorksheetInfo]] = {}

    @classmethod
    def from_config(cls, config: Config, *, credentials: Credentials | None = None,
                    policy: RetryPolicy | None = None) -> GoogleSheets:
        """The backend `config` describes; no network until the first read."""
        cfg = config.google
        if not cfg.master_spreadsheet.strip():
            raise ConfigError(MASTER_KEY, "is not set", fix=(
                "set it to the id (or URL) of the spreadsheet holding Sessions, Members and "
                "Reminders"))
        if credentials is None:
            credentials = load_credentials(cfg, [SCOPE_SHEETS], base_dir=config.root)
        client = open_gspread_client(cfg, credentials, policy=policy)
        account = getattr(credentials, "service_account_email", None)
        responses = cfg.responses_spreadsheet.strip()
        forms = {RESPONSES: FormSheet(
            RESPONSES_KEY,
            SpreadsheetRef(RESPONSES_KEY, spreadsheet_id(responses)) if responses else None,
            cfg.responses_worksheet.strip(), "google.responses_worksheet")}
        forms[SUBMISSIONS] = (_homework_form(config) if config.homework.configured("google")
                              else FormSheet(HOMEWORK_KEY, None, optional=True))
        return cls(client, master=cfg.master_spreadsheet, forms=forms, tz=config.group.tz,
                   overrides=config.columns, account=account if isinstance(account, str) else "")

    # -- where things are -----------------------------------------------------------------

    @property
    def responses(self) -> SpreadsheetRef | None:
        form = self.forms.get(RESPONSES)
        return form.ref if form is not None else None

    def spreadsheet_of(self, sheet: str) -> SpreadsheetRef:
        form = self.forms.get(sheet)
        if form is None:
            return self.master
        if form.ref is None:
            raise ConfigError(form.key, "is not set", fix=(
                "set it to the id (or URL) of the spreadsheet the Google Form writes to "
                "(Form → Responses → Link to Sheets)"))
        return form.ref

    def locate(self, sheet: str) -> tuple[SpreadsheetRef, str | None]:
        """The spreadsheet and worksheet title of a sheet name (None: no such worksheet; a
        form's worksheet named in the config must exist)."""
        ref = self.spreadsheet_of(sheet)
        info = self.metadata(ref)
        form = self.forms.get(sheet)
        if form is None:
            return ref, info.title_of(sheet)
        if not form.worksheet:
            return ref, info.responses_title()
        title = info.title_of(form.worksheet)
        if title is None:
            raise ConfigError(form.worksheet_key, (
                f"no worksheet {form.worksheet!r} in spreadsheet {info.title!r}; it "
                f"has {', '.join(repr(t) for t in info.worksheets)}"),
                fix="set it to the worksheet the form writes to, or leave it blank for the "
                    "form's 'Form Responses 1' (or else the first worksheet)")
        return ref, title

    def metadata(self, ref: SpreadsheetRef) -> SpreadsheetInfo:
        """Titles and grid sizes of a spreadsheet's worksheets: one call, then cached."""
        known = self._metadata.get(ref.id)
        if known is not None:
            return known
        with self._calling(ref):
            answer = self.client.http_client.fetch_sheet_metadata(
                ref.id, params={"fields": METADATA_FIELDS})
        info = _spreadsheet_info(ref, answer)
        for title, sheet in info.worksheets.items():  # keep what the reads learnt
            read = self._read_only.get(ref.id, {}).get(title.casefold())
            if read is not None:
                sheet.last_row, sheet.serial_columns = read.last_row, read.serial_columns
        self._metadata[ref.id] = info
        return info

    # -- reading ----------------------------------------------------------------------------

    def read_many(self, sheets: Iterable[str]) -> dict[str, Table | None]:
        """One values.batchGet per spreadsheet, by worksheet name: no metadata call unless a
        worksheet is missing (Google then refuses the whole batch with 400 "Unable to parse
        range") or the form's worksheet must be found among the titles."""
        wanted = list(dict.fromkeys(sheets))
        found: dict[str, Table | None] = dict.fromkeys(wanted)
        by_spreadsheet: dict[str, list[str]] = {}
        refs: dict[str, SpreadsheetRef] = {}
        for sheet in wanted:
            form = self.forms.get(sheet)
            if form is not None and form.ref is None and form.optional:
                continue  # a form the config does not name (homework): absent
            ref = self.spreadsheet_of(sheet)
            by_spreadsheet.setdefault(ref.id, []).append(sheet)
            refs.setdefault(ref.id, ref)
        for key, names in by_spreadsheet.items():
            found.update(self._read_spreadsheet(refs[key], names))
        return found

    def _read_spreadsheet(self, ref: SpreadsheetRef, names: Sequence[str]
                          ) -> dict[str, Table]:
        by_name = [(name, title) for name in names
                   if (title := self._name_to_read(ref, name)) is not None]
        if len(by_name) == len(names):
            try:
                return self._batch_get(ref, by_name)
            except _MissingWorksheet:
                pass  # learn the titles, then read the worksheets that exist
        pairs = [(name, title) for name in names
                 if (title := self.locate(name)[1]) is not None]
        return self._batch_get(ref, pairs) if pairs else {}

    def _name_to_read(self, ref: SpreadsheetRef, name: str) -> str | None:
        """The title to ask for without metadata; None when only the titles can tell."""
        if ref.id in self._metadata:
            return self.locate(name)[1]
        form = self.forms.get(name)
        if form is None:
            return name
        return form.worksheet or None

    def _batch_get(self, ref: SpreadsheetRef, pairs: Sequence[tuple[str, str]]
                   ) -> dict[str, Table]:
        ranges = [absolute_range_name(title) for _, title in pairs]
        try:
            with self._calling(ref):
                answer = self.client.http_client.values_batch_get(ref.id, ranges,
                                                                  params=dict(READ_OPTIONS))
        except BackendError as error:
            if "Unable to parse range" in error.message and ref.id not in self._metadata:
                raise _MissingWorksheet() from None
            raise
        value_ranges = answer.get("valueRanges") or [{} for _ in pairs]
        tables = {}
        for (sheet, title), value_range in zip(pairs, value_ranges, strict=True):
            values = value_range.get("values") or []
            _remember_read(self._worksheet_read(ref, title, value_range), values)
            tables[sheet] = to_table(sheet, values, self.tz, self.overrides)
        return tables

    def _worksheet_read(self, ref: SpreadsheetRef, asked: str,
                        value_range: Mapping[str, Any]) -> WorksheetInfo:
        """Where to remember a read: the worksheet's metadata if fetched, else a record of
        its real title, which Google echoes in `range` ("'members'!A1:H20")."""
        info = self._metadata.get(ref.id)
        if info is not None:
            return info.worksheets[info.title_of(asked) or asked]
        title = _title_in_range(str(value_range.get("range", ""))) or asked
        known = self._read_only.setdefault(ref.id, {})
        return known.setdefault(title.casefold(), WorksheetInfo(title, -1, 0, 0))

    def header_rows(self, ref: SpreadsheetRef, titles: Sequence[str]
                    ) -> dict[str, tuple[str, ...]]:
        """Row 1 of some worksheets of one spreadsheet, in one values.batchGet."""
        if not titles:
            return {}
        with self._calling(ref):
            answer = self.client.http_client.values_batch_get(
                ref.id, [absolute_range_name(title, "1:1") for title in titles])
        ranges = answer.get("valueRanges") or [{} for _ in titles]
        return {title: tuple(from_cell(cell, Kind.TEXT, self.tz).strip()
                             for cell in (found.get("values") or [[]])[0])
                for title, found in zip(titles, ranges, strict=True)}

    # -- writing ----------------------------------------------------------------------------

    def apply(self, edits: Iterable[SheetEdit]) -> dict[str, int]:
        """Apply the edits; for each sheet that got new rows, the sheet row of the first."""
        by_spreadsheet: dict[str, list[SheetEdit]] = {}
        refs: dict[str, SpreadsheetRef] = {}
        for edit in edits:
            if edit.is_empty():
                continue
            ref = self.spreadsheet_of(edit.sheet)
            by_spreadsheet.setdefault(ref.id, []).append(edit)
            refs.setdefault(ref.id, ref)
        first_new_rows: dict[str, int] = {}
        for key, spreadsheet_edits in by_spreadsheet.items():
            first_new_rows.update(self._apply_spreadsheet(refs[key], spreadsheet_edits))
        return first_new_rows

    def _apply_spreadsheet(self, ref: SpreadsheetRef, edits: Sequence[SheetEdit]
                           ) -> dict[str, int]:
        info = self.metadata(ref)
        structure: list[dict[str, Any]] = []
        planned: list[tuple[str, _SheetWrite]] = []
        created: list[WorksheetInfo] = []
        for edit in edits:
            title = self._title_for_write(info, edit.sheet)
            sheet = info.worksheets.get(title) or next(
                (new for new in created if new.title == title), None)
            if sheet is None:
                sheet = _new_worksheet(info, created, title, edit)
                created.append(sheet)
                structure.append(_add_sheet_request(sheet))
            write = self._sheet_write(sheet, edit)
            structure += _grow_requests(write) + _format_requests(write, edit, self.overrides)
            planned.append((edit.sheet, write))
        with self._calling(ref):
            if structure:
                self.client.http_client.batch_update(ref.id, {"requests": structure})
            info.worksheets.update((sheet.title, sheet) for sheet in created)
            ranges = [item for _, write in planned for item in write.ranges]
            if ranges:
                self.client.http_client.values_batch_update(
                    ref.id, body={"valueInputOption": "RAW", "data": ranges})
            first_new_rows = {name: row for name, write in planned
                              if (row := self._append(ref, write) or write.first_new_row)}
        for _, write in planned:
            _remember_write(write)
        return first_new_rows

    def _title_for_write(self, info: SpreadsheetInfo, sheet: str) -> str:
        """The existing worksheet's real title, else the title to create."""
        form = self.forms.get(sheet)
        if form is None:
            return info.title_of(sheet) or sheet
        found = info.title_of(form.worksheet) if form.worksheet else info.responses_title()
        return found or form.worksheet or sheet

    def _sheet_write(self, sheet: WorksheetInfo, edit: SheetEdit) -> _SheetWrite:
        # Only formsync's own date columns may become serial numbers; every other cell is sent
        # as the text it is (checked per column, not per cell: 10,000 members is 80,000 cells).
        dated = {column: kind for column, kind in
                 column_kinds(edit.sheet, edit.header, self.overrides).items()
                 if kind in WRITTEN_AS_SERIAL}
        serial_columns: set[int] = set()

        def cell(text: str, column: int) -> Value:
            kind = dated.get(column)
            if kind is None:
                return text
            value = to_cell(text, kind, self.tz)
            if not isinstance(value, str):
                serial_columns.add(column)
            return value

        ranges = []
        if edit.add_header:
            ranges.append(_row_range(sheet.title, 1, 0, list(edit.header)))
        position = {name: i for i, name in enumerate(edit.header)}
        for row, start, texts in _runs(edit.writes, position):
            ranges.append(_row_range(sheet.title, row, start,
                                     [cell(text, start + i) for i, text in enumerate(texts)]))
        appends = [[cell(text, i) for i, text in enumerate(line)] for line in edit.appends]
        rows = max([1 if edit.add_header else 0, *(w.row for w in edit.writes)])
        columns = max([len(edit.header) if edit.add_header else 0,
                       *(position[w.column] + 1 for w in edit.writes)])
        first_new_row = None
        if appends and not edit.log and sheet.last_row is not None:
            # At the rows right after those read: a repeated or late write lands on the same
            # cells instead of adding the rows again (values.append would).
            first_new_row = max(sheet.last_row, 1) + 1
            ranges.append(_block_range(sheet.title, first_new_row, appends))
            rows = max(rows, first_new_row + len(appends) - 1)
            columns = max(columns, *(len(line) for line in appends))
            appends = []
        return _SheetWrite(sheet, ranges, appends, serial_columns, rows, columns, first_new_row)

    def _append(self, ref: SpreadsheetRef, write: _SheetWrite) -> int | None:
        """Log rows go wherever the sheet ends when Google applies the request
        (values.append); the sheet row of the first one, from Google's answer.

        Anchoring the append at the last row read (not at A1) makes Google's table search start
        there, so a blank row higher up cannot pull the new rows into the middle of the sheet,
        and rows someone added since the read are appended after, never overwritten.

        If the answer is lost (UnknownOutcomeError: Google may or may not have added the rows,
        perhaps later), the error goes up and the run reports it. Nothing is retried here; if
        the rows land twice, the ledger's reader merges rows that share a key.
        """
        if not write.appends:
            return None
        anchor = max(write.info.last_row or 1, 1)
        answer = self.client.http_client.values_append(
            ref.id, absolute_range_name(write.info.title, f"A{anchor}"),
            params={"valueInputOption": "RAW", "insertDataOption": "OVERWRITE"},
            body={"majorDimension": "ROWS", "values": write.appends})
        return _remember_append(write.info, answer)

    # -- `formsync init --backend google` ---------------------------------------------------

    def init_worksheets(self) -> list[str]:
        """Create the missing Sessions, Members and Reminders worksheets of the master
        spreadsheet, each with its header row; existing worksheets are left as they are."""
        info = self.metadata(self.master)
        missing = [(name, header) for name, header in MASTER_WORKSHEETS
                   if info.title_of(name) is None]
        self.apply([SheetEdit(name, header, add_header=True) for name, header in missing])
        lines = [f"created worksheet {name} with its header in spreadsheet {info.title!r}"
                 for name, _ in missing]
        return lines or [f"spreadsheet {info.title!r} already has "
                         f"{', '.join(name for name, _ in MASTER_WORKSHEETS)}: nothing to do"]

    # -- errors -----------------------------------------------------------------------------

    @contextmanager
    def _calling(self, ref: SpreadsheetRef) -> Iterator[None]:
        try:
            yield
        except APIError as error:
            raise refusal(error, ref, self.account) from None
        except requests.RequestException as error:
            raise BackendError(f"Google Sheets API: request for spreadsheet {ref.id} ({ref.key}) "
                               f"failed: {type(error).__name__}",
                               fix="check the network connection and google.sheets_base_url"
                               ) from None


class _MissingWorksheet(Exception):
    """A worksheet asked for by name does not exist (so the read needs the titles)."""


def _title_in_range(echo: str) -> str | None:
    """The worksheet title in a range Google echoes: "'Form Responses 1'!A1:E9" → the title."""
    sheet, bang, _ = echo.rpartition("!")
    if not bang or not sheet:
        return None
    if len(sheet) > 1 and sheet[0] == sheet[-1] == "'":
        sheet = sheet[1:-1].replace("''", "'")
    return sheet


def refusal(error: APIError, ref: SpreadsheetRef, account: str) -> BackendError:
    """A refused Sheets call as a BackendError that says which key to fix and whom to share
    the spreadsheet with."""
    response = error.response
    share = f"share it with {account} (as Editor)" if account else \
        "share it with the account formsync runs as (as Editor)"
    if response.status_code == 404:
        return BackendError(f"spreadsheet {ref.id} not found",
                            fix=f"check {ref.key} (the long id in the spreadsheet's URL); {share}")
    return api_error(response.status_code, response.content, url=response.url,
                     what=f"spreadsheet {ref.id} ({ref.key})", account=account)


# ---------------------------------------------------------------------------------------------
# Helpers: metadata, payloads, cache updates


def _spreadsheet_info(ref: SpreadsheetRef, answer: Mapping[str, Any]) -> SpreadsheetInfo:
    properties = answer.get("properties") or {}
    info = SpreadsheetInfo(ref, str(properties.get("title", "")),
                           str(properties.get("timeZone", "")))
    sheets = sorted(answer.get("sheets") or [],
                    key=lambda s: int(s.get("properties", {}).get("index", 0)))
    for sheet in sheets:
        props = sheet.get("properties") or {}
        grid = props.get("gridProperties") or {}
        title = str(props.get("title", ""))
        info.worksheets[title] = WorksheetInfo(
            title, int(props.get("sheetId", 0)), int(grid.get("rowCount", 0)),
            int(grid.get("columnCount", 0)))
    return info


def _remember_read(sheet: WorksheetInfo, values: Sequence[Sequence[object]]) -> None:
    sheet.last_row = len(values)
    sheet.serial_columns = {column for line in values[1:] for column, cell in enumerate(line)
                            if isinstance(cell, int | float) and not isinstance(cell, bool)}


def _remember_write(write: _SheetWrite) -> None:
    sheet = write.info
    sheet.rows = max(sheet.rows, write.needed_rows)
    sheet.columns = max(sheet.columns, write.needed_columns)
    if sheet.last_row is not None:
        sheet.last_row = max(sheet.last_row, write.needed_rows)
    if sheet.serial_columns is not None:
        sheet.serial_columns |= write.serial_columns


def _remember_append(sheet: WorksheetInfo, answer: Mapping[str, Any]) -> int | None:
    """Learn the rows an append filled from its `updates.updatedRange`; the first one."""
    updated = str((answer.get("updates") or {}).get("updatedRange", ""))
    match = re.search(r"!?[A-Z]+(\d+)(?::[A-Z]+(\d+))?$", updated)
    if not match:
        return None
    last = int(match.group(2) or match.group(1))
    sheet.last_row = max(sheet.last_row or 0, last)
    sheet.rows = max(sheet.rows, last)
    return int(match.group(1))


def _new_worksheet(info: SpreadsheetInfo, pending: Sequence[WorksheetInfo], title: str,
                   edit: SheetEdit) -> WorksheetInfo:
    taken = {sheet.sheet_id for sheet in (*info.worksheets.values(), *pending)}
    sheet_id = zlib.crc32(title.encode("utf-8")) % 2_000_000_000 + 1
    while sheet_id in taken:
        sheet_id += 1
    rows = max([NEW_SHEET_ROWS, *(w.row for w in edit.writes)])
    return WorksheetInfo(title, sheet_id, rows, max(NEW_SHEET_COLUMNS, len(edit.header)),
                         last_row=0, serial_columns=set())


def _add_sheet_request(sheet: WorksheetInfo) -> dict[str, Any]:
    return {"addSheet": {"properties": {
        "sheetId": sheet.sheet_id, "title": sheet.title,
        "gridProperties": {"rowCount": sheet.rows, "columnCount": sheet.columns}}}}


def _grow_requests(write: _SheetWrite) -> list[dict[str, Any]]:
    """appendDimension requests so that the header and every cell write fit in the grid
    (a write beyond the grid is refused; appends grow the grid by themselves)."""
    sheet = write.info
    grow: list[dict[str, Any]] = []
    for dimension, have, need in (("ROWS", sheet.rows, write.needed_rows),
                                  ("COLUMNS", sheet.columns, write.needed_columns)):
        if need > have:
            grow.append({"appendDimension": {"sheetId": sheet.sheet_id,
                                             "dimension": dimension, "length": need - have}})
    return grow


def _format_requests(write: _SheetWrite, edit: SheetEdit, overrides: Mapping[str, str]
                     ) -> list[dict[str, Any]]:
    """A date-time number format for each formsync-owned date column that gets its first
    serial numbers now (a new column or worksheet, a header someone typed, text dates)."""
    known = write.info.serial_columns
    kinds = column_kinds(edit.sheet, edit.header, overrides)
    formats = []
    for column in sorted(write.serial_columns):
        pattern = PATTERNS.get(kinds.get(column, Kind.TEXT))
        if pattern is None or (known is not None and column in known):
            continue
        formats.append({"repeatCell": {
            "range": {"sheetId": write.info.sheet_id, "startRowIndex": 1,
                      "startColumnIndex": column, "endColumnIndex": column + 1},
            "cell": {"userEnteredFormat": {"numberFormat": {"type": "DATE_TIME",
                                                            "pattern": pattern}}},
            "fields": "userEnteredFormat.numberFormat"}})
    return formats


def _row_range(title: str, row: int, start: int, values: list[Value]) -> dict[str, Any]:
    first = rowcol_to_a1(row, start + 1)
    last = rowcol_to_a1(row, start + len(values))
    cells = first if first == last else f"{first}:{last}"
    return {"range": absolute_range_name(title, cells), "majorDimension": "ROWS",
            "values": [values]}


def _block_range(title: str, first_row: int, rows: list[list[Value]]) -> dict[str, Any]:
    width = max(len(row) for row in rows)
    cells = f"A{first_row}:{rowcol_to_a1(first_row + len(rows) - 1, width)}"
    return {"range": absolute_range_name(title, cells), "majorDimension": "ROWS",
            "values": rows}


def _runs(writes: Iterable[CellWrite], position: Mapping[str, int]
          ) -> list[tuple[int, int, list[str]]]:
    """Cell writes as (row, first column, texts) runs of adjacent cells; the last write to a
    cell wins."""
    cells = {(write.row, position[write.column]): write.value for write in writes}
    runs: list[tuple[int, int, list[str]]] = []
    for (row, column), text in sorted(cells.items()):
        if runs and runs[-1][0] == row and runs[-1][1] + len(runs[-1][2]) == column:
            runs[-1][2].append(text)
        else:
            runs.append((row, column, [text]))
    return runs
