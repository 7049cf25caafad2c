"""The README step: the calendar table between formsync's markers, rendered from the sessions.

Pure functions on text: no files, no clock. The block between
`<!-- formsync:calendar:start -->` and `<!-- formsync:calendar:end -->` is generated; every byte
outside it is left as it was. A README without markers is migrated once: the markers are put
around the table under its Calendario/Calendar/Schedule heading. A table that was imported or
migrated keeps its own column labels, total-line label and chapter prefix (its `TableStyle`).
The block's first line is the digest of the table formsync wrote (`<!-- formsync:rendered … -->`),
so an organizer's edit of the table can be told from formsync's own text (formsync.readme_edits).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from formsync.actions import Action, ReadmeChange, StepPlan
from formsync.columns import fold
from formsync.dates import parse_date, parse_time
from formsync.errors import InputError
from formsync.markdown import display_width, render_cell, split_row, unescape_cell
from formsync.model import SESSION_HEADER, SESSIONS, Problem, Session, Table
from formsync.names import public_sessions
from formsync.step import ApplyContext, PlanContext, Step

STEP = "readme"
START_MARKER = "<!-- formsync:calendar:start -->"
END_MARKER = "<!-- formsync:calendar:end -->"
TBA = "TBA"
NO_TABLE = "README has no calendar table under a Calendario/Calendar/Schedule heading"
NO_TABLE_FIX = (f"add the markers {START_MARKER} and {END_MARKER}, each on its own line, where "
                "the table should go")
MARKERS_FIX = f"keep exactly one {START_MARKER} line and one {END_MARKER} line after it"
DIGEST_LINE = "<!-- formsync:rendered {digest} -->"
DATE_FIX = ("write DD-MM-YYYY HH:MM - HH:MM (20-10-2020 17:00 - 19:30), DD/MM/YYYY or "
            "YYYY-MM-DD, or leave the cell empty")

# Table columns, in the default order; each maps to Session fields.
CHAPTER, GUIDE, READINGS, EXERCISES, WHEN, SLIDES, RECORDING = (
    "chapter", "guide", "readings", "exercises", "when", "slides", "recording")
FIELDS = (CHAPTER, GUIDE, READINGS, EXERCISES, WHEN, SLIDES, RECORDING)
HEADERS = {
    "es": ("Capítulo", "Guía", "Lecturas sugeridas", "Ejercicios", "Fecha/Hora",
           "Slides/Notebook", "Grabación"),
    "en": ("Chapter", "Guide", "Suggested Readings", "Exercises", "Date/Time",
           "Slides/Notebook", "Recording"),
}
TOTAL_LABELS = {"es": "Total de sesiones", "en": "Total sessions"}
CHAPTER_PREFIXES = {"es": "Sesión", "en": "Session"}
TENTATIVE_WORDS = {"es": "tentativa", "en": "tentative"}
# Header labels (folded) that name each column, English or Spanish.
FIELD_ALIASES = {
    CHAPTER: ("chapter", "capitulo", "session", "sesion", "tema", "topic"),
    GUIDE: ("guide", "guia"),
    READINGS: ("suggested readings", "lecturas sugeridas", "readings", "lecturas"),
    EXERCISES: ("exercises", "ejercicios", "homework", "tarea", "tareas", "assignments"),
    WHEN: ("date/time", "fecha/hora", "date", "fecha", "when", "cuando"),
    SLIDES: ("slides/notebook", "slides", "notebook", "diapositivas", "material"),
    RECORDING: ("recording", "grabacion", "video", "youtube"),
}
# Text cells that mean "not known yet" (rendered back as TBA).
UNKNOWN_WORDS = frozenset({"tba", "tbd"})

# "Session 3 - Linear Neural Networks" (hyphen, en or em dash) in a cell's Markdown.
_NUMBERED_CHAPTER = re.compile(
    r"^(?P<prefix>[^\W\d_]+)\s+(?P<number>[0-9]+)\s*(?P<dash>[-–—])\s*(?P<chapter>.*)$")
# An ATX heading: up to three spaces, 1-6 '#', then its text.
_HEADING = re.compile(r"^ {0,3}(?P<level>#{1,6})(?:[ \t]+(?P<text>.*))?$")
_CALENDAR_WORDS = ("calendar", "schedule")  # "calendario" contains "calendar"
# A code fence opening or closing line: ``` or ~~~ after up to three spaces.
_FENCE = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})")
# A delimiter cell of the table's second line: ---, :---, ---:, :---:
_DELIMITER_CELL = re.compile(r"^:?-+:?$")
# The count above the table, e.g. "Total de sesiones: 15".
_TOTAL_LINE = re.compile(
    r"^\s*(?P<label>[^:|]*(?:total|sesiones|sessions)[^:|]*?)\s*:\s*[0-9]+\s*$", re.IGNORECASE)
# A Date/Time cell: "~" (tentative), the date, optional "HH:MM" and "- HH:MM", "(tentativa)".
_WHEN = re.compile(
    r"^(?P<tilde>~)?\s*(?P<date>[0-9./-]+)"
    r"(?:\s+(?P<start>[0-9]{1,2}:[0-9]{2})(?:\s*[-–—]\s*(?P<end>[0-9]{1,2}:[0-9]{2}))?)?"
    r"\s*(?:\((?P<note>[^()]*)\))?\s*$")
_TENTATIVE_NOTES = frozenset({"tentativa", "tentativo", "tentative", "propuesta", "propuesto",
                              "proposed"})
# The block's first line: the digest of the rest of the block as formsync wrote it.
_DIGEST_LINE = re.compile(r"^<!-- formsync:rendered (?P<digest>[0-9a-f]{16}) -->$")


@dataclass(frozen=True)
class Column:
    """One column of the calendar table: the Session field it shows and its header (Markdown)."""

    field: str
    label: str
    align: str = ""  # "", "left", "center" or "right", from the delimiter row


@dataclass(frozen=True)
class TableStyle:
    """How an existing calendar table is written, kept when it is re-rendered."""

    columns: tuple[Column, ...]
    total_label: str | None  # None: the block has no total line
    chapter_prefix: str
    chapter_dash: str = "-"


@dataclass(frozen=True)
class ReadmeResult:
    """What the README step would do: the new text (None when nothing changes)."""

    new_text: str | None
    migrated: bool = False
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class RecordChange:
    """Rewrite formsync's record of the table it last wrote (see formsync.readme_edits)."""

    path: Path
    new_text: str
    summary: str

    def describe(self) -> str:
        return self.summary


