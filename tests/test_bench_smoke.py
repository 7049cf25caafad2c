"""The benchmark's smallest sizes: behaviour only (call counts, no-op writes, JSON), never times."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

from benchkit import (
    ALL_STEPS,
    BenchOptions,
    GoogleGroup,
    GroupSpec,
    Recorded,
    RequestLoggingEmulator,
    full_rows,
    replay,
    restore_state,
    results_json,
    run_benchmark,
    state_copy,
    with_issued_tokens,
)

ROOT = Path(__file__).resolve().parents[1]


def test_sheets_calls_do_not_grow_with_the_group_and_a_no_op_writes_nothing(
        tmp_path: Path) -> None:
    options = BenchOptions(sizes=(10, 40), sessions=(4,), responses=0, baseline_cap=10,
                           isolate=False, per_step=True, help_runs=0, work_dir=tmp_path,
                           echo=lambda _line: None)
    results = run_benchmark(options)

    small, large = full_rows(results)
    assert small.label.startswith("10 members") and large.label.startswith("40 members")
    assert small.sheets_by_method == large.sheets_by_method
    assert small.calls["sheets"][1] > 0  # the full sync did write
    no_ops = [row for row in results.rows if row.scenario == "no-op"]
    assert no_ops and all(writes == 0 for row in no_ops for _, writes in row.calls.values())
    naive = [row for row in results.rows if row.scenario == "naive full"]
    assert naive[0].note == "measured" and naive[1].note.startswith("extrapolated")
    # The tutorial way costs a Sheets write per member; formsync's count does not move.
    assert naive[0].calls["sheets"][1] >= 10
    assert {t["target"]: t["met"] for t in results.targets}[
        "Sheets calls per full sync the same at every size"]
    # Each full sync is replayed: its API calls (and token exchanges, if it made any) again.
    for row in (small, large):
        assert row.replay_s is not None and row.replay_s > 0
        assert row.replayed >= sum(reads + writes for reads, writes in row.calls.values()) > 0

    document = results_json(results, options)
    assert {"options", "memory_method", "rows", "targets", "help_ms",
            "sheets_calls_by_method", "replay"} <= set(document)
    assert [r["group"] for r in document["replay"]] == [small.label, large.label]
    assert all(r["× replay"] > 0 for r in document["replay"])


def test_the_replay_sends_the_sync_s_requests_again_and_leaves_the_same_sheets(
        tmp_path: Path) -> None:
    emulator = RequestLoggingEmulator()
    with emulator:
        group = GoogleGroup(emulator, tmp_path, GroupSpec(12, sessions=4)).seed()
        before = state_copy(emulator)
        log: list[Recorded] = []
        emulator.log = log
        assert group.sync(steps=ALL_STEPS).succeeded
        emulator.log = None
        synced = state_copy(emulator)
        calls = with_issued_tokens(log, emulator, before)
        restore_state(emulator, before)
        counted = emulator.counts()
        _, failed = replay(emulator.base_url, calls)
        replayed = emulator.counts() - counted

    assert failed == 0
    assert sum(replayed.by_name.values()) == len(log)
    assert replayed.by_name == Counter(call.name for call in log)
    assert state_copy(emulator)["sheets"] == synced["sheets"]
    assert any(call.issued for call in calls)  # the token exchange, whose token is swapped


def test_the_script_writes_its_json(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "bench"), "--quick",
                           "--sizes", "8", "--sessions", "3", "--in-process", "--no-steps",
                           "--json", str(out), "--work-dir", str(tmp_path / "work")],
                          capture_output=True, text=True, check=False, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "targets:" in done.stdout
    assert "formsync / replay" in done.stdout
    document = json.loads(out.read_text(encoding="utf-8"))
    assert {"rows", "targets", "memory_method", "help_ms"} <= set(document)
    row = document["rows"][0]
    assert {"group", "step", "scenario", "sheets R", "sheets W", "calendar R", "calendar W",
            "wall s", "peak MB"} <= set(row)
    assert {r["scenario"] for r in document["rows"]} == {"full", "no-op", "naive full"}
    assert all(r["sheets W"] == 0 for r in document["rows"] if r["scenario"] == "no-op")
    (ratio,) = document["replay"]
    assert ratio["group"] == row["group"] and ratio["requests"] > 0 and ratio["× replay"] > 0
