"""HTTP to Google: one requests session with base-URL rewriting, timeouts and bounded retries.

Every Google call (gspread for Sheets, googleapiclient for Calendar and Gmail) goes through
`GoogleSession`, a google-auth `AuthorizedSession` (which refreshes an expired token once on a
401) that also:
  * sends requests for https://sheets.googleapis.com, https://www.googleapis.com and
    https://gmail.googleapis.com to the configured base URLs (gspread has no option for it);
  * puts `google.timeout_seconds` on every request;
  * retries 429, 500, 502, 503, 504, timeouts and dropped connections with exponential
    backoff and full jitter, honouring Retry-After, within `google.retry_deadline_seconds`
    for the whole run, then raises RetryBudgetSpentError naming the API (and the quota, for
    429). The budget is the policy's: every session built with one RetryPolicy shares it.
A dropped connection or timeout is retried only for requests that are safe to repeat: an
append, a send or an insert may have been applied, so repeating it could write twice. A write
that timed out is never repeated either: Google may still be applying it, and applied after the
repeat and the writes that follow it, it would put an older value back (seen in the fault
matrix on the reminders ledger). The next run reads the sheet again and writes what is missing.
"""

from __future__ import annotations

import json
import random
import re
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import google.auth.exceptions
import requests
from google.auth.credentials import Credentials
from google.auth.transport.requests import AuthorizedSession
from google.auth.transport.requests import Request as AuthRequest

from formsync.config import Google
from formsync.errors import BackendError
from formsync.google.auth import explain_refresh_error, redact

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
_NETWORK_ERRORS = (requests.ConnectionError, requests.Timeout,
                   requests.exceptions.ChunkedEncodingError)
# POSTs whose effect is the same however often they arrive.
_REPEATABLE_POSTS = re.compile(r"(:batchGet|/values:batchUpdate|:batchClear|:clear)$")


@dataclass
class RetryBudget:
    """The seconds of retrying a run has used: those of every call that failed at least once,
    from its first attempt to its end (failed attempts, backoff sleeps). Calls that succeed at
    first try cost nothing: the budget bounds waiting for Google to recover, not the work."""

    used: float = 0.0
    spent: bool = False


