"""A real webhook server on loopback (http.server in a thread) and a group whose sessions are
announced in chat channels, for the announce tests."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from tests.helpers import ledger_rows, ledger_statuses
from tests.reminders.support import ORGANIZERS, seed_sessions

from formsync.announce.channels import channels
from formsync.announce.plan import Announcement, plan_announcements
from formsync.announce.post import Poster, post_announcements
from formsync.config import Config, parse_config
from formsync.local.sheets import LocalSheets
from formsync.model import REMINDERS, Problem, Session


@dataclass
class Hook:
    """What the server answers on one path: a status, after a delay."""

    status: int = 200
    delay: float = 0.0


@dataclass
class Webhooks:
    port: int
    received: list[tuple[str, str, bytes]] = field(default_factory=list)  # path, type, body
    hooks: dict[str, Hook] = field(default_factory=dict)

    def url(self, scheme: str, path: str, **params: str) -> str:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        return f"{scheme}://127.0.0.1:{self.port}{path}{query}"

    def payloads(self, path: str) -> list[dict[str, Any]]:
        """The JSON or form bodies posted to `path`, in order."""
        found: list[dict[str, Any]] = []
        for where, kind, body in self.received:
            if where.split("?")[0] != path:
                continue
            if kind.startswith("application/json"):
                found.append(json.loads(body))
            else:
                found.append(dict(urllib.parse.parse_qsl(body.decode("utf-8"))))
        return found


def _handler(state: Webhooks) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            hook = state.hooks.get(self.path.split("?")[0], Hook())
            state.received.append((self.path, self.headers.get("Content-Type", ""), body))
            time.sleep(hook.delay)
            self.send_response(hook.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def webhooks() -> Iterator[Webhooks]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(Webhooks(0)))
    state = Webhooks(server.server_address[1])
    server.RequestHandlerClass = _handler(state)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def make_config(root: Path, **announce: Any) -> Config:
    return parse_config({
        "group": {"name": "Deep Learning Study Group", "timezone": "America/Mexico_City",
                  "language": "es", "organizers": list(ORGANIZERS)},
        "calendar": {"meeting_link": "https://meet.example.org/d2l"},
        "announce": announce}, root)


@dataclass
class Chat:
    """A local workspace (the Reminders ledger as CSV) and the group's sessions."""

    root: Path
    config: Config
    environ: Mapping[str, str] = field(default_factory=dict)
    sessions: list[Session] = field(default_factory=seed_sessions)

    @property
    def sheets(self) -> LocalSheets:
        return LocalSheets(self.root)

    def plan(self, now: dt.datetime) -> tuple[list[Announcement], list[Problem]]:
        return plan_announcements(self.sessions, self.sheets.read(REMINDERS), self.config,
                                  channels(self.config.announce, self.environ), now)

    def run(self, now: dt.datetime, posters: Mapping[str, Poster] | None = None
            ) -> tuple[list[Announcement], list[Problem]]:
        planned, problems = self.plan(now)
        problems += post_announcements(
            planned, channels(self.config.announce, self.environ), self.config, self.sheets,
            now, ledger=self.sheets.read(REMINDERS), environ=self.environ, posters=posters)
        return planned, problems

    def ledger(self) -> list[dict[str, str]]:
        return ledger_rows(self.sheets)

    def statuses(self) -> dict[tuple[str, str, str], str]:
        return ledger_statuses(self.sheets)
