"""The installed `formsync` command, run as a person would, on temporary workspaces."""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.reminders.support import free_port

FORMSYNC = shutil.which("formsync", path=str(Path(sys.executable).parent)) or "formsync"
SESSIONS_HEADER = "Session,Chapter,Guide,Date,Start,End\n"


def run(*args: str, cwd: Path, preexec_fn: Callable[[], None] | None = None
        ) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORMSYNC_")}
    return subprocess.run([FORMSYNC, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env=env, check=False, preexec_fn=preexec_fn)


def snapshot_files(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    folder = tmp_path_factory.mktemp("cli") / "group"
    return folder, run("demo", str(folder), cwd=folder.parent)


def test_demo_builds_and_syncs_a_workspace(
        demo: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    folder, result = demo
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    out = result.stdout
    assert "Members:" in out and "add member ana.garcia@example.org" in out
    assert "responses, row 31: response skipped:" in out  # the address without @
    members = (folder / "Members.csv").read_text(encoding="utf-8")
    assert members.count("@example.org") >= 28
    assert "'=HYPERLINK" in members  # form text is stored as text, not a formula
    sessions = (folder / "Sessions.csv").read_text(encoding="utf-8")
    assert "Proposed date" in sessions and "2020-12-15 17:00" in sessions
    readme = (folder / "README.md").read_text(encoding="utf-8")
    assert "<!-- formsync:calendar:start -->" in readme
    assert "Session 5 - Deep Learning Computation" in readme


def test_second_sync_has_nothing_to_do_and_rewrites_no_file(
        demo: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    folder, _ = demo
    before = snapshot_files(folder)
    # At the demo's moment: on a later clock, problems bound to that day are solved (and so
    # cleared from Problems.csv).
    result = run("sync", "--now", DEMO_NOW, cwd=folder)
    assert "Nothing to do" in result.stdout, result.stdout + result.stderr
    assert snapshot_files(folder) == before
    # The sample's broken rows are listed in Problems.csv since the demo's run: not new, so
    # they are one line, and the run passes.
    assert result.returncode == 0 and "8 known problems: see Problems" in result.stdout


def test_dry_run_prints_the_plan_and_writes_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "g"
    assert run("init", str(folder), cwd=tmp_path).returncode == 0
    (folder / "responses.csv").write_text(
        "Timestamp,Email Address,Name\n10/2/2020 14:03:22,a@example.org,Ana\n", encoding="utf-8")
    before = snapshot_files(folder)
    result = run("sync", "--dry-run", "--only", "members", cwd=folder)
    assert result.returncode == 0, result.stderr
    assert "would add member a@example.org" in result.stdout
    assert "Dry run: nothing was changed." in result.stdout
    assert snapshot_files(folder) == before


def test_a_broken_config_exits_2_naming_the_key(tmp_path: Path) -> None:
    (tmp_path / "formsync.toml").write_text("[group]\ncadence_days = -3\n", encoding="utf-8")
    result = run("sync", cwd=tmp_path)
    assert result.returncode == 2
    assert "group.cadence_days" in result.stderr and "fix:" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_rows_exit_1_and_are_named(tmp_path: Path) -> None:
    run("init", str(tmp_path), cwd=tmp_path)
    (tmp_path / "responses.csv").write_text(
        "Timestamp,Email Address,Name\n10/2/2020 14:03:22,ok@example.org,Ok\n"
        "10/3/2020 14:03:22,broken,Bad\n", encoding="utf-8")
    result = run("sync", "--only", "members", cwd=tmp_path)
    assert result.returncode == 1
    assert "responses, row 3: response skipped: 'broken' is not a valid email" in result.stdout
    assert "ok@example.org" in (tmp_path / "Members.csv").read_text(encoding="utf-8")


def test_unknown_step_is_a_usage_error(tmp_path: Path) -> None:
    result = run("sync", "--only", "membres", cwd=tmp_path)
    assert result.returncode == 2
    assert "unknown step membres" in result.stderr


def test_help_does_not_import_heavy_libraries() -> None:
    code = ("import sys\nfrom formsync.cli import cli\n"
            "try:\n    cli.main(['--help'], standalone_mode=False)\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('pandas', 'googleapiclient', 'gspread', 'pydantic') "
            "if m in sys.modules]\nprint(heavy)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip().endswith("[]"), result.stdout
    assert "formsync demo" in result.stdout


def test_import_readme_fills_sessions_once(tmp_path: Path) -> None:
    run("init", str(tmp_path), cwd=tmp_path)
    seed = Path(__file__).parent / "data" / "study-group-README.md"
    result = run("import-readme", str(seed), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "imported 16 sessions" in result.stdout
    sessions = (tmp_path / "Sessions.csv").read_text(encoding="utf-8").splitlines()
    assert sessions[2].startswith("2,Preliminaries,Gus,")
    again = run("import-readme", str(seed), cwd=tmp_path)
    assert again.returncode == 2
    assert "Sessions already has 16 rows" in again.stderr


def test_init_refuses_to_overwrite_a_config(tmp_path: Path) -> None:
    assert run("init", cwd=tmp_path).returncode == 0
    again = run("init", cwd=tmp_path)
    assert again.returncode == 2 and "already exists" in again.stderr


def test_now_without_an_offset_is_the_groups_local_time(
        demo: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    folder, _ = demo
    before = run("sync", "--dry-run", "--only", "reminders", "--now", "2020-11-29T08:59",
                 cwd=folder)
    after = run("sync", "--dry-run", "--only", "reminders", "--now", "2020-11-29T09:01",
                cwd=folder)
    reading = ("would send homework reminder for session 3 and reading reminder for session 4 "
               "to ximena.ramirez@example.org")  # one morning email
    assert reading not in before.stdout  # due at 09:00 in America/Mexico_City
    verbose = run("sync", "--dry-run", "--only", "reminders", "--verbose", "--now",
                  "2020-11-29T09:01", cwd=folder).stdout
    assert reading in verbose
    # Ana handed in session 3's exercises (the demo's submissions): her reading reminder only.
    assert "would send reading reminder for session 4 to ana.garcia@example.org" in verbose
    assert "Reminders:" in after.stdout


# ---------------------------------------------------------------------------------------------
# A README formsync cannot use: reported with its fix, and the calendar and reminders still run.

DEMO_NOW = "2020-11-15T09:30:00-06:00"  # the demo's default --now


def demo_without_calendar_and_mail(demo_folder: Path, tmp_path: Path, readme_path: str) -> Path:
    """A copy of the demo workspace whose next sync writes calendar.ics and the outbox again."""
    folder = tmp_path / "group"
    shutil.copytree(demo_folder, folder)
    (folder / "calendar.ics").unlink()
    (folder / "Reminders.csv").unlink()
    shutil.rmtree(folder / "outbox")
    config = folder / "formsync.toml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        'path = "README.md"', f'path = "{readme_path}"'), encoding="utf-8")
    return folder


def assert_readme_error_and_the_rest_done(result: subprocess.CompletedProcess[str],
                                          folder: Path, demo_folder: Path, *,
                                          path: Path, fix: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    errors = [line for line in result.stdout.splitlines() if "ERROR [readme]" in line]
    assert len(errors) == 1, result.stdout
    assert str(path) in errors[0] and f"(fix: {fix}" in errors[0], errors[0]
    assert (folder / "calendar.ics").read_bytes() == (demo_folder / "calendar.ics").read_bytes()
    emails = sorted(p.name for p in (folder / "outbox").glob("*.eml"))
    assert emails and emails == sorted(p.name for p in (demo_folder / "outbox").glob("*.eml"))


def test_a_readme_path_that_is_a_folder_is_reported_and_the_rest_still_runs(
        demo: tuple[Path, subprocess.CompletedProcess[str]], tmp_path: Path) -> None:
    folder = demo_without_calendar_and_mail(demo[0], tmp_path, "docs")
    (folder / "docs").mkdir()
    result = run("sync", "--now", DEMO_NOW, cwd=folder)
    assert_readme_error_and_the_rest_done(result, folder, demo[0], path=folder / "docs",
                                          fix="set [readme] path in formsync.toml to the "
                                              "README file")


def test_a_readme_that_is_not_utf8_is_reported_and_the_rest_still_runs(
        demo: tuple[Path, subprocess.CompletedProcess[str]], tmp_path: Path) -> None:
    folder = demo_without_calendar_and_mail(demo[0], tmp_path, "README.md")
    readme = folder / "README.md"
    readme.write_bytes(readme.read_text(encoding="utf-8").encode("latin-1", "replace"))
    result = run("sync", "--now", DEMO_NOW, cwd=folder)
    assert_readme_error_and_the_rest_done(result, folder, demo[0], path=readme,
                                          fix="save README.md as UTF-8 text")
    assert "is not UTF-8 text" in result.stdout


PR_CAPBSET_DROP = 24  # <linux/prctl.h>
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 1, 2  # <linux/capability.h>


def without_root_override() -> None:
    """Root reads and writes anywhere through two capabilities; drop them, so that permissions
    hold for root too. Run in the child: an exec as root keeps only the bounding set."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) refused")


def run_with_permissions(*args: str, cwd: Path, probe: str) -> subprocess.CompletedProcess[str]:
    """Run formsync so that file permissions apply to it, even as root; skip the test where
    they cannot (`probe`, Python code that the permissions must make fail, shows it)."""
    preexec_fn = without_root_override if os.geteuid() == 0 else None
    try:
        held = subprocess.run([sys.executable, "-c", probe], capture_output=True, check=False,
                              preexec_fn=preexec_fn).returncode != 0
    except subprocess.SubprocessError:  # the preexec_fn failed: root keeps its capabilities
        held = False
    if not held:
        pytest.skip("file permissions cannot be made to apply here (root, and the "
                    "CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH capabilities cannot be dropped)")
    return run(*args, cwd=cwd, preexec_fn=preexec_fn)


def test_a_readme_formsync_cannot_read_is_reported_and_the_rest_still_runs(
        demo: tuple[Path, subprocess.CompletedProcess[str]], tmp_path: Path) -> None:
    folder = demo_without_calendar_and_mail(demo[0], tmp_path, "README.md")
    readme = folder / "README.md"
    readme.chmod(0)
    try:
        result = run_with_permissions("sync", "--now", DEMO_NOW, cwd=folder,
                                      probe=f"open({str(readme)!r}).read()")
    finally:
        readme.chmod(0o600)
    assert_readme_error_and_the_rest_done(result, folder, demo[0], path=readme,
                                          fix="let the user running formsync read it")
    assert "Permission denied" in result.stdout


def test_a_readme_formsync_cannot_write_is_reported_and_the_rest_still_runs(
        demo: tuple[Path, subprocess.CompletedProcess[str]], tmp_path: Path) -> None:
    # A README is replaced atomically by a new file written beside it, so what stops the write
    # is a folder formsync may not create files in (the README's own mode does not matter).
    folder = demo_without_calendar_and_mail(demo[0], tmp_path, "docs/README.md")
    docs = folder / "docs"
    docs.mkdir()
    old = (folder / "README.md").read_text(encoding="utf-8").replace(
        "Total de sesiones: 15", "Total de sesiones: 14")  # so the sync rewrites the table
    (docs / "README.md").write_text(old, encoding="utf-8")
    docs.chmod(0o555)
    try:
        result = run_with_permissions("sync", "--now", DEMO_NOW, cwd=folder,
                                      probe=f"open({str(docs / 'probe')!r}, 'w')")
    finally:
        docs.chmod(0o755)
    assert_readme_error_and_the_rest_done(
        result, folder, demo[0], path=docs / "README.md",
        fix=f"let the user running formsync create files in {docs}")
    assert "Permission denied" in result.stdout
    assert (docs / "README.md").read_text(encoding="utf-8") == old
    assert sorted(p.name for p in docs.iterdir()) == ["README.md"]


def test_reminders_a_failed_smtp_send_did_not_deliver_are_not_listed_as_sent(
        demo: tuple[Path, subprocess.CompletedProcess[str]], tmp_path: Path) -> None:
    folder = demo_without_calendar_and_mail(demo[0], tmp_path, "README.md")
    config = folder / "formsync.toml"
    closed = free_port()  # nothing listens there: the connection is refused
    text = config.read_text(encoding="utf-8").replace('transport = "outbox"', 'transport = "smtp"')
    config.write_text(text + f'\n[reminders.smtp]\nhost = "127.0.0.1"\nport = {closed}\n'
                      'security = "none"\n', encoding="utf-8")
    result = run("sync", "--now", DEMO_NOW, cwd=folder)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    title = next(line for line in lines if line.startswith("Reminders"))
    assert "not all done" in title
    after = lines[lines.index(title) + 1:]
    block = after[:next((i for i, line in enumerate(after) if not line.startswith("  ")),
                        len(after))]
    listed = [line.strip() for line in block]
    assert listed and all(line.startswith(("tried to ", "…")) for line in listed)
    assert any(line.startswith("tried to send") for line in listed)
    assert any("ERROR [reminders]" in line and "cannot reach the SMTP server" in line
               for line in lines)


def test_help_says_what_every_step_does() -> None:
    from formsync.registry import STEP_NAMES

    text = run("--help", cwd=Path.cwd()).stdout
    described = {line.split()[0] for line in text.splitlines() if line.startswith("    ")}
    assert set(STEP_NAMES) <= described, set(STEP_NAMES) - described
