"""scripts/formsync-cron, run for real with a fake formsync (FORMSYNC_BIN): arguments pass through,
the exit code is formsync's, every output line is logged with a timestamp, and a second run while
the first still holds the lock skips with exit 0 instead of overlapping."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "formsync-cron"
STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}"
SKIP_MESSAGE = "another formsync run is still going; skipping"

# A stand-in for formsync. It records each call, prints to stdout and stderr, can wait until the
# test releases it (to hold the lock for as long as the test needs), then exits as told.
FAKE = """#!/bin/sh
echo "$$" >> "$FAKE_DIR/calls"
pwd > "$FAKE_DIR/cwd"
printf '%s\\n' "$@" > "$FAKE_DIR/args"
echo "args: $*"
echo "smtp password set: ${FORMSYNC_SMTP_PASSWORD:+yes}"
echo "a warning on stderr" >&2
if [ -n "$FAKE_HOLD" ]; then
  touch "$FAKE_DIR/started"
  i=0
  while [ ! -e "$FAKE_DIR/release" ] && [ $i -lt 300 ]; do sleep 0.05; i=$((i+1)); done
fi
printf 'last line without newline'
exit "${FAKE_EXIT:-0}"
"""

pytestmark = pytest.mark.skipif(shutil.which("flock") is None, reason="flock is not installed")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    fake_dir = tmp_path / "fake"
    fake_dir.mkdir()
    fake = fake_dir / "formsync"
    fake.write_text(FAKE, encoding="utf-8")
    fake.chmod(0o755)
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    base = {k: v for k, v in os.environ.items() if not k.startswith("FORMSYNC_")}
    return {**base, "FORMSYNC_BIN": str(fake), "FAKE_DIR": str(fake_dir),
            "XDG_RUNTIME_DIR": str(runtime)}


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    folder = tmp_path / "group workspace"  # a space, to catch missing quotes
    folder.mkdir()
    return folder


def run(args: list[str], env: dict[str, str], cwd: Path,
        **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SCRIPT), *args], cwd=cwd, env={**env, **extra},
                          capture_output=True, text=True, timeout=30, check=False)


def calls(env: dict[str, str]) -> int:
    path = Path(env["FAKE_DIR"]) / "calls"
    return len(path.read_text().splitlines()) if path.exists() else 0


def test_arguments_pass_through_and_output_is_logged_with_timestamps(
        env: dict[str, str], workspace: Path, tmp_path: Path) -> None:
    args = ["--dry-run", "--now", "2020-11-30T10:00-06:00", "--only", "members,readme"]
    result = run([str(workspace), *args], env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == result.stderr == ""  # quiet on success: cron mails nothing

    fake_dir = Path(env["FAKE_DIR"])
    assert (fake_dir / "args").read_text().splitlines() == ["sync", *args]
    assert Path((fake_dir / "cwd").read_text().strip()) == workspace

    lines = (workspace / "formsync.log").read_text().splitlines()
    assert all(re.match(STAMP + " ", line) for line in lines), lines
    bodies = [line.split(" ", 1)[1] for line in lines]
    assert bodies[0] == f"start: formsync sync {' '.join(args)} (in {workspace})"
    assert f"args: sync {' '.join(args)}" in bodies
    assert "a warning on stderr" in bodies
    assert "last line without newline" in bodies
    assert bodies[-1] == "end: exit 0"


def test_workspace_defaults_to_the_current_folder(env: dict[str, str], workspace: Path) -> None:
    result = run(["--dry-run"], env, cwd=workspace)
    assert result.returncode == 0, result.stderr
    assert (Path(env["FAKE_DIR"]) / "args").read_text().splitlines() == ["sync", "--dry-run"]
    assert Path((Path(env["FAKE_DIR"]) / "cwd").read_text().strip()) == workspace
    assert "end: exit 0" in (workspace / "formsync.log").read_text()


@pytest.mark.parametrize("code", [1, 2, 3])
def test_exit_code_is_formsyncs(env: dict[str, str], workspace: Path, code: int) -> None:
    result = run([str(workspace)], env, cwd=workspace, FAKE_EXIT=str(code))
    assert result.returncode == code
    assert f"formsync sync exited with {code}" in result.stderr  # cron mails this one line
    log = (workspace / "formsync.log").read_text()
    assert f"end: exit {code}" in log


def test_log_appends_and_can_be_moved(env: dict[str, str], workspace: Path,
                                      tmp_path: Path) -> None:
    log = tmp_path / "logs" / "formsync.log"
    log.parent.mkdir()
    for _ in range(2):
        assert run([str(workspace)], env, cwd=tmp_path, FORMSYNC_LOG=str(log)).returncode == 0
    assert log.read_text().count("start: formsync sync") == 2
    assert not (workspace / "formsync.log").exists()


def test_a_big_log_is_rotated(env: dict[str, str], workspace: Path) -> None:
    log = workspace / "formsync.log"
    log.write_text("old line\n" * 100)
    result = run([str(workspace)], env, cwd=workspace, FORMSYNC_LOG_MAX_BYTES="500")
    assert result.returncode == 0, result.stderr
    assert (workspace / "formsync.log.1").read_text() == "old line\n" * 100
    assert "old line" not in log.read_text()
    assert "end: exit 0" in log.read_text()


def _start_holding(env: dict[str, str], workspace: Path,
                   **extra: str) -> subprocess.Popen[str]:
    first = subprocess.Popen([str(SCRIPT), str(workspace)], cwd=workspace,
                             env={**env, "FAKE_HOLD": "1", **extra}, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    started = Path(env["FAKE_DIR"]) / "started"
    deadline = time.monotonic() + 10
    while not started.exists():
        assert first.poll() is None, first.communicate()
        assert time.monotonic() < deadline, "the first run never started"
        time.sleep(0.02)
    return first


def _release(env: dict[str, str], first: subprocess.Popen[str]) -> int:
    (Path(env["FAKE_DIR"]) / "release").touch()
    first.communicate(timeout=20)
    return first.returncode


def test_a_second_run_skips_while_the_first_holds_the_lock(env: dict[str, str],
                                                           workspace: Path) -> None:
    first = _start_holding(env, workspace)
    try:
        second = run([str(workspace), "--dry-run"], env, cwd=workspace)
        assert second.returncode == 0
        assert SKIP_MESSAGE in second.stderr
        assert calls(env) == 1  # formsync was not started a second time
    finally:
        assert _release(env, first) == 0
    log = (workspace / "formsync.log").read_text()
    assert re.search(STAMP + " " + re.escape(SKIP_MESSAGE), log)
    # The lock is gone with the first run: the next one runs.
    assert run([str(workspace)], env, cwd=workspace).returncode == 0
    assert calls(env) == 2


def test_two_workspaces_do_not_block_each_other(env: dict[str, str], workspace: Path,
                                                tmp_path: Path) -> None:
    other = tmp_path / "other group"
    other.mkdir()
    first = _start_holding(env, workspace)
    try:
        second = run([str(other)], env, cwd=tmp_path)
        assert second.returncode == 0, second.stderr
        assert SKIP_MESSAGE not in second.stderr
        assert calls(env) == 2
    finally:
        assert _release(env, first) == 0


def test_lock_file_can_be_chosen(env: dict[str, str], workspace: Path, tmp_path: Path) -> None:
    other = tmp_path / "other group"
    other.mkdir()
    lock = tmp_path / "shared.lock"
    first = _start_holding(env, workspace, FORMSYNC_LOCK_FILE=str(lock))
    try:
        second = run([str(other)], env, cwd=tmp_path, FORMSYNC_LOCK_FILE=str(lock))
        assert second.returncode == 0
        assert SKIP_MESSAGE in second.stderr
        assert calls(env) == 1
    finally:
        assert _release(env, first) == 0
    assert lock.exists()


def test_env_file_is_read_as_data_not_code(env: dict[str, str], workspace: Path,
                                           tmp_path: Path) -> None:
    env_file = tmp_path / "formsync.env"
    env_file.write_text("# secrets for cron\n\nFORMSYNC_SMTP_PASSWORD=p$(touch pwned)w\n")
    result = run([str(workspace)], env, cwd=workspace, FORMSYNC_ENV_FILE=str(env_file))
    assert result.returncode == 0, result.stderr
    assert "smtp password set: yes" in (workspace / "formsync.log").read_text()
    assert not (workspace / "pwned").exists()

    env_file.write_text("export FORMSYNC_SMTP_PASSWORD=x; rm -rf /\n")
    bad = run([str(workspace)], env, cwd=workspace, FORMSYNC_ENV_FILE=str(env_file))
    assert bad.returncode == 2
    assert "is not a KEY=value line" in bad.stderr


def test_missing_formsync_or_workspace_is_reported(env: dict[str, str], workspace: Path,
                                                   tmp_path: Path) -> None:
    missing = run([str(workspace)], env, cwd=workspace,
                  FORMSYNC_BIN=str(tmp_path / "no-such-formsync"))
    assert missing.returncode == 127
    assert "set FORMSYNC_BIN" in missing.stderr

    gone = run([str(tmp_path / "no-such-folder")], env, cwd=tmp_path)
    assert gone.returncode == 2
    assert "cannot enter workspace" in gone.stderr
    assert calls(env) == 0
