"""API calls of whole syncs, counted by the emulator (call counts are behaviour)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from benchkit import NOW, GoogleGroup, GroupSpec
from formsync.emulator import Emulator


def test_a_day_of_sixty_gmail_reminders_reads_the_ledger_once(tmp_path: Path) -> None:
    """Sixty members, each with one morning email (a reading and a homework reminder)."""
    with Emulator() as emulator:
        group = GoogleGroup(emulator, tmp_path, GroupSpec(members=60, sessions=6)).seed()
        assert group.sync().succeeded
        result = group.sync(now=NOW + dt.timedelta(days=3))
    assert result.succeeded and result.report is not None
    sends = result.calls["gmail.users.drafts.send"]
    assert sends == result.calls["gmail.users.drafts.create"] == 60
    sheets = dict(result.calls.of("sheets").by_name)
    # Reads: one values.batchGet per spreadsheet; the Reminders ledger is not read again.
    # Writes, per batch of 20: the attempts appended (drafting), then drafted, then sent.
    batches = sends // 20
    assert sheets == {"sheets.values.batchGet": 2, "sheets.get": 1,
                      "sheets.values.append": batches, "sheets.values.batchUpdate": 2 * batches}
