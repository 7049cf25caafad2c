"""The emulator's HTTP server: routing, Google-shaped errors, call counters, faults, saved state."""

from __future__ import annotations

import fnmatch
import json
import re
import sys
import threading
import traceback
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Protocol, cast

from formsync.local.files import write_atomically

if TYPE_CHECKING:
    from formsync.emulator.oauth import OAuthApi
    from formsync.emulator.sheets import SheetsApi
    from formsync.emulator.webhook import WebhookApi

Kind = Literal["read", "write", "auth"]
FaultKind = Literal["429", "500", "503", "slow", "late", "drop", "drop_after"]
FAULT_KINDS = ("429", "500", "503", "slow", "late", "drop", "drop_after")
STATE_FORMAT = 1

# Google's quota names, used in the body of an injected 429.
_SERVICE_HOSTS = {"sheets": "sheets.googleapis.com", "calendar": "calendar-json.googleapis.com",
                  "gmail": "gmail.googleapis.com"}


# ---------------------------------------------------------------------------------------------
# Requests, replies and errors


@dataclass(frozen=True)
class Caller:
    """Who a bearer token speaks for: the delegated subject if any, else the account itself."""

    principal: str
    client: str
    scopes: frozenset[str]
    # A service account's own token (no `sub`): it has no Gmail mailbox of its own.
    bare_service_account: bool = False


@dataclass
class ApiRequest:
    method: str
    path: str
    params: dict[str, str]  # named groups of the route pattern, percent-decoded
    query: dict[str, list[str]]
    headers: dict[str, str]  # names lower-cased
    body: bytes
    caller: Caller | None = None

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def args(self, name: str) -> list[str]:
        return self.query.get(name, [])

    def json(self) -> Any:
        if not self.body:
            return {}
        try:
            return json.loads(self.body)
        except ValueError:
            raise ApiError(400, "Invalid JSON payload received.", "INVALID_ARGUMENT") from None


@dataclass
class Reply:
    status: int = 200
    body: Any = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


class ApiError(Exception):
    """An error answered in Google's JSON shape: {"error": {"code", "message", "status"}}."""

    def __init__(self, code: int, message: str, status: str, *,
                 details: list[dict[str, Any]] | None = None,
                 headers: dict[str, str] | None = None, reason: str = "") -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status
        self.details = details or []
        self.headers = headers or {}
        self.reason = reason  # the legacy `errors[].reason`, e.g. "failedPrecondition"

    def reply(self) -> Reply:
        error: dict[str, Any] = {"code": self.code, "message": self.message, "status": self.status}
        if self.reason:
            error["errors"] = [{"message": self.message, "domain": "global",
                                "reason": self.reason}]
        if self.details:
            error["details"] = self.details
        return Reply(self.code, {"error": error}, dict(self.headers))


def not_found() -> ApiError:
    return ApiError(404, "Requested entity was not found.", "NOT_FOUND")


def bad_request(message: str) -> ApiError:
    return ApiError(400, message, "INVALID_ARGUMENT")


# ---------------------------------------------------------------------------------------------
# Routing


Handler = Callable[[ApiRequest], Reply]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    name: str  # counter and fault name, e.g. "sheets.values.batchGet"
    handler: Handler
    kind: Kind
    scopes: frozenset[str]  # the token needs one of these; empty: no token needed