@dataclass(frozen=True)
class _TableSpan:
    """Line indexes of a table: [first, end) including the total line above it, if any."""

    first: int
    header: int
    end: int
    total: int | None


def default_style(language: str) -> TableStyle:
    """The table formsync writes when the README has none yet."""
    columns = tuple(Column(field, label) for field, label in zip(FIELDS, HEADERS[language],
                                                                 strict=True))
    return TableStyle(columns, TOTAL_LABELS[language], CHAPTER_PREFIXES[language])


# ---- rendering -------------------------------------------------------------------------------

def render_block(sessions: Sequence[Session], *, language: str,
                 style: TableStyle | None = None) -> str:
    """The text between the markers: the total line, a blank line, the calendar table."""
    style = style or default_style(language)
    lines = []
    if style.total_label is not None:
        count = sum(1 for session in sessions if session.number is not None)
        lines += [f"{style.total_label}: {count}", ""]
    header = [column.label for column in style.columns]
    rows = [[_cell(session, column.field, style, language) for column in style.columns]
            for session in sessions]
    lines += _table_lines(header, rows, [column.align for column in style.columns])
    return "\n".join(lines) + "\n"


def _cell(session: Session, field: str, style: TableStyle, language: str) -> str:
    if field == CHAPTER:
        return _chapter_cell(session, style)
    if field == WHEN:
        return when_cell(session, language)
    if field == GUIDE:
        guide = render_cell(session.guide)
        return "" if guide.casefold() in UNKNOWN_WORDS else guide  # no guide yet: left blank
    text = {READINGS: session.readings, EXERCISES: session.exercises, SLIDES: session.slides,
            RECORDING: session.recording}[field]
    return render_cell(text) or TBA