@dataclass(frozen=True)
class RetryPolicy:
    """How long one request may take, and how failed ones are retried within one retry
    budget of `deadline` seconds for the whole run: build one policy per run and give it to
    every session. Inject sleep/clock in tests to run retries without waiting."""

    timeout: float = 30.0
    deadline: float = 120.0
    base_delay: float = 1.0
    max_delay: float = 32.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    jitter: Callable[[], float] = field(default=random.random)
    budget: RetryBudget = field(default_factory=RetryBudget, compare=False)

    @classmethod
    def from_config(cls, cfg: Google, **overrides: Any) -> RetryPolicy:
        return cls(timeout=cfg.timeout_seconds, deadline=cfg.retry_deadline_seconds, **overrides)

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Full jitter: uniform in [0, min(max, base·2^attempt)), never below Retry-After."""
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        return max(float(self.jitter()) * ceiling, retry_after or 0.0)

    def may_wait(self, elapsed: float, wait: float) -> bool:
        """May a failed call that has taken `elapsed` s wait `wait` s and try again? The first
        call told no spends the budget: later calls that fail are not retried at all, so a
        run under a lasting outage ends near the deadline instead of deadline × calls."""
        if self.budget.used + elapsed + wait > self.deadline:
            self.budget.spent = True
        return not self.budget.spent


@dataclass(frozen=True)
class _Call:
    api: str  # "Google Sheets API"
    operation: str  # "values.batchGet"
    method: str
    path: str

    @property
    def writes(self) -> bool:
        return self.method not in ("GET", "HEAD", "OPTIONS") and not self.path.endswith(
            ":batchGet")

    @property
    def repeatable(self) -> bool:
        if self.method in ("GET", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"):
            return True
        return bool(_REPEATABLE_POSTS.search(self.path))


def describe_call(method: str, url: str) -> _Call:
    """Which API and operation a URL is, for messages: ("Google Sheets API", "values.get")."""
    path = urllib.parse.urlsplit(url).path
    method = method.upper()
    if path.startswith("/v4/spreadsheets"):
        return _Call("Google Sheets API", _sheets_operation(method, path), method, path)
    for marker, api in (("/calendar/v3", "Google Calendar API"), ("/gmail/v1", "Gmail API"),
                        ("/drive/v", "Google Drive API")):
        if marker in path:
            return _Call(api, f"{method} {path.split(marker, 1)[1] or '/'}", method, path)
    return _Call("Google API", f"{method} {path}", method, path)


def _sheets_operation(method: str, path: str) -> str:
    head, _, rest = path.removeprefix("/v4/spreadsheets").lstrip("/").partition("/")
    if rest.startswith("values:"):
        return "values." + rest.partition(":")[2]
    if rest.startswith("values/"):
        for action in ("append", "clear"):
            if rest.endswith(":" + action):
                return f"values.{action}"
        return "values.update" if method == "PUT" else "values.get"
    if head.endswith(":batchUpdate"):
        return "spreadsheets.batchUpdate"
    return "spreadsheets.get" if method == "GET" else "spreadsheets.create"


class _LoopbackWithoutProxy(requests.Session):
    """Never send loopback traffic (the emulator) through an HTTP(S)_PROXY from the env."""

    def request(self, method: str | bytes, url: str | bytes, *args: Any,
                **kwargs: Any) -> requests.Response:
        host = urllib.parse.urlsplit(str(url)).hostname or ""
        if host in _LOOPBACK_HOSTS:
            kwargs["proxies"] = {"http": None, "https": None}
        return super().request(method, url, *args, **kwargs)


class GoogleSession(AuthorizedSession):
    def __init__(self, credentials: Credentials, cfg: Google, policy: RetryPolicy) -> None:
        super().__init__(  # type: ignore[no-untyped-call]  # google-auth has no annotations
            credentials, auth_request=AuthRequest(_LoopbackWithoutProxy()))
        self.policy = policy
        self._rewrites = [(prefix, configured.rstrip("/")) for prefix, configured in (
            ("https://sheets.googleapis.com", cfg.sheets_base_url),
            ("https://www.googleapis.com", cfg.calendar_base_url),
            ("https://gmail.googleapis.com", cfg.gmail_base_url),
        ) if configured.rstrip("/") != prefix]

    def rewrite(self, url: str) -> str:
        for prefix, configured in self._rewrites:
            if url == prefix or url.startswith(prefix + "/"):
                return configured + url[len(prefix):]
        return url

    def request(  # type: ignore[override]  # the signature google-auth calls it with
            self, method: str, url: str, data: Any = None,
            headers: Mapping[str, str] | None = None, **kwargs: Any) -> requests.Response:
        if "_credential_refresh_attempt" in kwargs:
            # google-auth repeating the call after refreshing on a 401: send it as it is.
            return self._send(method, url, data, headers, kwargs)
        url = self.rewrite(url)
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.policy.timeout
        return self._with_retries(describe_call(method, url), url, data, headers, kwargs)

    def _send(self, method: str, url: str, data: Any, headers: Mapping[str, str] | None,
              kwargs: dict[str, Any]) -> requests.Response:
        host = urllib.parse.urlsplit(url).hostname or ""
        if host in _LOOPBACK_HOSTS:
            kwargs["proxies"] = {"http": None, "https": None}
        try:
            response: requests.Response = super().request(  # type: ignore[no-untyped-call]
                method, url, data=data, headers=headers, **kwargs)
        except google.auth.exceptions.RefreshError as error:
            if getattr(error, "retryable", False):
                raise requests.ConnectionError(redact(str(error))) from None
            raise explain_refresh_error(error, self.credentials) from None
        except google.auth.exceptions.TransportError as error:
            raise requests.ConnectionError(redact(str(error))) from None
        return response

    def _attempt(self, call: _Call, url: str, data: Any, headers: Mapping[str, str] | None,
                 kwargs: dict[str, Any]) -> requests.Response | Exception:
        """One try: Google's answer, or the network error when the call may be repeated."""
        try:
            return self._send(call.method, url, data, headers, dict(kwargs))
        except _NETWORK_ERRORS as error:
            if not call.repeatable or (isinstance(error, requests.ReadTimeout) and call.writes):
                raise _unknown_outcome(call, error) from None
            return error

    def _with_retries(self, call: _Call, url: str, data: Any,
                      headers: Mapping[str, str] | None,
                      kwargs: dict[str, Any]) -> requests.Response:
        policy = self.policy
        started = policy.clock()
        attempt = 0
        failure: requests.Response | Exception | None = None  # the last retryable one
        try:
            while True:
                attempt += 1
                outcome = self._attempt(call, url, data, headers, kwargs)
                if isinstance(outcome, requests.Response) \
                        and outcome.status_code not in RETRY_STATUSES:
                    return outcome
                failure = outcome
                wait = policy.delay(attempt, _retry_after(outcome))
                elapsed = policy.clock() - started
                if not policy.may_wait(elapsed, wait):
                    raise _gave_up(call, failure, attempt, elapsed, policy)
                policy.sleep(wait)
        finally:
            if failure is not None:  # this call was retried (or given up): it drew on the budget
                policy.budget.used += policy.clock() - started


