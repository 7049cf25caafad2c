"""`formsync doctor`: is the Google set-up able to sync? One line per check, a fix per failure.

About five API calls for the sheets: one token exchange, one `spreadsheets.get` and one
`values.batchGet` (header rows only) per spreadsheet. A check that fails stops the checks that
depend on it, so the first failure is the one to fix. Other steps add their own checks through
`extra` (`step_checks`: one `events.list` of one event for Calendar, one `drafts.list` of one
draft for Gmail), with the same credentials; nothing is written or sent. Messages never contain
a key, token or secret (they come redacted from formsync.google).
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
from formsync.doctor import Check, render_checks
from formsync.errors import FormsyncError
from formsync.google.auth import (
    SCOPE_CALENDAR,
    SCOPE_SHEETS,
    explain_refresh_error,
    load_credentials,
    redact,
)
from formsync.google.sheets import GoogleSheets, SpreadsheetInfo, SpreadsheetRef
from formsync.google.transport import RetryPolicy, api_error, build_service
from formsync.model import MEMBERS, REMINDERS, RESPONSES, SESSIONS, SUBMISSIONS, Table

_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


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
        from formsync.google.auth import GMAIL_COMPOSE

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
    identity, context = _identity_checks(config, credentials, policy, scopes)
    checks += identity
    if context is None:
        return checks
    checks += _spreadsheet_checks(config, context.credentials, policy)
    for check in extra:
        checks += _run_extra(check, context)
    return checks


def step_checks(config: Config) -> list[ExtraCheck]:
    """The `extra` checks of the enabled steps that use Google besides the sheets."""
    checks: list[ExtraCheck] = []
    if config.calendar.enabled:
        checks.append(check_calendar)
    if config.reminders.enabled and config.reminders.transport == "gmail":
        checks.append(check_gmail)
    return checks


def run_gmail_doctor(config: Config, *, policy: RetryPolicy | None = None) -> list[Check]:
    """The local backend sending reminders by Gmail: credentials, token, then the mailbox."""
    from formsync.google.auth import GMAIL_COMPOSE

    policy = policy or RetryPolicy.from_config(config.google)
    checks, context = _identity_checks(config, None, policy, (GMAIL_COMPOSE,))
    return checks if context is None else checks + _run_extra(check_gmail, context)


# ---------------------------------------------------------------------------------------------
# Credentials and token


def _account(credentials: Credentials) -> str:
    email = getattr(credentials, "service_account_email", None)
    if isinstance(email, str) and email:
        return f"service account {email}"
    return "OAuth user token"


def _identity_checks(config: Config, credentials: Credentials | None, policy: RetryPolicy,
                     scopes: tuple[str, ...]) -> tuple[list[Check], DoctorContext | None]:
    """Credentials, token and scopes; the context for later checks when a token was issued."""
    checks = []
    if credentials is None:
        loaded, credentials = _load(config, scopes)
        checks.append(loaded)
        if credentials is None:
            return checks, None
    token = _token_check(config, credentials, policy)
    checks.append(token)
    if not token.ok:
        return checks, None
    checks.append(_scope_check(credentials, scopes))
    return checks, DoctorContext(config, credentials, policy, scopes)


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
    if config.homework.configured("google"):
        checks += _homework_checks(sheets, config)
    return checks


def _homework_checks(sheets: GoogleSheets, config: Config) -> list[Check]:
    """The homework Form's worksheet: it opens, and has email, session and link columns."""
    from formsync.homework.submissions import SUBMISSION_ALIASES, SUBMISSION_KEYWORDS

    label = "homework worksheet"
    try:
        ref, title = sheets.locate(SUBMISSIONS)
        if title is None:
            return [Check(label, False, "the spreadsheet has no worksheet",
                          "check [homework] responses_spreadsheet")]
        header = sheets.header_rows(ref, [title])[title]
    except FormsyncError as error:
        return [Check(label, False, error.message, error.fix)]
    if not header:
        return [Check(label, True, f"{title!r} has no submissions yet")]
    columns = locate(Table(SUBMISSIONS, header), SUBMISSION_ALIASES, None, SUBMISSION_KEYWORDS)
    missing = [n for n in ("Email", "Session", "Link") if not columns.has(n)]
    if missing:
        return [Check(label, False, f"{title!r} has no {', '.join(missing)} column in "
                                    f"{list(header)[:6]!r}",
                      "name the form's questions email, session (Sesión) and link (Enlace)")]
    return [Check(label, True, f"{title!r}: email, session and link columns found")]


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
    titles = {name: title for name in _RULES if (title := info.title_of(name))}
    try:
        headers = sheets.header_rows(sheets.master, list(titles.values()))
    except FormsyncError as error:
        return [Check("worksheets", False, error.message, error.fix)]
    return [_worksheet_check(name, headers.get(titles.get(name, "")), sheets.overrides)
            for name in _RULES]


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


# ---------------------------------------------------------------------------------------------
# Calendar and Gmail (the `extra` checks of their steps)


def _bare_service_account(context: DoctorContext) -> bool:
    """A service account acting as itself: no mailbox, and it may not invite attendees."""
    email = getattr(context.credentials, "service_account_email", None)
    return isinstance(email, str) and bool(email) and not context.config.google.subject