def _chapter_cell(session: Session, style: TableStyle) -> str:
    chapter = render_cell(session.chapter)
    if session.number is None:
        return _unnumbered(chapter)
    return f"{style.chapter_prefix} {session.number} {style.chapter_dash} {chapter}".rstrip()


def _unnumbered(chapter: str) -> str:
    """A chapter without a number that reads like "Session 5 - ...": its first digit as an
    entity, so it looks the same but is not imported as session 5."""
    match = _NUMBERED_CHAPTER.match(chapter)
    if match is None:
        return chapter
    digit = match.start("number")
    return f"{chapter[:digit]}&#{ord(chapter[digit])};{chapter[digit + 1:]}"


def when_cell(session: Session, language: str) -> str:
    """`20-10-2020 17:00 - 19:30`; a proposed date as `~17-11-2020 17:00 (tentativa)`."""
    if session.date is not None:
        parts = [_day_text(session.date)]
        if session.start is not None:
            parts.append(_time_text(session.start))
            if session.end is not None:
                parts += ["-", _time_text(session.end)]
        return " ".join(parts)
    if session.proposed is not None:
        day, time = _day_text(session.proposed.date()), _time_text(session.proposed.time())
        return f"~{day} {time} ({TENTATIVE_WORDS[language]})"
    return ""


def _day_text(day: dt.date) -> str:
    return f"{day.day:02d}-{day.month:02d}-{day.year:04d}"


def _time_text(time: dt.time) -> str:
    return f"{time.hour:02d}:{time.minute:02d}"


def _table_lines(header: list[str], rows: list[list[str]], aligns: list[str]) -> list[str]:
    widths = [max(3, *(display_width(row[i]) for row in [header, *rows]))
              for i in range(len(header))]
    delimiter = [_delimiter(width, align) for width, align in zip(widths, aligns, strict=True)]
    return [_row_line(header, widths), "| " + " | ".join(delimiter) + " |",
            *(_row_line(row, widths) for row in rows)]


def _row_line(cells: list[str], widths: list[int]) -> str:
    padded = [cell + " " * (width - display_width(cell))
              for cell, width in zip(cells, widths, strict=True)]
    return "| " + " | ".join(padded) + " |"


def _delimiter(width: int, align: str) -> str:
    left = ":" if align in ("left", "center") else "-"
    right = ":" if align in ("right", "center") else "-"
    return left + "-" * (width - 2) + right


# ---- lines, fences, markers ------------------------------------------------------------------

def _split_lines(text: str) -> list[str]:
    """Lines with their endings ("\\n" or "\\r\\n"); joining them gives `text` back."""
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    return [*lines, parts[-1]] if parts[-1] else lines


def _content(line: str) -> str:
    return line.removesuffix("\n").removesuffix("\r")


def _newline_of(line: str) -> str:
    return "\r\n" if line.endswith("\r\n") else "\n"


def _code_lines(lines: Sequence[str]) -> set[int]:
    """Indexes of lines inside fenced code blocks (fences included): not Markdown structure."""
    inside: set[int] = set()
    fence = ""
    for index, line in enumerate(lines):
        match = _FENCE.match(_content(line))
        if fence:
            inside.add(index)
            if match and match["fence"][0] == fence[0] and len(match["fence"]) >= len(fence):
                fence = ""
        elif match:
            inside.add(index)
            fence = match["fence"]
    return inside


