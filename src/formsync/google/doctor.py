"""`formsync doctor`: is the Google set-up able to sync? One line per check, a fix per failure.

About five API calls in all: one token exchange, one `spreadsheets.get` and one `values.batchGet`
(header rows only) per spreadsheet. A check that fails stops the checks that depend on it, so
the first failure is the one to fix. Other steps (Calendar, Gmail) add their own checks through
`extra`. Messages never contain a key, token or secret (they come redacted from formsync.google).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import google.auth.exceptions
import requests
from google.auth.credentials import Credentials
from google.auth.transport.requests import Request as AuthRequest

from formsync.columns import (
    MEMBER_ALIASES,
    RESPONSE_ALIASES,
    SESSION_ALIASES,
    locate,
)
from formsync.config import Config
from formsync.errors import FormsyncError
from formsync.google.auth import (
    SCOPE_CALENDAR,
    SCOPE_SHEETS,
    explain_refresh_error,
    load_credentials,
    redact,
)
from formsync.google.sheets import GoogleSheets, SpreadsheetInfo, SpreadsheetRef
from formsync.google.transport import RetryPolicy
from formsync.model import MEMBERS, REMINDERS, RESPONSES, SESSIONS, Table

_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""

    def lines(self) -> list[str]:
        mark = "ok  " if self.ok else "FAIL"
        head = f"{mark} {self.name}: {self.detail}"
        return [head, f"     fix: {self.fix}"] if self.fix and not self.ok else [head]


@dataclass(frozen=True)
class DoctorContext:
    """What extra checks get: the config, working credentials and the retry policy."""

    config: Config
    credentials: Credentials
    policy: RetryPolicy
    scopes: tuple[str, ...]


ExtraCheck = Callable[[DoctorContext], Check | Iterable[Check]]


def required_scopes(config: Config) -> tuple[str, ...]:
    """The OAuth scopes the enabled steps need."""
    scopes = [SCOPE_SHEETS]
    if config.calendar.enabled:
        scopes.append(SCOPE_CALENDAR)
    if config.reminders.enabled and config.reminders.transport == "gmail":
        from formsync.reminders.transports import GMAIL_COMPOSE

        scopes.append(GMAIL_COMPOSE)
    return tuple(scopes)


def run_doctor(config: Config, *, credentials: Credentials | None = None,
               policy: RetryPolicy | None = None,
               extra: Sequence[ExtraCheck] = ()) -> list[Check]:
    """Every check, in order; stops at the first failure that later checks depend on."""
    policy = policy or RetryPolicy.from_config(config.google)
    scopes = required_scopes(config)
    checks = [Check("config", True, f"backend {config.backend.kind}; time zone "
                                    f"{config.group.timezone}")]
    if credentials is None:
        loaded = _load(config, scopes)
        checks.append(loaded[0])
        if loaded[1] is None:
            return checks
        credentials = loaded[1]
    token = _token_check(config, credentials, policy)
    checks.append(token)
    if not token.ok:
        return checks
    checks.append(_scope_check(credentials, scopes))
    checks += _spreadsheet_checks(config, credentials, policy)
    context = DoctorContext(config, credentials, policy, scopes)
    for check in extra:
        checks += _run_extra(check, context)
    return checks


def render_checks(checks: Sequence[Check]) -> list[str]:
    lines = [line for check in checks for line in check.lines()]
    failed = sum(not check.ok for check in checks)
    lines.append("all checks passed" if not failed else
                 f"{failed} check{'s' if failed != 1 else ''} failed")
    return lines


# ---------------------------------------------------------------------------------------------
# Credentials and token


def _account(credentials: Credentials) -> str:
    email = getattr(credentials, "service_account_email", None)
    if isinstance(email, str) and email:
        return f"service account {email}"
    return "OAuth user token"


def _load(config: Config, scopes: Sequence[str]) -> tuple[Check, Credentials | None]:
    try:
        credentials = load_credentials(config.google, scopes, base_dir=config.root)
    except FormsyncError as error:
        return Check("credentials", False, error.message, error.fix), None
    return Check("credentials", True, _account(credentials)), credentials


class _TimedRequest(AuthRequest):
    """google-auth's request with formsync's timeout, and no proxy for a loopback token URI."""

    def __init__(self, timeout: float, token_uri: str) -> None:
        session = requests.Session()
        if (urllib.parse.urlsplit(token_uri).hostname or "") in _LOOPBACK:
            session.trust_env = False
        super().__init__(session)
        self.timeout = timeout

    def __call__(self, url: str, method: str = "GET", body: Any = None,
                 headers: Any = None, timeout: Any = None, **kwargs: Any) -> Any:
        return super().__call__(  # type: ignore[no-untyped-call]
            url, method, body, headers, timeout=self.timeout, **kwargs)


def _token_check(config: Config, credentials: Credentials, policy: RetryPolicy) -> Check:
    request = _TimedRequest(policy.timeout, config.google.token_uri)
    try:
        credentials.refresh(request)  # type: ignore[no-untyped-call]
    except google.auth.exceptions.RefreshError as error:
        refused = explain_refresh_error(error, credentials)
        return Check("token", False, refused.message, refused.fix)
    except google.auth.exceptions.TransportError as error:
        return Check("token", False, f"cannot reach {config.google.token_uri}: "
                                     f"{redact(str(error))[:200]}",
                     "check the network connection (and google.token_uri if you changed it)")
    return Check("token", True, f"Google issued an access token to {_account(credentials)}")


def _scope_check(credentials: Credentials, scopes: Sequence[str]) -> Check:
    short = ", ".join(scope.rsplit("/", 1)[-1] for scope in scopes)
    granted = getattr(credentials, "granted_scopes", None) or getattr(credentials, "scopes",
                                                                       None)
    if getattr(credentials, "service_account_email", None) or not granted:
        return Check("scopes", True, f"requested {short}")
    missing = [scope for scope in scopes if scope not in set(granted)]
    if missing:
        return Check("scopes", False, "the saved token lacks "
                                      f"{', '.join(s.rsplit('/', 1)[-1] for s in missing)}",
                     "run 'formsync auth login' again and allow every permission it asks for")
    return Check("scopes", True, f"granted {short}")


# ---------------------------------------------------------------------------------------------
# Spreadsheets and worksheets


def _spreadsheet_checks(config: Config, credentials: Credentials, policy: RetryPolicy
                        ) -> list[Check]:
    try:
        sheets = GoogleSheets.from_config(config, credentials=credentials, policy=policy)
    except FormsyncError as error:
        return [Check("master spreadsheet", False, error.message, error.fix)]
    checks = []
    opened: dict[str, SpreadsheetInfo] = {}
    refs: list[tuple[str, SpreadsheetRef | None]] = [("responses spreadsheet", sheets.responses),
                                                     ("master spreadsheet", sheets.master)]
    for label, ref in refs:
        check, info = _open(sheets, label, ref, config.group.timezone)
        checks.append(check)
        if info is not None:
            opened[label] = info
    if "responses spreadsheet" in opened:
        checks += _responses_checks(sheets, config)
    if "master spreadsheet" in opened:
        checks += _master_checks(sheets, opened["master spreadsheet"])
    return checks


def _open(sheets: GoogleSheets, label: str, ref: SpreadsheetRef | None, group_zone: str
          ) -> tuple[Check, SpreadsheetInfo | None]:
    if ref is None:
        return Check(label, False, "google.responses_spreadsheet is not set",
                     "set it to the id (or URL) of the spreadsheet the Google Form writes to"
                     ), None
    try:
        info = sheets.metadata(ref)
    except FormsyncError as error:
        return Check(label, False, error.message, error.fix), None
    titles = ", ".join(info.worksheets) or "no worksheets"
    detail = f"{info.title!r} opens; worksheets: {titles}"
    if info.time_zone and info.time_zone != group_zone:
        detail += (f"; its time zone is {info.time_zone}: its dates are read as "
                   f"{group_zone} times (File → Settings → Time zone)")
    return Check(label, True, detail), info


def _responses_checks(sheets: GoogleSheets, config: Config) -> list[Check]:
    try:
        ref, title = sheets.locate(RESPONSES)
        if title is None:
            return [Check("responses worksheet", False, "the spreadsheet has no worksheet",
                          "check google.responses_spreadsheet")]
        header = sheets.header_rows(ref, [title])[title]
    except FormsyncError as error:
        return [Check("responses worksheet", False, error.message, error.fix)]
    return [_email_column_check(title, header, config.form.email_column)]


def _email_column_check(title: str, header: tuple[str, ...], email_column: str) -> Check:
    columns = locate(Table(RESPONSES, header), RESPONSE_ALIASES, {"Email": email_column})
    if not header:
        return Check("responses worksheet", True, f"{title!r} has no responses yet")
    if not columns.has("Email"):
        return Check("responses worksheet", False,
                     f"{title!r} has no email column in {list(header)[:6]!r}",
                     "set [form] email_column in formsync.toml to the question's header")
    return Check("responses worksheet", True,
                 f"{title!r}: email in column {columns.header_of('Email')!r}")


_Rule = tuple[dict[str, tuple[str, ...]], tuple[tuple[str, ...], ...], str]
_RULES: dict[str, _Rule] = {
    # worksheet: (aliases, columns it cannot do without (any of each group), what happens
    # when the worksheet is missing; "" when that is a failure)
    SESSIONS: (SESSION_ALIASES, (("Session", "Chapter"), ("Date",)), ""),
    MEMBERS: (MEMBER_ALIASES, (("Email",),), "the first sync creates it"),
    REMINDERS: ({}, (), "the reminders step creates it"),
}


def _master_checks(sheets: GoogleSheets, info: SpreadsheetInfo) -> list[Check]:
    present = [name for name in _RULES if name in info.worksheets]
    try:
        headers = sheets.header_rows(sheets.master, present)
    except FormsyncError as error:
        return [Check("worksheets", False, error.message, error.fix)]
    return [_worksheet_check(name, headers.get(name), sheets.overrides) for name in _RULES]


def _worksheet_check(name: str, header: tuple[str, ...] | None,
                     overrides: dict[str, str]) -> Check:
    aliases, needed, when_missing = _RULES[name]
    label = f"worksheet {name}"
    if header is None:
        if when_missing:
            return Check(label, True, f"not there yet; {when_missing}")
        return Check(label, False, "missing from the master spreadsheet",
                     "run 'formsync init --backend google' to create it, then fill in the "
                     "sessions")
    if not aliases:
        return Check(label, True, f"{len(header)} columns")
    columns = locate(Table(name, header), aliases, overrides)
    lacking = [" or ".join(repr(c) for c in group) for group in needed
               if not any(columns.has(c) for c in group)]
    if lacking:
        return Check(label, False, f"no {', '.join(lacking)} column in the header "
                                   f"{list(header)[:8]!r}",
                     "add the column to row 1, or map it in [columns] of formsync.toml")
    absent = [column for column in aliases if not columns.has(column)]
    note = f"; formsync adds {', '.join(absent)}" if name == MEMBERS and absent else (
        f"; optional columns not found: {', '.join(absent)}" if absent else "")
    return Check(label, True, f"header found ({len(header)} columns){note}")


def _run_extra(check: ExtraCheck, context: DoctorContext) -> list[Check]:
    try:
        result = check(context)
    except FormsyncError as error:
        name = getattr(check, "__name__", "check").removeprefix("check_").replace("_", " ")
        return [Check(name, False, error.message, error.fix)]
    return [result] if isinstance(result, Check) else list(result)


__all__ = ["Check", "DoctorContext", "ExtraCheck", "render_checks",
           "required_scopes", "run_doctor"]
