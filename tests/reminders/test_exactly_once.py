"""Kill a run at every step (before/after each send, before/after each ledger write), rerun:
nothing is sent twice and nothing is silently dropped — for the outbox, SMTP and Gmail."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from tests.reminders.support import (
    ORGANIZERS,
    Group,
    Killed,
    SmtpServer,
    at,
    body,
    gmail_settings,
    make_config,
)

from formsync.actions import SheetEdit
from formsync.backends import build_transport
from formsync.local.sheets import LocalSheets
from formsync.reminders.transports import (
    GmailTransport,
    OutboxTransport,
    SmtpConnection,
    SmtpTransport,
    Transport,
)

DAY = at("2020-10-18")  # the guide of session 1 and four reading reminders are due
EXPECTED = 5
NEVER = 10**9


class Countdown:
    """Counts the steps of a run and 'kills' it (raises Killed) at step `at`."""

    def __init__(self, at: int = NEVER) -> None:
        self.at, self.steps = at, 0

    def tick(self) -> None:
        self.steps += 1
        if self.steps == self.at:
            raise Killed(f"killed at step {self.at}")


class DyingSheets(LocalSheets):
    def __init__(self, folder: Path, countdown: Countdown) -> None:
        super().__init__(folder)
        self.countdown = countdown

    def apply(self, edits: Iterable[SheetEdit]) -> Mapping[str, int]:
        edits = list(edits)
        self.countdown.tick()  # dies before the ledger write lands
        first_new_rows = super().apply(edits)
        self.countdown.tick()  # dies right after it
        return first_new_rows


class DyingOutbox(OutboxTransport):
    def __init__(self, folder: Path, countdown: Countdown) -> None:
        super().__init__(folder)
        self.countdown = countdown

    def write(self, key: Any, message: EmailMessage) -> str:
        result = super().write(key, message)
        self.countdown.tick()  # delivered, not recorded
        return result


class DyingConnection:
    def __init__(self, inner: SmtpConnection, countdown: Countdown) -> None:
        self.inner, self.countdown = inner, countdown

    def send(self, message: EmailMessage) -> str:
        self.countdown.tick()
        result = self.inner.send(message)
        self.countdown.tick()
        return result


class DyingSmtp(SmtpTransport):
    countdown = Countdown()

    @contextlib.contextmanager
    def connect(self) -> Iterator[Any]:
        with super().connect() as connection:
            yield DyingConnection(connection, self.countdown)


class DyingGmail(GmailTransport):
    countdown = Countdown()

    def create_draft(self, message: EmailMessage) -> str:
        result = super().create_draft(message)
        self.countdown.tick()  # a draft exists that the ledger does not know
        return result

    def send_draft(self, draft_id: str) -> str:
        result = super().send_draft(draft_id)
        self.countdown.tick()  # sent, still `drafted` in the ledger
        return result


def kill_then_rerun(group: Group, dying: Transport, healthy: Transport, countdown: Countdown
                    ) -> tuple[bool, list[Any]]:
    """Run once, killed at the countdown; then a normal run. (killed?, rerun problems)"""
    killed = False
    try:
        group.run(DAY, dying, sheets=DyingSheets(group.root, countdown), batch_size=2)
    except Killed:
        killed = True
    _, problems = group.run(DAY.replace(hour=10), healthy, batch_size=2)
    assert group.run(DAY.replace(hour=11), healthy)[0] == []  # settled for good
    return killed, problems


def sent_rows(group: Group) -> list[dict[str, str]]:
    """The rows that count (an interrupted attempt's row is kept, marked superseded)."""
    return [r for r in group.ledger()
            if r["Kind"] not in ("setup", "notice") and r["Status"] != "superseded"]


# ---------------------------------------------------------------------------------------------


def test_outbox_killed_at_every_step(tmp_path: Path) -> None:
    step = 0
    while True:
        step += 1
        group = Group(tmp_path / f"k{step}", make_config(tmp_path / f"k{step}"))
        outbox = OutboxTransport(group.root / "outbox")
        group.run(at("2020-10-05"), outbox)
        countdown = Countdown(step)
        killed, problems = kill_then_rerun(group, DyingOutbox(outbox.folder, countdown),
                                           outbox, countdown)
        files = sorted(outbox.folder.glob("*.eml"))
        assert len(files) == EXPECTED, step
        assert [r["Status"] for r in sent_rows(group)] == ["sent"] * EXPECTED, step
        assert problems == []
        if not killed:
            break
    assert step > 2 * EXPECTED


def test_outbox_files_are_never_rewritten(group: Group) -> None:
    outbox = OutboxTransport(group.root / "outbox")
    group.run(at("2020-10-05"), outbox)
    countdown = Countdown(3)
    with pytest.raises(Killed):
        group.run(DAY, DyingOutbox(outbox.folder, countdown), batch_size=20)
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in outbox.folder.glob("*.eml")}
    assert len(before) == 3 and group.statuses() == {("setup", "", ""): "recorded"}
    group.run(DAY.replace(hour=12), outbox)  # a later run: Date headers would differ
    after = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in outbox.folder.glob("*.eml")}
    assert {p: after[p] for p in before} == before and len(after) == EXPECTED