class Router:
    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, method: str, pattern: str, name: str, handler: Handler, *, kind: Kind,
            scopes: Iterable[str] = ()) -> None:
        """Route `method` on a path matching the regex `pattern` (matched on the raw path)."""
        self.routes.append(Route(method.upper(), re.compile(pattern), name, handler, kind,
                                 frozenset(scopes)))

    def resolve(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            match = route.pattern.match(path)
            if route.method == method and match:
                return route, {key: urllib.parse.unquote(value)
                               for key, value in match.groupdict().items()}
        return None


class EmulatorState:
    """All emulated data, one JSON-serializable dict per API, guarded by one lock."""

    def __init__(self, data: dict[str, dict[str, Any]] | None = None) -> None:
        self.lock = threading.RLock()
        self.data: dict[str, dict[str, Any]] = data if data is not None else {}
        self.base_url = ""

    def section(self, api: str) -> dict[str, Any]:
        return self.data.setdefault(api, {})


class Api(Protocol):
    """What an API module provides: a name, a constructor taking the state, and its routes."""

    name: str

    def register(self, router: Router) -> None: ...


def _api_classes() -> list[Callable[[EmulatorState], Api]]:
    # Adding an API: write its module, then add its class here (see the package docstring).
    from formsync.emulator.calendar import CalendarApi
    from formsync.emulator.gmail import GmailApi
    from formsync.emulator.oauth import OAuthApi
    from formsync.emulator.sheets import SheetsApi
    from formsync.emulator.webhook import WebhookApi
    return [OAuthApi, SheetsApi, CalendarApi, GmailApi, WebhookApi]


# ---------------------------------------------------------------------------------------------
# Counters and faults


@dataclass(frozen=True)
class CallCounts:
    """Requests received per method name, e.g. counts["sheets.values.batchGet"]."""

    by_name: Mapping[str, int]
    kinds: Mapping[str, Kind]

    def __getitem__(self, name: str) -> int:
        return self.by_name.get(name, 0)

    def __sub__(self, earlier: CallCounts) -> CallCounts:
        names = set(self.by_name) | set(earlier.by_name)
        delta = {name: self[name] - earlier[name] for name in names}
        return CallCounts({k: v for k, v in delta.items() if v}, {**earlier.kinds, **self.kinds})

    def of(self, api: str) -> CallCounts:
        """Only the calls of one API ("sheets", "calendar", "gmail", "oauth")."""
        return CallCounts({k: v for k, v in self.by_name.items() if k.split(".")[0] == api},
                          self.kinds)

    def _of_kind(self, kind: Kind) -> int:
        return sum(n for name, n in self.by_name.items() if self.kinds.get(name) == kind)

    @property
    def reads(self) -> int:
        return self._of_kind("read")

    @property
    def writes(self) -> int:
        return self._of_kind("write")

    @property
    def total(self) -> int:
        return sum(self.by_name.values())


@dataclass
class _Fault:
    target: str
    kind: FaultKind
    remaining: int
    seconds: float
    retry_after: int | None

    def matches(self, route: Route, path: str) -> bool:
        pattern = self.target
        return fnmatch.fnmatchcase(path if pattern.startswith("/") else route.name, pattern)


def _quota_error(route: Route, retry_after: int | None) -> ApiError:
    api = route.name.split(".")[0]
    service = _SERVICE_HOSTS.get(api, f"{api}.googleapis.com")
    metric = "Write requests" if route.kind == "write" else "Read requests"
    limit = f"{metric} per minute per user"
    message = (f"Quota exceeded for quota metric '{metric}' and limit '{limit}' of service "
               f"'{service}' for consumer 'project_number:000000000000'.")
    details = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "RATE_LIMIT_EXCEEDED", "domain": "googleapis.com",
                "metadata": {"service": service, "quota_metric": f"{service}/{metric}",
                             "quota_limit": limit.replace(" ", ""),
                             "consumer": "projects/000000000000"}}]
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    return ApiError(429, message, "RESOURCE_EXHAUSTED", details=details, headers=headers)


_SERVER_ERRORS = {
    "500": ApiError(500, "Internal error encountered.", "INTERNAL"),
    "503": ApiError(503, "The service is currently unavailable.", "UNAVAILABLE"),
}


# ---------------------------------------------------------------------------------------------
# The HTTP layer


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    emulator: Emulator

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up on a slow answer is expected; anything else is worth a trace.
        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes
    server: _Server

    def do_GET(self) -> None:
        self.server.emulator.handle(self)

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def send_reply(self, reply: Reply) -> None:
        self.send_response(reply.status)
        if reply.status == 204:  # No Content: a body here would corrupt a keep-alive stream
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            return
        payload = json.dumps(reply.body, ensure_ascii=False).encode("utf-8")
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def drop(self) -> None:
        self.close_connection = True


