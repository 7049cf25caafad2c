"""The fault matrix covers announcements: faults on the chat webhook (served by the emulator)
and on the ledger writes around each post; no post is made twice, and one is missing only
where the ledger says `unknown` (the webhook gave no answer)."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import load_fault_matrix

from benchkit import GroupState

ROOT = Path(__file__).resolve().parents[2]
HEADER = ("Kind", "Session", "Recipient", "Status", "Time")


fault_matrix = load_fault_matrix()


def test_webhook_faults_neither_post_twice_nor_lose_a_post(tmp_path: Path) -> None:
    lines: list[str] = []
    faults = (*fault_matrix.NETWORK_FAULTS, "late")
    options = fault_matrix.MatrixOptions(steps=("announce",), faults=faults,
                                         only=["webhook.post"], echo=lines.append)
    results = fault_matrix.run_matrix(options, tmp_path)
    assert sorted(r.fault for r in results) == sorted(faults)
    assert [v for r in results for v in r.violations] == [], "\n".join(lines)


def _state(*rows: tuple[object, ...], posts: tuple[str, ...] = ()) -> GroupState:
    return GroupState({"Reminders": (HEADER, *rows)}, (), b"", b"", (), posts)


def test_a_post_without_an_answer_may_be_missing_but_never_doubled() -> None:
    sent = ("announce_next", "3", "env:chat", "sent", 1.0)
    unknown = ("announce_next", "3", "env:chat", "unknown", 1.0)
    expected = _state(sent, posts=("Next session 3",))
    assert fault_matrix._posts_once(_state(unknown), expected) == []
    assert fault_matrix.outcome(_state(unknown)) == fault_matrix.outcome(expected)
    assert fault_matrix._posts_once(_state(sent), expected) == ["1 chat post(s) never made"]
    assert fault_matrix._posts_once(_state(sent, posts=("Next session 3",) * 2), expected) == [
        "chat posts made twice: Next session 3"]