def find_block(readme: str, *, name: str = "README.md") -> tuple[int, int] | None:
    """0-based line indexes of the start and end marker lines; None when there are none.

    Raises InputError (naming the README and the line) for a start without end, an end
    without start, or a second block.
    """
    lines = _split_lines(readme)
    code = _code_lines(lines)
    markers = [(index, _content(line).strip()) for index, line in enumerate(lines)
               if index not in code and _content(line).strip() in (START_MARKER, END_MARKER)]
    if not markers:
        return None
    (first, first_kind), *rest = markers
    if first_kind == END_MARKER:
        raise _marker_error(name, first, f"{END_MARKER} without a {START_MARKER} before it")
    if not rest:
        raise _marker_error(name, first, f"{START_MARKER} has no {END_MARKER} after it")
    (second, second_kind), *extra = rest
    if second_kind == START_MARKER:
        raise _marker_error(name, second, f"a second {START_MARKER} before the {END_MARKER} "
                                          f"of the block opened on line {first + 1}")
    if extra:
        raise _marker_error(name, extra[0][0], "a second calendar marker; formsync keeps one "
                                               f"block (lines {first + 1}-{second + 1})")
    return first, second


def _marker_error(name: str, index: int, message: str) -> InputError:
    return InputError(f"{name} line {index + 1}: {message}", fix=MARKERS_FIX)


def block_text(readme: str, *, name: str = "README.md") -> str | None:
    """The text between the markers, or None when the README has no markers."""
    found = find_block(readme, name=name)
    if found is None:
        return None
    start, end = found
    return "".join(_split_lines(readme)[start + 1:end])


def replace_block(readme: str, block: str, *, name: str = "README.md") -> str:
    """`readme` with the text between the markers replaced by `block`, written with the
    README's line endings; every byte outside the markers stays."""
    found = find_block(readme, name=name)
    if found is None:
        raise InputError(f"{name}: no {START_MARKER} ... {END_MARKER} block", fix=NO_TABLE_FIX)
    start, end = found
    lines = _split_lines(readme)
    newline = _newline_of(lines[start])
    body = block.replace("\r\n", "\n")
    body = body if not body or body.endswith("\n") else body + "\n"
    return "".join(lines[:start + 1]) + body.replace("\n", newline) + "".join(lines[end:])


def digest_of(block: str) -> str:
    """The digest formsync writes above the table it rendered (line endings do not count)."""
    return hashlib.sha256(block.replace("\r\n", "\n").encode("utf-8")).hexdigest()[:16]


def _with_digest(block: str) -> str:
    """`block` (the text between the markers) under the line that records its digest."""
    return DIGEST_LINE.format(digest=digest_of(block)) + "\n" + block


def recorded_digest(block: str) -> tuple[str | None, bool]:
    """The digest on the block's first line (None if it has none), and whether the rest of
    the block still matches it: True means nobody has edited the block since formsync wrote it."""
    first, _, rest = block.partition("\n")
    match = _DIGEST_LINE.match(first.strip())
    if match is None:
        return None, False
    return match["digest"], digest_of(rest) == match["digest"]


# ---- finding the table -----------------------------------------------------------------------

def _locate_table(lines: Sequence[str], first: int, end: int, code: set[int]
                  ) -> _TableSpan | None:
    """The first table in lines [first, end): header, delimiter row, rows with a pipe."""
    for index in range(first, end - 1):
        if index in code or index + 1 in code or not _is_table_start(lines, index):
            continue
        last = index + 2
        while last < end and last not in code and _is_table_row(_content(lines[last])):
            last += 1
        total = _total_line_above(lines, index, first)
        return _TableSpan(total if total is not None else index, index, last, total)
    return None


def _is_table_start(lines: Sequence[str], index: int) -> bool:
    header, delimiter = _content(lines[index]), _content(lines[index + 1])
    if "|" not in header or _HEADING.match(header):
        return False
    cells = split_row(delimiter)
    return (("|" in delimiter or len(cells) == 1) and len(cells) == len(split_row(header))
            and all(_DELIMITER_CELL.match(cell) for cell in cells))