class Emulator:
    """Google Workspace APIs on a loopback port, for the real client libraries.

    >>> with Emulator() as emulator:
    ...     emulator.sheets.create_spreadsheet("abc", {"Sheet1": [["Email"]]})
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0,
                 state: dict[str, dict[str, Any]] | None = None) -> None:
        self.host, self._requested_port = host, port
        self.state = EmulatorState(state)
        self.router = Router()
        self.apis: dict[str, Api] = {}
        for api_class in _api_classes():
            api = api_class(self.state)
            api.register(self.router)
            self.apis[api.name] = api
        self._counts: Counter[str] = Counter()
        self._kinds = {route.name: route.kind for route in self.router.routes}
        self._faults: list[_Fault] = []
        self._faults_lock = threading.Lock()
        self._held = 0  # requests a slow or late fault holds right now
        self._held_changed = threading.Condition(self._faults_lock)
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> Emulator:
        server = _Server((self.host, self._requested_port), _Handler)
        server.emulator = self
        self._server = server
        self._stopping.clear()
        self.state.base_url = self.base_url
        self._thread = threading.Thread(target=server.serve_forever, args=(0.05,),
                                        name="formsync-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Emulator:
        return self.start() if self._server is None else self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the emulator is not running; call start() first")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/token"

    # -- the APIs ---------------------------------------------------------------------------

    @property
    def oauth(self) -> OAuthApi:
        return cast("OAuthApi", self.apis["oauth"])

    @property
    def sheets(self) -> SheetsApi:
        return cast("SheetsApi", self.apis["sheets"])

    @property
    def webhook(self) -> WebhookApi:
        return cast("WebhookApi", self.apis["webhook"])

    # -- counters ---------------------------------------------------------------------------

    def counts(self) -> CallCounts:
        """A snapshot of requests received; subtract an earlier snapshot to count a step."""
        with self._faults_lock:
            return CallCounts(dict(self._counts), dict(self._kinds))

    def reset_counts(self) -> None:
        with self._faults_lock:
            self._counts.clear()

    # -- faults -----------------------------------------------------------------------------

    def inject(self, target: str, fault: FaultKind | int, count: int = 1, *,
               seconds: float = 1.0, retry_after: int | None = 1) -> None:
        """Make the next `count` requests matching `target` fail.

        `target` is a method name glob ("sheets.values.append", "sheets.*") or, starting with
        "/", a raw path glob. Faults: 429 (quota, with Retry-After unless None), 500, 503,
        "slow" (answer after `seconds`), "late" (apply the request `seconds` after it
        arrived, whether or not the client still waits, then close without answering: Google
        may apply a request after the client timed out), "drop" (close without answering,
        nothing applied), "drop_after" (apply the request, then close without answering).
        Other requests are served meanwhile, so a rerun can overtake a late write.
        """
        kind = cast("FaultKind", str(fault))
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {fault!r}")
        with self._faults_lock:
            self._faults.append(_Fault(target, kind, count, seconds, retry_after))

    def wait_for_held_requests(self, timeout: float = 10.0) -> bool:
        """Wait until every request held by a slow or late fault has been applied; False if
        some are still held after `timeout` seconds."""
        with self._held_changed:
            return self._held_changed.wait_for(lambda: self._held == 0, timeout)

    def clear_faults(self) -> None:
        with self._faults_lock:
            self._faults.clear()

    def _take(self, route: Route, path: str) -> _Fault | None:
        with self._faults_lock:
            self._counts[route.name] += 1
            for fault in self._faults:
                if fault.remaining > 0 and fault.matches(route, path):
                    fault.remaining -= 1
                    self._held += fault.kind in ("slow", "late")
                    return fault
        return None

    # -- state ------------------------------------------------------------------------------

    def save(self, path: Path) -> None:
        """Write every API's data as JSON (atomically: temp file, then rename)."""
        with self.state.lock:
            text = json.dumps({"format": STATE_FORMAT, "data": self.state.data},
                              ensure_ascii=False, indent=1)
        write_atomically(path, text)

    @classmethod
    def load(cls, path: Path, host: str = "127.0.0.1", port: int = 0) -> Emulator:
        saved = json.loads(path.read_text(encoding="utf-8"))
        if saved.get("format") != STATE_FORMAT:
            raise ValueError(f"{path} is not an emulator state file (format {STATE_FORMAT})")
        return cls(host, port, state=saved["data"])

    def reset(self) -> None:
        """Forget all data, counts and faults (registered credentials too)."""
        with self.state.lock:
            self.state.data.clear()
        self.clear_faults()
        self.reset_counts()

    # -- one request ------------------------------------------------------------------------

    def handle(self, handler: _Handler) -> None:
        body = handler.read_body()
        url = urllib.parse.urlsplit(handler.path)
        resolved = self.router.resolve(handler.command, url.path)
        if resolved is None:
            handler.send_reply(not_found().reply())
            return
        route, params = resolved
        fault = self._take(route, url.path)
        held = fault is not None and fault.kind in ("slow", "late")
        try:
            self._serve(handler, route, params, url, body, fault)
        finally:
            if held:
                with self._held_changed:
                    self._held -= 1
                    self._held_changed.notify_all()

    def _serve(self, handler: _Handler, route: Route, params: dict[str, str],
               url: urllib.parse.SplitResult, body: bytes, fault: _Fault | None) -> None:
        if fault is not None and fault.kind in ("slow", "late"):
            self._stopping.wait(fault.seconds)
        elif fault is not None and fault.kind == "drop":
            handler.drop()
            return
        elif fault is not None and fault.kind not in ("drop_after", "late"):
            error = (_quota_error(route, fault.retry_after) if fault.kind == "429"
                     else _SERVER_ERRORS[fault.kind])
            handler.send_reply(error.reply())
            return
        request = ApiRequest(handler.command, url.path, params,
                             urllib.parse.parse_qs(url.query, keep_blank_values=True),
                             {name.lower(): value for name, value in handler.headers.items()},
                             body)
        reply = self._answer(route, request)
        if fault is not None and fault.kind in ("drop_after", "late"):
            handler.drop()
            return
        handler.send_reply(reply)

    def _answer(self, route: Route, request: ApiRequest) -> Reply:
        try:
            if route.scopes:
                request.caller = self.oauth.authenticate(request.header("Authorization"))
                if not route.scopes & request.caller.scopes:
                    raise _insufficient_scopes()
            from formsync.emulator.discovery import check_request  # it imports this module

            check_request(route.name, request)
            with self.state.lock:
                return route.handler(request)
        except ApiError as error:
            return error.reply()
        except Exception:
            traceback.print_exc(file=sys.stderr)
            return _SERVER_ERRORS["500"].reply()


