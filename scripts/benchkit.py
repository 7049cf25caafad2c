"""A study group of any size on the loopback Google emulator, and the benchmark that syncs it.

Used by `scripts/bench` (API calls, wall time and peak memory per step, beside a naive
tutorial-style baseline and a replay floor: the same HTTP requests sent again with no logic),
by `scripts/fault-matrix` and by the stress tests. Everything talks to the in-process emulator
(`formsync.emulator.Emulator`) through the real clients (gspread, googleapiclient, google-auth)
over loopback HTTP; nothing here reaches a real Google address.

Measured syncs run in a fresh Python process (`python -c ... child`) while the emulator runs
in this one, so peak memory (that process's VmHWM, see `peak_rss_mb`) is the sync's own:
interpreter, imports and the sync, not the emulator's copy of the sheets.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import datetime as dt
import json
import os
import random
import re
import statistics
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from formsync.config import Config, parse_config
from formsync.emulator import CallCounts, Emulator
from formsync.emulator.server import Route
from formsync.emulator.testing import google_settings, make_service_account
from formsync.google.cells import to_serial
from formsync.model import (
    HOMEWORK,
    MEMBER_HEADER,
    MEMBERS,
    PROBLEM_HEADER,
    PROBLEMS,
    REMINDER_HEADER,
    REMINDERS,
    SESSION_HEADER,
    SESSIONS,
)

if TYPE_CHECKING:
    import pandas as pd
    from google.auth.credentials import Credentials

    from formsync.google.transport import RetryPolicy
    from formsync.ports import Places
    from formsync.sync import Report

MASTER_ID = "bench-master-spreadsheet"
RESPONSES_ID = "bench-responses-spreadsheet"
RESPONSES_WORKSHEET = "Form Responses 1"
HOMEWORK_ID = "bench-homework-spreadsheet"  # the homework Form's responses
SUBMISSION_HEADER = ("Timestamp", "Email Address", "Session", "Link to your exercises")
CALENDAR_ID = "study-group@group.calendar.google.com"
GROUP_NAME = "Bench Study Group"
TIMEZONE = "America/Mexico_City"
ORGANIZER = "organizers@example.org"
CREDENTIALS_FILE = "service-account.json"
CHAT = "study-group-chat"  # the emulator's webhook channel the announce step posts to
CHAT_ENV = "FORMSYNC_BENCH_CHAT_URL"
WEBHOOK_TIMEOUT = 0.5  # seconds apprise waits for the webhook (the fault matrix's TIMEOUT)
NOW = dt.datetime(2020, 11, 12, 15, 30, tzinfo=dt.UTC)
FIRST_SESSION = dt.date(2020, 10, 20)
FIRST_RESPONSE = dt.datetime(2020, 10, 1, 9, 0)
RESPONSE_HEADER = ("Timestamp", "Email Address", "Name", "Would you like to guide a session?",
                   "Preferred language")
README_TEXT = ("# Bench Study Group\n\nWe read one chapter every two weeks.\n\n## Calendar\n\n"
               "<!-- formsync:calendar:start -->\n<!-- formsync:calendar:end -->\n\n"
               "## Contact\n\nWrite to organizers@example.org.\n")
ALL_STEPS = ("members", "sessions", "readme", "calendar", "reminders")
APIS = ("sheets", "calendar", "gmail")
_DTSTAMP = re.compile(rb"^DTSTAMP[:;].*\r?\n", re.MULTILINE)
_UNSTABLE_LEDGER_COLUMNS = frozenset({"Message id", "Detail"})
_VOLATILE_EVENT_FIELDS = frozenset({"etag", "updated", "created", "sequence", "htmlLink"})


# ---------------------------------------------------------------------------------------------
# The group: form responses and sessions of any size


@dataclass(frozen=True)
class GroupSpec:
    """How big a group is: distinct members, form responses (extra ones are re-submissions
    of earlier members) and sessions (the first half dated, the rest left for formsync to
    propose); `invalid` responses have an unusable email."""

    members: int
    sessions: int = 15
    responses: int | None = None  # default: members + 10 % re-submissions
    invalid: int = 0
    seed: int = 0
    submissions: int = 0  # homework Form responses (0: no homework Form)

    @property
    def response_count(self) -> int:
        return self.responses if self.responses is not None else self.members \
            + self.members // 10

    @property
    def label(self) -> str:
        homework = f" / {self.submissions} submissions" if self.submissions else ""
        return f"{self.members} members / {self.response_count} responses / " \
               f"{self.sessions} sessions{homework}"


def email_of(number: int) -> str:
    return f"member{number:06d}@example.org"


def response_row(number: int, moment: dt.datetime, *, email: str | None = None,
                 name: str | None = None) -> list[Any]:
    """One form response as the Form writes it (the timestamp a serial number)."""
    return [to_serial(moment), email if email is not None else email_of(number),
            name or f"Member {number}", ("Yes", "No", "Maybe")[number % 3],
            ("English", "Español")[number % 2]]


def response_rows(spec: GroupSpec) -> list[list[Any]]:
    """The responses worksheet: header, then rows in time order."""
    rng = random.Random(spec.seed)
    count = max(spec.response_count, spec.members)
    firsts = list(range(spec.members))
    repeats = [rng.randrange(spec.members) for _ in range(count - spec.members)] \
        if spec.members else []
    # Re-submissions come after the first answer: interleave them after the half-way mark.
    order: list[tuple[int, bool]] = [(n, False) for n in firsts]
    for number in repeats:
        at = rng.randrange(min(number + 1, len(order)), len(order) + 1)
        order.insert(at, (number, True))
    rows: list[list[Any]] = [list(RESPONSE_HEADER)]
    for index, (number, repeat) in enumerate(order):
        moment = FIRST_RESPONSE + dt.timedelta(minutes=index)
        name = f"Member {number} (updated)" if repeat else None
        email = email_of(number).upper() if repeat and number % 2 else None
        rows.append(response_row(number, moment, email=email, name=name))
    for extra in range(spec.invalid):
        moment = FIRST_RESPONSE + dt.timedelta(minutes=len(order) + extra)
        rows.append(response_row(900_000 + extra, moment, email=f"not-an-email-{extra}"))
    return rows


def submission_rows(spec: GroupSpec) -> list[list[Any]]:
    """The homework Form's worksheet: member i hands in session i // members + 1, on time (a
    day after it), as 'Session N' (the dropdown's text); every 10th one again, a new link."""
    rows: list[list[Any]] = [list(SUBMISSION_HEADER)]
    dated = max(1, (spec.sessions + 1) // 2)
    for index in range(spec.submissions):
        number = index // max(1, spec.members) % dated + 1
        day = FIRST_SESSION + dt.timedelta(days=14 * (number - 1) + 1)
        moment = dt.datetime.combine(day, dt.time(9)) + dt.timedelta(seconds=index % 3600)
        link = f"https://colab.example.org/{index}{'-v2' if index % 10 == 9 else ''}"
        rows.append([to_serial(moment), email_of(index % max(1, spec.members)),
                     f"Session {number}", link])
    return rows


def session_rows(spec: GroupSpec) -> list[list[Any]]:
    """The Sessions worksheet: the first half dated (fortnightly, 17:00–19:00), the rest not."""
    header = list(SESSION_HEADER)
    rows: list[list[Any]] = [header]
    dated = (spec.sessions + 1) // 2
    for number in range(1, spec.sessions + 1):
        row: dict[str, Any] = dict.fromkeys(header, "")
        row.update({"Session": number, "Chapter": f"Chapter {number}: Topic {number}",
                    "Readings": f"https://example.org/book/{number}",
                    "Exercises": f"Exercises {number}.1 to {number}.5"})
        if number <= dated:
            day = FIRST_SESSION + dt.timedelta(days=14 * (number - 1))
            row.update({"Date": to_serial(dt.datetime.combine(day, dt.time())),
                        "Start": 17 / 24, "End": 19 / 24})
        rows.append([row[name] for name in header])
    return rows


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def to_toml(data: Mapping[str, Mapping[str, object]]) -> str:
    """A two-level config dict as TOML (enough for formsync.toml)."""
    lines: list[str] = []
    for section, values in data.items():
        lines.append(f"[{section}]")
        lines += [f"{key} = {_toml_value(value)}" for key, value in values.items()]
        lines.append("")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# A group on the emulator


@dataclass(frozen=True)
class GroupState:
    """Everything a sync leaves behind, comparable between runs."""

    sheets: Mapping[str, tuple[tuple[object, ...], ...]]
    events: tuple[tuple[tuple[str, str], ...], ...]
    readme: bytes
    ics: bytes  # DTSTAMP lines removed
    mail: tuple[str, ...]  # the Message-ID of every message sent, in order
    posts: tuple[str, ...] = ()  # the chat posts the webhook received, sorted

    def differences(self, other: GroupState) -> list[str]:
        found = []
        for name in sorted(set(self.sheets) | set(other.sheets)):
            if self.sheets.get(name) != other.sheets.get(name):
                found.append(f"worksheet {name} differs")
        for label, mine, theirs in (("calendar events", self.events, other.events),
                                    ("README", self.readme, other.readme),
                                    ("calendar.ics", self.ics, other.ics),
                                    ("sent mail", self.mail, other.mail),
                                    ("chat posts", self.posts, other.posts)):
            if mine != theirs:
                found.append(f"{label} differ")
        return found


@dataclass
class SyncResult:
    report: Report | None
    error: str = ""
    calls: CallCounts | None = None

    @property
    def succeeded(self) -> bool:
        return self.report is not None and not self.report.failures and not self.error


class GoogleGroup:
    """A study group's spreadsheets, calendar, README and config, against one emulator."""

    def __init__(self, emulator: Emulator, root: Path, spec: GroupSpec, *,
                 timeout: float = 30.0, deadline: float = 120.0,
                 reminders: bool = True, mail_transport: str = "gmail",
                 announce: bool = False) -> None:
        self.emulator = emulator
        self.announce = announce  # post to the emulator's chat webhook (formsync.announce)
        self.root = root
        self.spec = spec
        self.timeout, self.deadline = timeout, deadline
        self.reminders = reminders
        self.mail_transport = mail_transport
        self._credentials: dict[tuple[str, ...], Credentials] = {}
        self._services: dict[tuple[str, int], tuple[Any, RetryPolicy | None]] = {}

    # -- set-up -----------------------------------------------------------------------------

    def seed(self) -> GoogleGroup:
        """Fill the emulator and the folder: responses, master sheet, calendar, README."""
        self.root.mkdir(parents=True, exist_ok=True)
        sheets = self.emulator.sheets
        sheets.create_spreadsheet(RESPONSES_ID, {RESPONSES_WORKSHEET: response_rows(self.spec)},
                                  title="Registration (Responses)")
        if self.spec.submissions:
            sheets.create_spreadsheet(HOMEWORK_ID, {RESPONSES_WORKSHEET: submission_rows(
                self.spec)}, title="Homework (Responses)")
        sessions = session_rows(self.spec)
        # An empty Homework worksheet, as the organizers' set-up leaves it: the first batchGet
        # then finds every worksheet it asks for.
        homework: dict[str, list[list[Any]]] = {HOMEWORK: []} if self.spec.submissions else {}
        sheets.create_spreadsheet(MASTER_ID, {SESSIONS: sessions, MEMBERS: [list(MEMBER_HEADER)],
                                              REMINDERS: [list(REMINDER_HEADER)],
                                              PROBLEMS: [list(PROBLEM_HEADER)], **homework},
                                  title=GROUP_NAME, rows=max(1000, len(sessions) + 10))
        self.calendar_api.add_calendar(CALENDAR_ID, time_zone=TIMEZONE)
        key = make_service_account(self.emulator)
        (self.root / CREDENTIALS_FILE).write_text(json.dumps(key), encoding="utf-8")
        (self.root / "README.md").write_text(README_TEXT, encoding="utf-8")
        self.write_config_file()
        return self

    @property
    def calendar_api(self) -> Any:
        return self.emulator.apis["calendar"]

    @property
    def gmail_api(self) -> Any:
        return self.emulator.apis["gmail"]

    def config_data(self) -> dict[str, dict[str, Any]]:
        data: dict[str, dict[str, Any]] = {
            "group": {"name": GROUP_NAME, "timezone": TIMEZONE, "language": "en",
                      "cadence_days": 14, "session_minutes": 120,
                      "organizers": [ORGANIZER]},
            "backend": {"kind": "google"},
            "google": google_settings(
                self.emulator, master_spreadsheet=MASTER_ID,
                responses_spreadsheet=RESPONSES_ID, responses_worksheet=RESPONSES_WORKSHEET,
                credentials_file=CREDENTIALS_FILE, timeout_seconds=self.timeout,
                retry_deadline_seconds=self.deadline,
                # Gmail has no mailbox for a service account acting as itself: it sends as
                # the organizers' address through domain-wide delegation.
                subject=ORGANIZER if self.mail_transport == "gmail" else ""),
            "readme": {"path": "README.md"},
            "calendar": {"calendar_id": CALENDAR_ID, "ics_path": "calendar.ics"},
            "reminders": {"enabled": self.reminders, "transport": self.mail_transport,
                          "from_address": f"{GROUP_NAME} <{ORGANIZER}>"},
        }
        if self.spec.submissions:
            data["homework"] = {"responses_spreadsheet": HOMEWORK_ID,
                                "worksheet": RESPONSES_WORKSHEET}
        if self.announce:  # the URL by variable, as a secret webhook: the label stays put
            os.environ[CHAT_ENV] = (f"json://127.0.0.1:{self.emulator.port}/webhook/{CHAT}"
                                    f"?rto={WEBHOOK_TIMEOUT}&cto={WEBHOOK_TIMEOUT}")
            data["announce"] = {"urls_env": [CHAT_ENV]}
        return data

    def config(self) -> Config:
        return parse_config(self.config_data(), self.root)

    def write_config_file(self) -> Path:
        path = self.root / "formsync.toml"
        path.write_text(to_toml(self.config_data()), encoding="utf-8")
        return path

    def steps(self, only: Collection[str] | None = None) -> list[str]:
        from formsync.sync import enabled_steps

        return enabled_steps(self.config(), only)

    # -- adapters ---------------------------------------------------------------------------

    def credentials(self, scopes: Sequence[str]) -> Credentials:
        """Credentials loaded once per scope set (a long-running process keeps its token)."""
        from formsync.google.auth import load_credentials

        key = tuple(scopes)
        if key not in self._credentials:
            config = self.config()
            self._credentials[key] = load_credentials(config.google, list(scopes),
                                                      base_dir=config.root)
        return self._credentials[key]

    def places(self, steps: Collection[str], policy: RetryPolicy | None = None) -> Places:
        """The adapters of one sync, as the CLI builds them but with `policy` on every call."""
        from formsync.backends import MirroredCalendar, ics_backend
        from formsync.calendar.google import GoogleCalendar, account_of
        from formsync.google.auth import SCOPE_CALENDAR, SCOPE_SHEETS
        from formsync.google.sheets import GoogleSheets
        from formsync.ports import Places

        config = self.config()
        sheets = GoogleSheets.from_config(config, credentials=self.credentials([SCOPE_SHEETS]),
                                          policy=policy)
        places = Places(sheets)
        if "calendar" in steps:
            credentials = self.credentials([SCOPE_CALENDAR])
            service = self._service("calendar", "v3", credentials, policy)
            google = GoogleCalendar(service, CALENDAR_ID, GROUP_NAME,
                                    account=account_of(credentials, config))
            places.calendar = MirroredCalendar(google, ics_backend(config))
        if "reminders" in steps and hasattr(places, "mail"):
            places.mail = self._mail(config, policy)
        return places

    def _mail(self, config: Config, policy: RetryPolicy | None) -> Any:
        from formsync.backends import build_transport

        if config.reminders.transport != "gmail":
            return build_transport(config)
        from formsync.google.auth import GMAIL_COMPOSE
        from formsync.reminders.transports import GmailTransport

        return GmailTransport(self._service("gmail", "v1", self.credentials([GMAIL_COMPOSE]),
                                            policy))

    def _service(self, name: str, version: str, credentials: Credentials,
                 policy: RetryPolicy | None) -> Any:
        """A googleapiclient service, built once per API and policy (building one parses
        the discovery document; the service itself keeps no state between calls)."""
        from formsync.google.transport import build_service

        key = (name, id(policy))
        if key not in self._services:
            self._services[key] = (build_service(name, version, self.config().google,
                                                 credentials, policy=policy), policy)
        return self._services[key][0]

    def sync(self, *, steps: Collection[str] | None = None, now: dt.datetime = NOW,
             policy: RetryPolicy | None = None) -> SyncResult:
        """One `formsync sync` in this process; a FormsyncError becomes `error`."""
        from formsync.errors import FormsyncError
        from formsync.sync import run_sync

        chosen = list(steps) if steps is not None else self.steps()
        before = self.emulator.counts()
        try:
            report = run_sync(self.config(), self.places(chosen, policy), now, steps=chosen)
        except FormsyncError as error:
            return SyncResult(None, error=str(error), calls=self.emulator.counts() - before)
        return SyncResult(report, calls=self.emulator.counts() - before)

    # -- what a sync left -------------------------------------------------------------------

    def state(self) -> GroupState:
        """What the sync left. The Reminders ledger is compared on its outcome columns (Kind,
        Session, Recipient, Status, Time): `Message id` is an id Gmail assigns (another one when
        a retried run made a new draft) and a run that recovers an interrupted send records an
        empty id and says so in `Detail`. The mail itself is compared by Message-ID."""
        sheets = {name: _stable_rows(name, self.emulator.sheets.values(
            MASTER_ID, name, "UNFORMATTED_VALUE"))
            for name in self.emulator.sheets.worksheet_titles(MASTER_ID)}
        events = tuple(sorted(
            tuple(sorted((key, json.dumps(value, sort_keys=True)) for key, value in event.items()
                         if key not in _VOLATILE_EVENT_FIELDS))
            for event in self.calendar_api.events(CALENDAR_ID)))
        readme = _read_bytes(self.root / "README.md")
        ics = _DTSTAMP.sub(b"", _read_bytes(self.root / "calendar.ics"))
        posts = tuple(sorted(str(post.get("message", ""))
                             for post in self.emulator.webhook.posts(CHAT)))
        return GroupState(sheets, events, readme, ics, tuple(self.sent_message_ids()), posts)

    def sent_message_ids(self) -> list[str]:
        """Message-IDs of the mail sent: Gmail's SENT label, or the outbox's `.eml` files."""
        if self.mail_transport == "gmail":
            return [str(message.get("Message-ID", "")) for message in
                    self.gmail_api.sent(ORGANIZER)]
        outbox = self.root / "outbox"
        return sorted(path.name for path in outbox.glob("*.eml")) if outbox.exists() else []

    def _service_account(self) -> str:
        info = json.loads((self.root / CREDENTIALS_FILE).read_text(encoding="utf-8"))
        return str(info["client_email"])

    def live_events(self) -> list[dict[str, Any]]:
        return [e for e in self.calendar_api.events(CALENDAR_ID) if e["status"] != "cancelled"]


def _stable_rows(sheet: str, values: Sequence[Sequence[object]]
                 ) -> tuple[tuple[object, ...], ...]:
    rows = tuple(tuple(row) for row in values)
    if sheet != REMINDERS or not rows:
        return rows
    kept = [i for i, name in enumerate(rows[0]) if name not in _UNSTABLE_LEDGER_COLUMNS]
    return tuple(tuple(row[i] if i < len(row) else "" for i in kept) for row in rows)


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return b""


# ---------------------------------------------------------------------------------------------
# Benchmark: one measured sync in a fresh process


@dataclass(frozen=True)
class Measured:
    """One measured run: calls per API (reads, writes), wall time and peak RSS."""

    label: str
    step: str
    scenario: str  # "full" or "no-op"
    calls: Mapping[str, tuple[int, int]]  # api -> (reads, writes)
    sheets_by_method: Mapping[str, int]
    wall_s: float
    peak_mb: float | None
    note: str = ""
    replay_s: float | None = None  # the same requests replayed with no logic (full syncs)
    replayed: int = 0  # how many requests that replay sent, token exchanges included


# The child imports this module from this folder (it is not part of the installed package).
CHILD_CODE = (f"import sys; sys.path.insert(0, {str(Path(__file__).resolve().parent)!r}); "
              "from benchkit import child_main; child_main()")


def child_main() -> None:
    """In a fresh process: run one sync (or the naive baseline, or a replay) and print what
    it cost."""
    request = json.loads(sys.argv[1])
    root = Path(request["root"])
    if request["mode"] == "replay":
        wall, problems = replay_file(root / REPLAY_FILE)
    else:
        started = time.perf_counter()
        problems = _child_sync(root, request)
        wall = time.perf_counter() - started
    print(json.dumps({"wall_s": wall, "peak_mb": peak_rss_mb(), "failures": problems}))


def peak_rss_mb() -> float:
    """This process's peak resident set size: Linux's VmHWM. Not getrusage's ru_maxrss, which
    a process started by (v)fork and exec inherits from its parent (here: the emulator's)."""
    try:
        status = Path("/proc/self/status").read_text(encoding="ascii")
    except OSError:
        status = ""
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # kB
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _child_sync(root: Path, request: Mapping[str, Any]) -> int:
    """The measured work of a child (its imports included): failures reported."""
    if request["mode"] == "naive":
        naive_sync(root, request["now"])
        return 0
    from formsync.cli import _places
    from formsync.config import load_config
    from formsync.sync import run_sync

    # The adapters as `formsync sync` builds them: one credential and one retry budget.
    config = load_config(root / "formsync.toml")
    steps = request["steps"]
    report = run_sync(config, _places(config, steps), dt.datetime.fromisoformat(request["now"]),
                      steps=steps)
    return len(report.failures)


def run_child(root: Path, *, mode: str = "sync", steps: Sequence[str] = ALL_STEPS,
              now: dt.datetime = NOW) -> dict[str, Any]:
    request = {"root": str(root), "mode": mode, "steps": list(steps), "now": now.isoformat()}
    done = subprocess.run([sys.executable, "-c", CHILD_CODE, json.dumps(request)],
                          capture_output=True, text=True, check=False, timeout=900)
    if done.returncode != 0:
        raise RuntimeError(f"benchmark child failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return cast(dict[str, Any], json.loads(done.stdout.strip().splitlines()[-1]))


def split_calls(counts: CallCounts) -> dict[str, tuple[int, int]]:
    return {api: (counts.of(api).reads, counts.of(api).writes) for api in APIS}


def measure(emulator: Emulator, group: GoogleGroup, *, step: str, scenario: str,
            steps: Sequence[str], mode: str = "sync", isolate: bool = True,
            note: str = "") -> Measured:
    """Run one sync of `group` (in a fresh process when `isolate`) and count its calls."""
    before = emulator.counts()
    if isolate:
        result = run_child(group.root, mode=mode, steps=steps)
        wall, peak = float(result["wall_s"]), float(result["peak_mb"])
    else:
        started = time.perf_counter()
        if mode == "naive":
            naive_sync(group.root, NOW.isoformat())
        else:
            done = group.sync(steps=steps)
            if not done.succeeded:
                raise RuntimeError(f"sync failed: {done.error or done.report}")
        wall, peak = time.perf_counter() - started, None
    calls = emulator.counts() - before
    return Measured(group.spec.label, step, scenario, split_calls(calls),
                    dict(calls.of("sheets").by_name), wall, peak, note)


# ---------------------------------------------------------------------------------------------
# The replay floor: the requests of a measured sync, sent again with no logic

REPLAY_FILE = "replay-requests.json"


@dataclass(frozen=True)
class Recorded:
    """One request as the emulator received it, enough to send it again byte for byte."""

    name: str  # the route, e.g. "sheets.values.batchGet"
    method: str
    target: str  # path and query string, as sent
    content_type: str
    token: str  # the bearer token it carried; "" if none
    body: bytes
    issued: str = ""  # for a token exchange: the token it issued, which later requests carry

    def to_json(self) -> dict[str, str]:
        fields = dataclasses.asdict(self)
        fields["body"] = base64.b64encode(self.body).decode("ascii")
        return fields

    @classmethod
    def from_json(cls, fields: Mapping[str, str]) -> Recorded:
        return cls(fields["name"], fields["method"], fields["target"], fields["content_type"],
                   fields["token"], base64.b64decode(fields["body"]), fields["issued"])


class RequestLoggingEmulator(Emulator):
    """The emulator, also keeping every routed request while `log` is a list."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.log: list[Recorded] | None = None

    def _serve(self, handler: Any, route: Route, params: dict[str, str],
               url: urllib.parse.SplitResult, body: bytes, fault: Any) -> None:
        log = self.log
        if log is not None:
            authorization = str(handler.headers.get("Authorization") or "")
            log.append(Recorded(route.name, handler.command, handler.path,
                                str(handler.headers.get("Content-Type") or ""),
                                authorization.partition(" ")[2].strip(), body))
        super()._serve(handler, route, params, url, body, fault)


def state_copy(emulator: Emulator) -> dict[str, dict[str, Any]]:
    with emulator.state.lock:
        return copy.deepcopy(emulator.state.data)


def restore_state(emulator: Emulator, data: Mapping[str, dict[str, Any]], *,
                  keep: Collection[str] = ()) -> None:
    """Put back the data `state_copy` took, but for the APIs in `keep`."""
    with emulator.state.lock:
        kept = {api: emulator.state.data[api] for api in keep if api in emulator.state.data}
        emulator.state.data.clear()
        emulator.state.data.update(copy.deepcopy(dict(data)))
        emulator.state.data.update(kept)


def with_issued_tokens(log: Sequence[Recorded], emulator: Emulator,
                       before: Mapping[str, dict[str, Any]]) -> list[Recorded]:
    """The log, each token exchange paired with the token it issued (in order: the sync's
    requests are sequential), so the replay can put its own tokens in their place."""
    known = set(before.get("oauth", {}).get("tokens", {}))
    issued = iter([t.token for t in emulator.oauth.issued_tokens() if t.token not in known])
    return [dataclasses.replace(call, issued=next(issued, "")) if call.name == "oauth.token"
            else call for call in log]


def replay(base_url: str, calls: Sequence[Recorded]) -> tuple[float, int]:
    """Send `calls` in order over one keep-alive session: (seconds, answers that were not 2xx).
    Only a token exchange's answer is parsed, for the token later requests carry."""
    import requests

    session = requests.Session()
    session.trust_env = False  # loopback: no proxy from the environment
    tokens: dict[str, str] = {}
    failed = 0
    started = time.perf_counter()
    for call in calls:
        headers = {"Content-Type": call.content_type} if call.content_type else {}
        if call.token:
            headers["Authorization"] = f"Bearer {tokens.get(call.token, call.token)}"
        response = session.request(call.method, base_url + call.target,
                                   data=call.body or None, headers=headers)
        if call.issued and response.ok:
            tokens[call.issued] = response.json()["access_token"]
        failed += not response.ok
    return time.perf_counter() - started, failed


def replay_file(path: Path) -> tuple[float, int]:
    saved = json.loads(path.read_text(encoding="utf-8"))
    return replay(saved["base_url"], [Recorded.from_json(call) for call in saved["calls"]])


def measure_replay(emulator: Emulator, group: GoogleGroup, log: Sequence[Recorded],
                   before: Mapping[str, dict[str, Any]], *, isolate: bool) -> float:
    """Replay `log` against the state the sync started from (in a fresh process when
    `isolate`, like the sync), then put back the state the sync left."""
    calls = with_issued_tokens(log, emulator, before)
    after = state_copy(emulator)
    restore_state(emulator, before)
    try:
        if isolate:
            saved = {"base_url": emulator.base_url, "calls": [c.to_json() for c in calls]}
            (group.root / REPLAY_FILE).write_text(json.dumps(saved), encoding="utf-8")
            result = run_child(group.root, mode="replay")
            wall, failed = float(result["wall_s"]), int(result["failures"])
        else:
            wall, failed = replay(emulator.base_url, calls)
    finally:
        restore_state(emulator, after)
    if failed:
        raise RuntimeError(f"the replay of {group.spec.label} had {failed} failed requests")
    return wall


# ---------------------------------------------------------------------------------------------
# The naive baseline: what tutorials do (gspread row by row, one insert per event)


def naive_sync(root: Path, now: str) -> None:
    """Members: `append_row` per new member; sessions: `update_cell` per proposed date;
    calendar: one `events.insert` per dated session, without listing first; README rewritten
    from the rows read. Through the same HTTP transport as formsync (so it reaches the
    emulator), but with none of its batching."""
    from formsync.config import load_config
    from formsync.google.auth import SCOPE_CALENDAR, SCOPE_SHEETS, load_credentials
    from formsync.google.transport import build_service, open_gspread_client

    config = load_config(root / "formsync.toml")
    cfg = config.google
    credentials = load_credentials(cfg, [SCOPE_SHEETS, SCOPE_CALENDAR], base_dir=config.root)
    client = open_gspread_client(cfg, credentials)
    responses = client.open_by_key(cfg.responses_spreadsheet).sheet1.get_all_values()
    master = client.open_by_key(cfg.master_spreadsheet)
    members_sheet = master.worksheet(MEMBERS)
    known = {row[0].strip().lower() for row in members_sheet.get_all_values()[1:] if row}
    for row in responses[1:]:
        email = str(row[1]).strip().lower()
        if "@" not in email or email in known:
            continue
        known.add(email)
        members_sheet.append_row([email, row[2], row[0], row[0], "active", row[3], row[4], ""],
                                 value_input_option="RAW")
    sessions_sheet = master.worksheet(SESSIONS)
    sessions = sessions_sheet.get_all_values()
    header = sessions[0]
    date_col, proposed_col = header.index("Date"), header.index("Proposed date")
    last = dt.date.fromisoformat(now[:10])
    for index, row in enumerate(sessions[1:], start=2):
        if not row[date_col] and not row[proposed_col]:
            last += dt.timedelta(days=14)
            sessions_sheet.update_cell(index, proposed_col + 1, f"{last.isoformat()} 17:00")
    service = build_service("calendar", "v3", cfg, credentials)
    table = ["| Session | Chapter | Date |", "| --- | --- | --- |"]
    for row in sessions[1:]:
        table.append(f"| {row[0]} | {row[1]} | {row[date_col]} |")
        if not row[date_col]:
            continue
        day = _naive_date(row[date_col])
        start = dt.datetime.combine(day, dt.time(17))
        service.events().insert(calendarId=config.calendar.calendar_id, body={
            "summary": row[1], "start": {"dateTime": start.isoformat(), "timeZone": TIMEZONE},
            "end": {"dateTime": (start + dt.timedelta(hours=2)).isoformat(),
                    "timeZone": TIMEZONE}}).execute()
    readme = root / "README.md"
    text = readme.read_text(encoding="utf-8")
    start_marker, end_marker = "<!-- formsync:calendar:start -->", "<!-- formsync:calendar:end -->"
    head, _, rest = text.partition(start_marker)
    _, _, tail = rest.partition(end_marker)
    readme.write_text(head + start_marker + "\n" + "\n".join(table) + "\n" + end_marker + tail,
                      encoding="utf-8")


def _naive_date(cell: str) -> dt.date:
    try:
        return dt.date(1899, 12, 30) + dt.timedelta(days=int(float(cell)))
    except ValueError:
        return dt.date.fromisoformat(cell.strip()[:10])


# ---------------------------------------------------------------------------------------------
# The benchmark


@dataclass
class BenchOptions:
    sizes: Sequence[int] = (100, 1000, 10000)
    sessions: Sequence[int] = (15, 200)
    responses: int = 100_000  # an extra group: the largest size with this many responses
    submissions: int = 0  # an extra group: the largest size and sessions, with homework
    baseline_cap: int = 1000  # the naive baseline runs up to this many members
    isolate: bool = True  # measure in fresh processes (peak RSS); False: in this process
    per_step: bool = True
    full_runs: int = 3  # each full sync and its replay: the fastest of this many runs
    help_runs: int = 7
    work_dir: Path = Path("bench-work")
    echo: Callable[[str], None] = print


@dataclass
class BenchResults:
    rows: list[Measured] = field(default_factory=list)
    help_ms: float | None = None
    reminders_wired: bool = False
    targets: list[dict[str, Any]] = field(default_factory=list)
    memory_method: str = ""

    def frame(self) -> pd.DataFrame:
        import pandas as pd

        records = []
        for row in self.rows:
            record: dict[str, Any] = {"group": row.label, "step": row.step,
                                      "scenario": row.scenario}
            for api in APIS:
                reads, writes = row.calls.get(api, (0, 0))
                record[f"{api} R"] = reads
                record[f"{api} W"] = writes
            record["wall s"] = round(row.wall_s, 3)
            record["peak MB"] = round(row.peak_mb, 1) if row.peak_mb is not None else None
            record["note"] = row.note
            records.append(record)
        return pd.DataFrame.from_records(records)


def _fresh_group(emulator: Emulator, options: BenchOptions, spec: GroupSpec, name: str
                 ) -> GoogleGroup:
    import shutil

    emulator.reset()
    root = options.work_dir / name
    shutil.rmtree(root, ignore_errors=True)
    return GoogleGroup(emulator, root, spec).seed()


def reminders_wired() -> bool:
    from formsync.ports import Places

    return "mail" in {f.name for f in dataclasses.fields(Places)}


def bench_group(emulator: RequestLoggingEmulator, options: BenchOptions, spec: GroupSpec,
                results: BenchResults) -> None:
    steps = [s for s in ALL_STEPS if s != "reminders" or results.reminders_wired]
    steps += ["homework"] if spec.submissions else []
    name = f"m{spec.members}-r{spec.response_count}-s{spec.sessions}-h{spec.submissions}"
    group = _fresh_group(emulator, options, spec, name)
    options.echo(f"  {spec.label}: full sync, then its replay")
    results.rows.append(measure_full(emulator, group, steps, isolate=options.isolate,
                                     runs=options.full_runs))
    results.rows.append(measure(emulator, group, step="all", scenario="no-op", steps=steps,
                                isolate=options.isolate))
    if options.per_step:
        group = _fresh_group(emulator, options, spec, name + "-steps")
        for step in steps:
            options.echo(f"  {spec.label}: --only {step}")
            results.rows.append(measure(emulator, group, step=step, scenario="full",
                                        steps=[step], isolate=options.isolate))
        for step in steps:
            results.rows.append(measure(emulator, group, step=step, scenario="no-op",
                                        steps=[step], isolate=options.isolate))
    _bench_baseline(emulator, options, spec, results, name)


def measure_full(emulator: RequestLoggingEmulator, group: GoogleGroup, steps: Sequence[str],
                 *, isolate: bool, runs: int = 1) -> Measured:
    """The full sync, recorded, then the replay of its requests from the same start; `runs`
    times each, alternately (so both see the same machine load): the fastest of each."""
    before, files = state_copy(emulator), folder_files(group.root)
    syncs, replays = [], []
    for _ in range(max(runs, 1)):
        # Tokens stay: an in-process group keeps the ones it was given.
        restore_state(emulator, before, keep=("oauth",))
        restore_files(group.root, files)
        start = state_copy(emulator)
        log: list[Recorded] = []
        emulator.log = log
        try:
            syncs.append(measure(emulator, group, step="all", scenario="full", steps=steps,
                                 isolate=isolate))
        finally:
            emulator.log = None
        replays.append(measure_replay(emulator, group, log, start, isolate=isolate))
    fastest = min(syncs, key=lambda row: row.wall_s)
    return dataclasses.replace(fastest, replay_s=min(replays), replayed=len(log))


def folder_files(root: Path) -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in root.rglob("*") if path.is_file()}


def restore_files(root: Path, files: Mapping[Path, bytes]) -> None:
    """Put the folder back as `folder_files` found it (what a sync writes: README, .ics)."""
    for path in root.rglob("*"):
        if path.is_file() and path not in files:
            path.unlink()
    for path, data in files.items():
        if not path.exists() or path.read_bytes() != data:
            path.write_bytes(data)


def _bench_baseline(emulator: Emulator, options: BenchOptions, spec: GroupSpec,
                    results: BenchResults, name: str) -> None:
    if spec.members <= options.baseline_cap:
        options.echo(f"  {spec.label}: naive baseline")
        group = _fresh_group(emulator, options, spec, name + "-naive")
        results.rows.append(measure(emulator, group, step="all", scenario="naive full",
                                    steps=ALL_STEPS, mode="naive", isolate=options.isolate,
                                    note="measured"))
        return
    # Extrapolate linearly from the largest measured baseline with the same sessions.
    measured = [r for r in results.rows if r.scenario == "naive full" and r.note == "measured"
                and r.label.endswith(f"/ {spec.sessions} sessions")]
    if not measured:
        return
    # Its Sheets writes are one append per new member plus one update per undated session;
    # its time is dominated by those appends: both scale with the members.
    source = max(measured, key=lambda r: int(r.label.split()[0]))
    factor = spec.members / int(source.label.split()[0])
    undated = spec.sessions // 2
    calls = {api: (reads, round((writes - undated) * factor) + undated if api == "sheets"
                   else writes) for api, (reads, writes) in source.calls.items()}
    results.rows.append(Measured(spec.label, "all", "naive full", calls, {},
                                 source.wall_s * factor, None,
                                 note=f"extrapolated ×{factor:g} (members) from "
                                      f"{source.label}"))


def measure_help(runs: int) -> float:
    """Median wall time of `formsync --help` (the installed command), in milliseconds."""
    command = Path(sys.executable).with_name("formsync")
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([str(command), "--help"], capture_output=True, check=True)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def full_rows(results: BenchResults, scenario: str = "full") -> list[Measured]:
    return [r for r in results.rows if r.step == "all" and r.scenario == scenario]


def evaluate_targets(results: BenchResults) -> list[dict[str, Any]]:
    targets: list[dict[str, Any]] = []
    full = full_rows(results)
    sheet_calls = {r.label: r.calls["sheets"] for r in full}
    same = len(set(sheet_calls.values())) <= 1
    shown = ", ".join(f"{r}+{w}" for r, w in sorted(set(sheet_calls.values())))
    targets.append({"target": "Sheets calls per full sync the same at every size",
                    "measured": f"reads+writes: {shown} over {len(full)} groups",
                    "met": same})
    noop = [r for r in results.rows if r.scenario == "no-op"]
    writes = sum(w for r in noop for _, w in r.calls.values())
    targets.append({"target": "zero writes on a no-op sync",
                    "measured": f"{writes} writes over {len(noop)} no-op syncs",
                    "met": writes == 0})
    largest = [r for r in full if r.label.startswith("10000 members")]
    if largest:
        worst_wall = max(r.wall_s for r in largest)
        targets.append({"target": "10,000-member full sync under 5 s",
                        "measured": f"{worst_wall:.2f} s (slowest 10,000-member group)",
                        "met": worst_wall < 5})
        targets.append(_replay_target(largest))
        peaks = [r.peak_mb for r in largest if r.peak_mb is not None]
        if peaks:
            targets.append({"target": "10,000-member full sync under 300 MB",
                            "measured": f"{max(peaks):.0f} MB peak RSS",
                            "met": max(peaks) < 300})
    if results.help_ms is not None:
        targets.append({"target": "formsync --help under 150 ms",
                        "measured": f"{results.help_ms:.0f} ms (median)",
                        "met": results.help_ms < 150})
    return targets


def _replay_target(rows: Sequence[Measured]) -> dict[str, Any]:
    worst = max(rows, key=replay_ratio)
    return {"target": "10,000-member full sync within 1.5× its replay",
            "measured": f"{replay_ratio(worst):.2f}× ({worst.wall_s:.2f} s / "
                        f"{worst.replay_s or 0:.2f} s, {worst.label})",
            "met": replay_ratio(worst) <= 1.5}


def replay_ratio(row: Measured) -> float:
    """formsync's wall time over the replay's (inf when the row has no replay)."""
    return row.wall_s / row.replay_s if row.replay_s else float("inf")


def run_benchmark(options: BenchOptions) -> BenchResults:
    results = BenchResults(reminders_wired=reminders_wired())
    results.memory_method = ("peak RSS (VmHWM) of the fresh process that ran the sync; "
                             "includes the interpreter and imports"
                             if options.isolate else "not measured (in-process run)")
    specs = [GroupSpec(size, sessions) for sessions in options.sessions
             for size in options.sizes]
    if options.responses:
        specs.append(GroupSpec(max(options.sizes), min(options.sessions),
                               responses=options.responses))
    if options.submissions:
        specs.append(GroupSpec(max(options.sizes), max(options.sessions),
                               submissions=options.submissions))
    emulator = RequestLoggingEmulator()
    with emulator:
        for spec in specs:
            options.echo(f"group: {spec.label}")
            bench_group(emulator, options, spec, results)
    if options.help_runs:
        results.help_ms = measure_help(options.help_runs)
    results.targets = evaluate_targets(results)
    return results


def results_json(results: BenchResults, options: BenchOptions) -> dict[str, Any]:
    frame = results.frame()
    return {
        "options": {"sizes": list(options.sizes), "sessions": list(options.sessions),
                    "responses": options.responses, "submissions": options.submissions,
                    "baseline_cap": options.baseline_cap,
                    "isolate": options.isolate, "full_runs": options.full_runs},
        "memory_method": results.memory_method,
        "reminders_included": results.reminders_wired,
        "rows": json.loads(frame.to_json(orient="records")),
        "sheets_calls_by_method": [{"group": r.label, "scenario": r.scenario,
                                    "calls": dict(r.sheets_by_method)}
                                   for r in results.rows if r.step == "all"],
        "replay": replay_records(results),
        "help_ms": results.help_ms,
        "targets": results.targets,
    }


def render(results: BenchResults) -> str:
    import pandas as pd

    frame = results.frame()
    lines = ["", "API calls (R = reads, W = writes), wall time and peak memory per step:",
             f"(memory: {results.memory_method})", "",
             frame.drop(columns=["note"]).to_string(index=False), ""]
    notes = frame[frame["note"].astype(bool)] if len(frame) else frame
    for _, row in notes.iterrows():
        lines.append(f"note: {row['group']} {row['scenario']}: {row['note']}")
    ratios = _ratios(results)
    if ratios:
        lines += ["", "naive baseline / formsync (full sync, all APIs):", ratios]
    replays = replay_records(results)
    if replays:
        lines += ["", "formsync / replay (full sync; the replay sends formsync's requests again, "
                      "token exchange included, with no logic):",
                  pd.DataFrame.from_records(replays).to_string(index=False)]
    targets = pd.DataFrame.from_records(results.targets)
    if len(targets):
        targets["met"] = targets["met"].map({True: "met", False: "MISSED"})
        lines += ["", "targets:", targets.to_string(index=False)]
    return "\n".join(lines)


def replay_records(results: BenchResults) -> list[dict[str, Any]]:
    return [{"group": row.label, "requests": row.replayed, "formsync s": round(row.wall_s, 3),
             "replay s": round(row.replay_s, 3), "× replay": round(replay_ratio(row), 2)}
            for row in full_rows(results) if row.replay_s]


def _ratios(results: BenchResults) -> str:
    import pandas as pd

    naive = {r.label: r for r in results.rows if r.scenario == "naive full"}
    records = []
    for row in full_rows(results):
        base = naive.get(row.label)
        if base is None:
            continue
        ours = sum(r + w for r, w in row.calls.values())
        theirs = sum(r + w for r, w in base.calls.values())
        records.append({"group": row.label, "formsync calls": ours, "naive calls": theirs,
                        "calls ×": round(theirs / max(ours, 1), 1),
                        "formsync s": round(row.wall_s, 2), "naive s": round(base.wall_s, 2),
                        "time ×": round(base.wall_s / max(row.wall_s, 1e-9), 1),
                        "naive": base.note})
    return pd.DataFrame.from_records(records).to_string(index=False) if records else ""


def parse_ints(text: str) -> list[int]:
    return [int(part.replace("_", "")) for part in text.split(",") if part.strip()]


def main(argv: Iterable[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="bench", description=(
        "Sync groups of several sizes against the loopback Google emulator and print API "
        "calls, wall time and peak memory per step, beside a naive baseline."))
    parser.add_argument("--sizes", default="100,1000,10000", help="member counts")
    parser.add_argument("--sessions", default="15,200", help="session counts")
    parser.add_argument("--responses", type=int, default=100_000, help=(
        "also sync the largest group with this many form responses (re-submissions); 0: no"))
    parser.add_argument("--submissions", type=int, default=100_000, help=(
        "also sync the largest group and session count with a homework Form of this many "
        "submissions; 0: no"))
    parser.add_argument("--baseline-cap", type=int, default=1000,
                        help="largest group the naive baseline really runs (larger: scaled)")
    parser.add_argument("--quick", action="store_true",
                        help="smallest size and session count only, no extra responses (CI)")
    parser.add_argument("--in-process", action="store_true",
                        help="run syncs in this process (faster; no memory figures)")
    parser.add_argument("--no-steps", action="store_true", help="skip the per-step runs")
    parser.add_argument("--runs", type=int, default=3, help=(
        "run each full sync and its replay this many times, alternately; show the fastest"))
    parser.add_argument("--json", default="bench-results.json", help="where to write JSON")
    parser.add_argument("--work-dir", default="", help="folder for the groups (default: temp)")
    args = parser.parse_args(list(argv) if argv is not None else None)
    import tempfile

    sizes, sessions = parse_ints(args.sizes), parse_ints(args.sessions)
    responses, submissions = args.responses, args.submissions
    if args.quick:
        sizes, sessions, responses, submissions = [min(sizes)], [min(sessions)], 0, 0
    with tempfile.TemporaryDirectory(prefix="formsync-bench-") as temp:
        options = BenchOptions(sizes=sizes, sessions=sessions, responses=responses,
                               submissions=submissions,
                               baseline_cap=args.baseline_cap, isolate=not args.in_process,
                               per_step=not args.no_steps, full_runs=args.runs,
                               work_dir=Path(args.work_dir or temp))
        results = run_benchmark(options)
    print(render(results))
    path = Path(args.json)
    path.write_text(json.dumps(results_json(results, options), indent=1), encoding="utf-8")
    print(f"\nJSON written to {path}")
    return 0