def check_calendar(context: DoctorContext) -> list[Check]:
    """Read one event of the group's calendar; whether invitations can be sent."""
    from formsync.calendar.google import account_of

    account = account_of(context.credentials, context.config)
    checks = [_calendar_read_check(context, account)]
    if context.config.calendar.invite_members:
        checks.append(_invitations_check(context, account))
    return checks


def _calendar_read_check(context: DoctorContext, account: str) -> Check:
    from googleapiclient.errors import HttpError

    from formsync.calendar.google import GROUP_KEY

    config = context.config
    calendar_id = config.calendar.calendar_id
    share = (f"share the calendar with {account or 'these credentials'} (its settings → Share "
             f"with specific people → 'Make changes to events'), and set calendar.calendar_id "
             f"to its 'Calendar ID' (now {calendar_id!r})")
    if calendar_id == "primary" and _bare_service_account(context):
        return Check("calendar", False, f"calendar 'primary' is the service account's own "
                                        f"calendar ({account}), which members never see", share)
    service = build_service("calendar", "v3", config.google, context.credentials,
                            policy=context.policy)
    request = service.events().list(calendarId=calendar_id, maxResults=1,
                                    privateExtendedProperty=f"{GROUP_KEY}={config.group.name}")
    try:
        found = bool(request.execute().get("items"))
    except HttpError as error:
        status = int(error.resp.status)
        if status == 404:  # also what Google answers for a calendar not shared with the caller
            return Check("calendar", False, f"calendar {calendar_id!r} was not found, or is not "
                                            f"shared with {account or 'these credentials'}",
                         share)
        refused = api_error(status, error.content, url=str(error.uri or ""),
                            what=f"calendar {calendar_id!r}", account=account)
        return Check("calendar", False, refused.message, share if status == 403 else refused.fix)
    events = "has this group's events" if found else "no events of this group yet"
    return Check("calendar", True, f"calendar {calendar_id!r} readable as "
                                   f"{account or 'these credentials'}; {events}")


def _invitations_check(context: DoctorContext, account: str) -> Check:
    from formsync.calendar.google import ATTENDEES_FIX

    if _bare_service_account(context):
        return Check("calendar invitations", False,
                     f"calendar.invite_members is true, but {account} is a service account "
                     "without google.subject: Google refuses to add attendees "
                     "(403 forbiddenForServiceAccounts)", ATTENDEES_FIX)
    return Check("calendar invitations", True,
                 f"members are invited as {account or 'the OAuth user'} "
                 f"(calendar.send_updates = {context.config.calendar.send_updates!r})")


_GMAIL_IDENTITY_FIX = (
    "set [google] subject to the mailbox to send from (the service account needs domain-wide "
    "delegation for gmail.compose), or use OAuth credentials: run 'formsync auth login' and set "
    "google.oauth_token_file")


def check_gmail(context: DoctorContext) -> Check:
    """List at most one draft of the mailbox reminders go out from: a read that gmail.compose
    allows, made as the configured subject. Nothing is written."""
    from googleapiclient.errors import HttpError

    service = build_service("gmail", "v1", context.config.google, context.credentials,
                            policy=context.policy)
    mailbox = _mailbox(context)
    try:
        service.users().drafts().list(userId="me", maxResults=1).execute()
    except HttpError as error:
        refused = api_error(int(error.resp.status), error.content, url=str(error.uri or ""),
                            what=f"the mailbox of {mailbox}")
        return _gmail_refusal(int(error.resp.status), error.content, refused, context)
    return Check("gmail", True, f"the mailbox of {mailbox} answers drafts.list "
                                "(gmail.compose); nothing sent")


def _mailbox(context: DoctorContext) -> str:
    subject = context.config.google.subject
    if subject:
        return subject
    if _bare_service_account(context):
        return f"service account {getattr(context.credentials, 'service_account_email', '')}"
    account = getattr(context.credentials, "account", "")
    return account if isinstance(account, str) and account else "the OAuth user"


def _gmail_refusal(status: int, body: bytes, refused: FormsyncError, context: DoctorContext
                   ) -> Check:
    message = refused.message
    if status == 400 and b"failedPrecondition" in body:
        why = ("a service account has no mailbox of its own" if _bare_service_account(context)
               else "the mailbox cannot be used (is Gmail enabled for it?)")
        return Check("gmail", False, f"{message} ({why})", _GMAIL_IDENTITY_FIX)
    if status == 403 and "scope" not in refused.message:
        return Check("gmail", False, message, "enable the Gmail API in the credentials' Google "
                                              "Cloud project (APIs & Services → Library), and "
                                              "check that Gmail is on for the mailbox")
    return Check("gmail", False, message, refused.fix)


def _run_extra(check: ExtraCheck, context: DoctorContext) -> list[Check]:
    try:
        result = check(context)
    except FormsyncError as error:
        name = getattr(check, "__name__", "check").removeprefix("check_").replace("_", " ")
        return [Check(name, False, error.message, error.fix)]
    return [result] if isinstance(result, Check) else list(result)


__all__ = ["Check", "DoctorContext", "ExtraCheck", "check_calendar", "check_gmail",
           "render_checks", "required_scopes", "run_doctor", "run_gmail_doctor", "step_checks"]