def _is_table_row(content: str) -> bool:
    return "|" in content and not _HEADING.match(content)


def _total_line_above(lines: Sequence[str], header: int, first: int) -> int | None:
    """The "Total de sesiones: N" line above the table, with only blank lines between."""
    index = header - 1
    while index >= first and not _content(lines[index]).strip():
        index -= 1
    if index >= first and _TOTAL_LINE.match(_content(lines[index])):
        return index
    return None


def _calendar_sections(lines: Sequence[str], code: set[int]) -> Iterator[tuple[int, int]]:
    """[first, end) line ranges under each heading that names a calendar or schedule."""
    headings = [(index, len(match["level"]), fold(match["text"] or ""))
                for index, line in enumerate(lines) if index not in code
                for match in [_HEADING.match(_content(line))] if match]
    for position, (index, level, text) in enumerate(headings):
        if any(word in text for word in _CALENDAR_WORDS):
            end = next((other for other, other_level, _ in headings[position + 1:]
                        if other_level <= level), len(lines))
            yield index + 1, end


def _locate_calendar_table(lines: Sequence[str]) -> _TableSpan | None:
    code = _code_lines(lines)
    for first, end in _calendar_sections(lines, code):
        span = _locate_table(lines, first, end, code)
        if span is not None:
            return span
    return None


def _readme_table(readme: str, name: str) -> tuple[list[str], _TableSpan | None]:
    """The README's lines and its calendar table: inside the markers, else under the heading."""
    lines = _split_lines(readme)
    found = find_block(readme, name=name)
    if found is None:
        return lines, _locate_calendar_table(lines)
    start, end = found
    return lines, _locate_table(lines, start + 1, end, _code_lines(lines))


# ---- migration -------------------------------------------------------------------------------

def migrate(readme: str, *, name: str = "README.md") -> str | None:
    """Put the markers around the calendar table (and the total line right above it).

    Only the two marker lines are added. A README that already has markers comes back as it
    is; None when there is no table under a Calendario/Calendar/Schedule heading.
    """
    if find_block(readme, name=name) is not None:
        return readme
    lines = _split_lines(readme)
    span = _locate_calendar_table(lines)
    if span is None:
        return None
    newline = _newline_of(lines[span.header])
    table = "".join(lines[span.first:span.end])
    end_marker = END_MARKER + newline
    if not table.endswith("\n"):  # the table is the file's last line, without a newline
        table, end_marker = table + newline, END_MARKER
    return ("".join(lines[:span.first]) + START_MARKER + newline + table + end_marker
            + "".join(lines[span.end:]))


# ---- style -----------------------------------------------------------------------------------

def field_of(label: str) -> str | None:
    """The Session field a header label names (English or Spanish), if any."""
    key = fold(unescape_cell(label).replace("*", "").replace("_", ""))
    key = re.sub(r"\s*/\s*", "/", key)  # "Date / Time" is "Date/Time"
    return next((field for field, aliases in FIELD_ALIASES.items() if key in aliases), None)


def style_of(block: str) -> TableStyle | None:
    """How the table in `block` (the text between the markers) is written; None if no table."""
    lines = _split_lines(block)
    span = _locate_table(lines, 0, len(lines), _code_lines(lines))
    return None if span is None else _style(lines, span)[0]


def _style(lines: Sequence[str], span: _TableSpan) -> tuple[TableStyle, list[str]]:
    """The table's style and the header labels of columns formsync does not know."""
    header = split_row(_content(lines[span.header]))
    aligns = [_align(cell) for cell in split_row(_content(lines[span.header + 1]))]
    columns, unknown = [], []
    for label, align in zip(header, aligns, strict=True):
        field = field_of(label)
        if field is None:
            unknown.append(label)
        else:
            columns.append(Column(field, label, align))
    total = None
    if span.total is not None:
        match = _TOTAL_LINE.match(_content(lines[span.total]))
        total = match["label"] if match else None
    prefix, dash = _chapter_prefix(lines, span, columns)
    return TableStyle(tuple(columns), total, prefix, dash), unknown