def _insufficient_scopes() -> ApiError:
    details = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT", "domain": "googleapis.com"}]
    return ApiError(403, "Request had insufficient authentication scopes.", "PERMISSION_DENIED",
                    details=details)


def run_emulator(host: str = "127.0.0.1", port: int = 8765, state_file: Path | None = None,
                 *, credentials_out: Path | None = None,
                 echo: Callable[[str], None] = print,
                 stop: threading.Event | None = None) -> None:
    """Serve until Ctrl-C (or `stop` is set), loading `state_file` if it exists and saving it
    on the way out.

    With `credentials_out`, also write a service-account key file that the emulator accepts
    (its token_uri points here), so `formsync` can be pointed at this emulator.
    """
    emulator = (Emulator.load(state_file, host, port) if state_file and state_file.exists()
                else Emulator(host, port))
    emulator.start()
    echo(f"Google Workspace emulator listening on {emulator.base_url}")
    if credentials_out is not None:
        from formsync.emulator.testing import make_service_account
        info = make_service_account(emulator)
        credentials_out.write_text(json.dumps(info, indent=2), encoding="utf-8")
        echo(f"service account key for it: {credentials_out}")
    echo("press Ctrl-C to stop" + (f"; state is saved to {state_file}" if state_file else ""))
    try:
        (stop or threading.Event()).wait()
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
        if state_file is not None:
            emulator.save(state_file)
            echo(f"state saved to {state_file}")