def test_smtp_killed_at_every_step(tmp_path: Path, smtp_server: SmtpServer) -> None:
    step = 0
    while True:
        step += 1
        smtp_server.mailbox.received.clear()
        group = Group(tmp_path / f"k{step}", make_config(tmp_path / f"k{step}",
                                                         **smtp_server.settings()))
        healthy = SmtpTransport(group.config.reminders.smtp)
        group.run(at("2020-10-05"), healthy)
        countdown = Countdown(step)
        dying = DyingSmtp(group.config.reminders.smtp)
        dying.countdown = countdown
        killed, problems = kill_then_rerun(group, dying, healthy, countdown)
        check_smtp_outcome(group, smtp_server, problems, step)
        if not killed:
            break
    assert step > 2 * EXPECTED


def check_smtp_outcome(group: Group, server: SmtpServer, problems: list[Any],
                       step: int) -> None:
    received = [r.message for r in server.mailbox.received]
    reminders = [m for m in received if ".notice." not in str(m["Message-ID"])]
    ids = Counter(str(m["Message-ID"]) for m in reminders)
    assert all(n == 1 for n in ids.values()), f"step {step}: sent twice: {ids}"
    rows = sent_rows(group)
    assert len(rows) == EXPECTED
    unknown = [r for r in rows if r["Status"] == "unknown"]
    assert len(unknown) <= 1, step  # at most the message in flight when the run died
    assert {r["Status"] for r in rows} <= {"sent", "unknown"}, step
    assert {r["Message id"] for r in rows if r["Status"] == "sent"} <= set(ids), step
    # Every delivered reminder is recorded as sent or unknown; every unknown is reported.
    assert len(ids) >= len(rows) - len(unknown)
    for row in unknown:
        assert any(row["Recipient"] in p.message and "may or may not" in p.message
                   for p in problems), step
    notices = [m for m in received if ".notice." in str(m["Message-ID"])]
    if unknown:
        assert sorted(m["To"].addresses[0].addr_spec for m in notices) == sorted(ORGANIZERS)
        text = body(notices[0])
        assert all(row["Recipient"] in text for row in unknown)
    else:
        assert notices == []


def test_gmail_killed_at_every_step(tmp_path: Path, emulator: Any) -> None:
    step = 0
    while True:
        step += 1
        subject = f"grupo{step}@example.org"
        google = gmail_settings(emulator, tmp_path / f"key{step}.json", subject=subject)
        root = tmp_path / f"k{step}"
        group = Group(root, make_config(root, google=google, transport="gmail"))
        healthy = build_transport(group.config)
        assert isinstance(healthy, GmailTransport)
        group.run(at("2020-10-05"), healthy)
        countdown = Countdown(step)
        dying = DyingGmail(healthy.service)
        dying.countdown = countdown
        killed, problems = kill_then_rerun(group, dying, healthy, countdown)
        gmail = emulator.apis["gmail"]
        sent = Counter(str(m["Message-ID"]) for m in gmail.sent(subject))
        assert len(sent) == EXPECTED and set(sent.values()) == {1}, (step, sent)
        assert [r["Status"] for r in sent_rows(group)] == ["sent"] * EXPECTED, step
        assert gmail.drafts(subject) == []  # orphans of the killed run were deleted
        assert problems == []
        if not killed:
            break
    assert step > 3 * EXPECTED


def test_gmail_recovery_deletes_a_draft_whose_session_started(group: Group, emulator: Any,
                                                            tmp_path: Path) -> None:
    google = gmail_settings(emulator, tmp_path / "key.json", subject="grupo@example.org")
    group.config = make_config(group.root, google=google, transport="gmail")
    healthy = build_transport(group.config)
    assert isinstance(healthy, GmailTransport)
    group.run(at("2020-10-05"), healthy)
    countdown = Countdown(2 + EXPECTED + 2)  # `drafting`, the drafts, `drafted` written: die
    dying = DyingGmail(healthy.service)
    dying.countdown = countdown
    with pytest.raises(Killed):
        group.run(DAY, dying, sheets=DyingSheets(group.root, countdown), batch_size=20)
    assert set(group.statuses().values()) == {"recorded", "drafted"}
    group.run(at("2020-10-20", "17:05"), healthy)  # session 1 has started
    assert set(group.statuses().values()) == {"recorded", "expired"}
    assert emulator.apis["gmail"].drafts("grupo@example.org") == []
    assert emulator.apis["gmail"].sent("grupo@example.org") == []


def test_sigkill_in_a_real_process_then_rerun(group: Group, tmp_path: Path) -> None:
    outbox = OutboxTransport(group.root / "outbox")
    group.run(at("2020-10-05"), outbox)
    script = textwrap.dedent(f"""
        import os, signal
        from pathlib import Path
        from formsync.reminders.transports import OutboxTransport
        from tests.reminders.support import Group, at, make_config

        class Dying(OutboxTransport):
            done = 0
            def write(self, key, message):
                result = super().write(key, message)
                Dying.done += 1
                if Dying.done == 2:
                    os.kill(os.getpid(), signal.SIGKILL)
                return result

        root = Path({str(group.root)!r})
        group = Group(root, make_config(root))
        group.run(at("2020-10-18"), Dying(root / "outbox"))
    """)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path.cwd()),
                                                       os.environ.get("PYTHONPATH", "")])}
    process = subprocess.run([sys.executable, "-c", script], env=env, check=False,
                             capture_output=True, timeout=60)
    assert process.returncode == -signal.SIGKILL, process.stderr.decode()
    assert len(list(outbox.folder.glob("*.eml"))) == 2
    group.run(at("2020-10-18", "10:00"), outbox)
    assert len(list(outbox.folder.glob("*.eml"))) == EXPECTED
    assert [r["Status"] for r in sent_rows(group)] == ["sent"] * EXPECTED