def _align(delimiter: str) -> str:
    starts, ends = delimiter.startswith(":"), delimiter.endswith(":")
    return {(True, True): "center", (True, False): "left", (False, True): "right"}.get(
        (starts, ends), "")


def _chapter_prefix(lines: Sequence[str], span: _TableSpan, columns: Sequence[Column]
                    ) -> tuple[str, str]:
    """The most common "Session"/"Sesión" word of numbered chapters, and its dash."""
    header = split_row(_content(lines[span.header]))
    labels = [column.label for column in columns if column.field == CHAPTER]
    found: Counter[tuple[str, str]] = Counter()
    if labels:
        position = header.index(labels[0])
        for index in range(span.header + 2, span.end):
            cells = split_row(_content(lines[index]))
            match = _NUMBERED_CHAPTER.match(cells[position]) if position < len(cells) else None
            if match:
                found[(match["prefix"], match["dash"])] += 1
    if not found:
        return CHAPTER_PREFIXES["es"] if _looks_spanish(header) else "Session", "-"
    return found.most_common(1)[0][0]


def _looks_spanish(header: Sequence[str]) -> bool:
    return any(fold(label) in ("capitulo", "fecha/hora", "ejercicios") for label in header)


# ---- planning --------------------------------------------------------------------------------

def plan_readme(readme_text: str, sessions: Sequence[Session], *, language: str,
                name: str = "README.md") -> ReadmeResult:
    """The README with its calendar table re-rendered; new_text None when nothing changes.

    Marker mistakes and a missing table are returned as problems, not raised.
    """
    try:
        text = migrate(readme_text, name=name)
        if text is None:
            return ReadmeResult(None, problems=(
                Problem(STEP, NO_TABLE, sheet=name, fix=NO_TABLE_FIX, severity="error"),))
        style, unknown = _existing_style(text, name)
        block = render_block(sessions, language=language, style=style)
        new_text = replace_block(text, _with_digest(block), name=name)
    except InputError as error:
        return ReadmeResult(None, problems=(
            Problem(STEP, error.message, sheet=name, fix=error.fix, severity="error"),))
    problems = tuple(
        Problem(STEP, f"the calendar column {label!r} is not one formsync fills; it is dropped",
                sheet=name, column=label,
                fix="rename it (Chapter, Guide, Readings, Exercises, Date/Time, Slides, "
                    "Recording) or keep it in another table") for label in unknown)
    return ReadmeResult(new_text if new_text != readme_text else None, text != readme_text,
                        problems)


def _existing_style(readme: str, name: str) -> tuple[TableStyle | None, list[str]]:
    """The style of the table between the markers (None: write the default table)."""
    lines, span = _readme_table(readme, name)
    if span is None:
        return None, []
    style, unknown = _style(lines, span)
    return (style if style.columns else None), unknown


def table_style(readme: str, *, language: str, name: str = "README.md") -> TableStyle:
    """How the table between the markers is written (the default table if there is none)."""
    return _existing_style(readme, name)[0] or default_style(language)


def canonical_row(session: Session, style: TableStyle, language: str) -> dict[str, str]:
    """The Sessions cells `session` comes back as once rendered in `style` and imported: what
    an organizer reading the README sees, in the sheet's columns (SESSION_HEADER)."""
    cells = {column.field: _cell(session, column.field, style, language)
             for column in style.columns}
    prefixes = {fold(style.chapter_prefix), "session", "sesion"}
    row = _sheet_row(cells, prefixes, _Place("", 0, 0, ""))
    return dict(zip(SESSION_HEADER, row, strict=True))


# ---- import ----------------------------------------------------------------------------------