def _retry_after(response: requests.Response | Exception) -> float | None:
    if not isinstance(response, requests.Response):
        return None
    value = response.headers.get("Retry-After", "").strip()
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None  # an HTTP date; Google sends seconds


def _google_error(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def _quota_name(error: Mapping[str, Any]) -> str:
    match = re.search(r"limit '([^']+)'", str(error.get("message", "")))
    if match:
        return match.group(1)
    for detail in error.get("details") or []:
        limit = (detail.get("metadata") or {}).get("quota_limit") if isinstance(detail, dict) \
            else None
        if limit:
            return str(limit)
    return "requests per minute"


class RetryBudgetSpentError(BackendError):
    """A call failed in a way worth retrying, but the run's retry budget has no room left."""


def _gave_up(call: _Call, failure: requests.Response | Exception, attempts: int,
             elapsed: float, policy: RetryPolicy) -> RetryBudgetSpentError:
    tried = f"{attempts} attempt{'s' if attempts != 1 else ''} over {elapsed:.0f} s"
    spent = (f"the run's retry budget of {policy.deadline:g} s "
             "(google.retry_deadline_seconds) is spent")
    if isinstance(failure, Exception):
        return RetryBudgetSpentError(
            f"{call.api} did not answer {call.operation} ({type(failure).__name__}; timeout "
            f"{policy.timeout:g} s, {tried}); {spent}",
            fix="check the network connection, or raise google.timeout_seconds")
    if failure.status_code == 429:
        quota = _quota_name(_google_error(failure))
        return RetryBudgetSpentError(
            f"{call.api} quota exceeded ({quota}) on {call.operation}; still refused after "
            f"{tried}, and {spent}",
            fix="wait a minute and run again, lower the schedule (run formsync less often), or "
                f"request more quota in the Google Cloud console (APIs & Services → {call.api} "
                "→ Quotas)")
    message = redact(str(_google_error(failure).get("message") or failure.reason or ""))
    return RetryBudgetSpentError(
        f"{call.api} kept failing on {call.operation}: HTTP {failure.status_code} {message} "
        f"({tried}); {spent}",
        fix="Google may be having an outage (https://www.google.com/appsstatus); run again later")


class UnknownOutcomeError(BackendError):
    """A write that is not safe to repeat lost its connection: it may or may not have applied."""


def _unknown_outcome(call: _Call, error: Exception) -> UnknownOutcomeError:
    return UnknownOutcomeError(
        f"{call.api}: the connection was lost during {call.operation} "
        f"({type(error).__name__}); Google may or may not have applied it",
        fix="run the same command again: formsync reads what was written before writing again")


def api_error(status: int, body: bytes | str, *, url: str = "", what: str = "",
              account: str = "") -> BackendError:
    """A refused Google call (gspread APIError, googleapiclient HttpError) as a BackendError.

    `what` names the thing (e.g. "spreadsheet 1AbC… (google.master_spreadsheet)") and `account`
    the identity to share it with.
    """
    try:
        parsed = json.loads(body) if body else {}
    except ValueError:
        parsed = {}
    error = parsed.get("error") if isinstance(parsed, dict) else None
    message = str(error.get("message", "")) if isinstance(error, dict) else ""
    message = redact(message or (body.decode("utf-8", "replace") if isinstance(body, bytes)
                                 else body)[:200])
    api = describe_call("GET", url).api if url else "Google"
    subject = f"{api} refused {what}" if what else f"{api} refused the request"
    return BackendError(f"{subject}: HTTP {status} {message}".rstrip(),
                        fix=_fix_for(status, message, what, account))


def _fix_for(status: int, message: str, what: str, account: str) -> str:
    if status == 404:
        return (f"check the id of {what or 'the document'} in formsync.toml (the long id in "
                "its URL)")
    if status == 403 and "scope" in message:
        return ("the credentials lack the needed scope: run 'formsync auth login' again, or "
                "grant the scope to the service account's delegation")
    if status == 403:
        who = account or "the service account's client_email"
        return f"share {what or 'the document'} with {who} (as Editor)"
    if status == 401:
        return "check the credentials (google.credentials_file / google.oauth_token_file)"
    return "check the request the message names; if it persists, report it as a formsync bug"


# ---------------------------------------------------------------------------------------------
# Factories


def google_session(cfg: Google, credentials: Credentials, *,
                   policy: RetryPolicy | None = None) -> GoogleSession:
    return GoogleSession(credentials, cfg, policy or RetryPolicy.from_config(cfg))


def open_gspread_client(cfg: Google, credentials: Credentials, *,
                        policy: RetryPolicy | None = None) -> Any:
    """A gspread.Client whose every request goes through a GoogleSession.

    (Not gspread's BackOffHTTPClient: in 6.2.1 it retries without any bound.)
    """
    import gspread

    session = google_session(cfg, credentials, policy=policy)
    client = gspread.Client(credentials, session=session)
    client.set_timeout(session.policy.timeout)
    return client


class RequestsHttp:
    """The httplib2.Http interface googleapiclient calls, served by a GoogleSession.

    Why not googleapiclient's own retries (`execute(num_retries=n)`)? They sleep a fixed
    2^n·rand seconds with no total deadline, ignore Retry-After and cannot be made fast in
    tests; httplib2 also reads proxy settings for loopback hosts. Sending through the same
    requests session as gspread gives Calendar and Gmail the same timeout, retry, 401-refresh
    and base-URL behaviour. Keep googleapiclient's num_retries at 0.
    """

    def __init__(self, session: GoogleSession) -> None:
        self.session = session

    def request(self, uri: str, method: str = "GET", body: Any = None,
                headers: Mapping[str, str] | None = None, redirections: int = 5,
                connection_type: Any = None) -> tuple[Any, bytes]:
        import httplib2

        response = self.session.request(method, uri, data=body, headers=dict(headers or {}),
                                        allow_redirects=redirections > 0)
        info = {name.lower(): value for name, value in response.headers.items()
                if name.lower() not in ("content-encoding", "transfer-encoding")}
        info["status"] = str(response.status_code)
        result = httplib2.Response(info)
        result.reason = response.reason
        return result, response.content


def build_service(name: str, version: str, cfg: Google, credentials: Credentials, *,
                  policy: RetryPolicy | None = None) -> Any:
    """A googleapiclient Resource from the discovery document shipped with the library
    (no network), aimed at the configured base URL, sending through a GoogleSession."""
    from googleapiclient.discovery import build
    from googleapiclient.discovery_cache import get_static_doc

    document = get_static_doc(name, version)
    if document is None:
        raise BackendError(f"google-api-python-client has no discovery document for "
                           f"{name} {version}", fix="upgrade google-api-python-client")
    service_path = json.loads(document).get("servicePath", "")
    base = {"calendar": cfg.calendar_base_url, "gmail": cfg.gmail_base_url,
            "sheets": cfg.sheets_base_url}.get(name, "https://www.googleapis.com")
    http = RequestsHttp(google_session(cfg, credentials, policy=policy))
    return build(name, version, http=http, static_discovery=True, cache_discovery=False,
                 client_options={"api_endpoint": f"{base.rstrip('/')}/{service_path}"})