def import_table(readme_text: str, *, name: str = "README.md") -> Table:
    """The calendar table of a README as Sessions sheet rows (header SESSION_HEADER).

    The table is the one between the markers, else the one under the calendar heading. Columns
    are found by their labels. TBA cells come out blank, NA stays NA, cells are unescaped.
    """
    lines, span = _readme_table(readme_text, name)
    if span is None:
        raise InputError(f"{name}: {NO_TABLE}", fix=NO_TABLE_FIX)
    style, _ = _style(lines, span)
    header = split_row(_content(lines[span.header]))
    positions = _field_positions(header)
    if CHAPTER not in positions:
        raise InputError(f"{name} line {span.header + 1}: the calendar table has no Chapter "
                         "column", fix="name the first column Chapter (or Capítulo)")
    prefixes = {fold(style.chapter_prefix), "session", "sesion"}
    rows = []
    for number, index in enumerate(range(span.header + 2, span.end), start=1):
        cells = split_row(_content(lines[index]))
        by_field = {field: cells[position] if position < len(cells) else ""
                    for field, position in positions.items()}
        place = _Place(name, index + 1, number, header[positions.get(WHEN, 0)])
        row = _sheet_row(by_field, prefixes, place)
        if any(row):  # a row with nothing in it is no session (the Sessions sheet skips it too)
            rows.append(row)
    return Table(SESSIONS, SESSION_HEADER, tuple(rows))


@dataclass(frozen=True)
class _Place:
    """Where a table row is, for error messages."""

    name: str
    line: int
    row: int
    date_label: str


def _field_positions(header: Sequence[str]) -> dict[str, int]:
    positions: dict[str, int] = {}
    for position, label in enumerate(header):
        field = field_of(label)
        if field is not None:
            positions.setdefault(field, position)
    return positions


def _sheet_row(cells: Mapping[str, str], prefixes: set[str], place: _Place
               ) -> tuple[str, ...]:
    key, chapter = _split_chapter(cells.get(CHAPTER, ""), prefixes)
    date, start, end, proposed = _parse_when(unescape_cell(cells.get(WHEN, "")), place)
    row = {
        "Session": key, "Chapter": chapter, "Guide": _known(cells.get(GUIDE, "")),
        "Readings": _known(cells.get(READINGS, "")),
        "Exercises": _known(cells.get(EXERCISES, "")), "Date": date, "Start": start,
        "End": end, "Slides": _known(cells.get(SLIDES, "")),
        "Recording": _known(cells.get(RECORDING, "")), "Notes": "", "Proposed date": proposed,
    }
    return tuple(row[column] for column in SESSION_HEADER)


def _split_chapter(markdown: str, prefixes: set[str]) -> tuple[str, str]:
    """("3", "Linear Neural Networks") from "Session 3 - Linear Neural Networks"; a chapter
    without a known prefix and number is kept whole with a blank session key."""
    match = _NUMBERED_CHAPTER.match(markdown)
    if match is None or fold(match["prefix"]) not in prefixes:
        return "", unescape_cell(markdown)
    return str(int(match["number"])), unescape_cell(match["chapter"])


def _known(markdown: str) -> str:
    """The cell's text; TBA (not known yet) is blank."""
    text = unescape_cell(markdown)
    return "" if text.casefold() in UNKNOWN_WORDS else text


def _parse_when(text: str, place: _Place) -> tuple[str, str, str, str]:
    """(Date, Start, End, Proposed date) sheet cells from a Date/Time cell."""
    if text.casefold() in ("", "-", *UNKNOWN_WORDS):
        return "", "", "", ""
    match = _WHEN.match(text)
    note = (match["note"] or "").strip().casefold() if match else ""
    if match is None or (note and note not in _TENTATIVE_NOTES):
        raise _date_error(text, place)
    try:
        day, start, end = (parse_date(match["date"]), parse_time(match["start"] or ""),
                           parse_time(match["end"] or ""))
    except ValueError as error:
        raise _date_error(text, place, str(error)) from None
    if day is None:
        raise _date_error(text, place)
    start_text = _time_text(start) if start else ""
    if match["tilde"] or note:
        return "", "", "", f"{day.isoformat()} {start_text or '00:00'}"
    return day.isoformat(), start_text, _time_text(end) if start and end else "", ""


def _date_error(text: str, place: _Place, reason: str = "") -> InputError:
    because = f" ({reason})" if reason else ""
    return InputError(f"{text!r} is not a date and time{because}",
                      sheet=f"{place.name} line {place.line}", row=place.row,
                      column=place.date_label, fix=DATE_FIX)


def _plan_step(context: PlanContext) -> StepPlan:
    config, text = context.config, context.snapshot.readme_text
    path = config.path(config.readme.path)
    if text is None:
        return StepPlan(STEP, problems=(context.snapshot.readme_problem or Problem(
            STEP, f"README not found at {path}", fix=(
                "set [readme] path in formsync.toml to the README file, or enabled = false to "
                "skip this step")),))
    if not context.sessions:
        return StepPlan(STEP)
    from formsync.readme_edits import find_edits  # it builds on this module

    language = config.group.language
    try:  # no email address in public
        found = find_edits(text, context, public_sessions(context.sessions, context.members),
                           name=path.name)
    except InputError as error:
        return StepPlan(STEP, problems=(Problem(STEP, error.message, fix=(  # names the line
            f"{error.fix}; until then the README is left as it is"), severity="error"),))
    after = context.after(StepPlan(STEP, edits=found.edits))
    public = public_sessions(after.sessions, after.members)
    shown = found.shown(public, language)
    result = _with_homework_counts(plan_readme(text, shown, language=language), text,
                                   context, path.name)
    record = found.record(public, shown, language=language, name=path.name)
    actions: tuple[Action, ...] = (
        *_readme_change(path, result),
        *_record_change(path, record, context.snapshot.readme_record))
    return StepPlan(STEP, edits=found.edits, actions=actions,
                    problems=(*found.problems, *result.problems))


def _with_homework_counts(result: ReadmeResult, text: str, context: PlanContext,
                          name: str) -> ReadmeResult:
    from formsync.homework.readme import with_counts

    counted, problems = with_counts(result.new_text or text, context, name)
    return ReadmeResult(counted if counted != text else None, result.migrated,
                        (*result.problems, *problems))


def _readme_change(path: Path, result: ReadmeResult) -> list[ReadmeChange]:
    if result.new_text is None:
        return []
    verb = "add the formsync markers around the calendar table and rewrite it" \
        if result.migrated else "rewrite the calendar table"
    return [ReadmeChange(path, result.new_text, result.migrated, f"{verb} in {path.name}")]


def _record_change(readme: Path, record: str | None, old: str | None) -> list[RecordChange]:
    from formsync.readme_edits import record_path

    if record is None or record == old:
        return []
    path = record_path(readme)
    return [RecordChange(path, record, "remember the calendar table as written, in "
                                       f"{path.relative_to(readme.parent)}")]


def _apply_step(result: StepPlan, context: ApplyContext) -> list[Problem]:
    from formsync.local.files import write_if_changed

    problems: list[Problem] = []
    for change in result.actions:  # the README, then the record of it
        assert isinstance(change, ReadmeChange | RecordChange)
        if problems:
            break  # a record of a README that was not written would be wrong
        try:
            write_if_changed(change.path, change.new_text)
        except OSError as error:
            problems.append(Problem(STEP, f"could not write {change.path}: "
                                          f"{error.strerror or error}", fix=(
                f"let the user running formsync create files in {change.path.parent} (the "
                "README is replaced by a new file written beside it), or set [readme] enabled "
                "= false to skip this step"), severity="error"))
    return problems


SYNC_STEP = Step(STEP, _plan_step, apply=_apply_step,
                 enabled=lambda config: config.readme.enabled)
