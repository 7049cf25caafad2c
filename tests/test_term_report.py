"""`formsync report`: report.html (self-contained heat map with totals, trend per session) and
report.csv, on a small workspace and on the demo; a headless Chromium screenshot renders it."""

from __future__ import annotations

import csv
import io
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from tests.test_homework import MEMBERS_CSV, SESSIONS_CSV, SUBMISSIONS_CSV

FORMSYNC = str(Path(sys.executable).parent / "formsync")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([FORMSYNC, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, check=False)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    (tmp_path / "formsync.toml").write_text(
        '[group]\nname = "Grupo D2L"\ntimezone = "America/Mexico_City"\n', encoding="utf-8")
    for name, text in (("Members.csv", MEMBERS_CSV), ("Sessions.csv", SESSIONS_CSV),
                       ("submissions.csv", SUBMISSIONS_CSV)):
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_report_csv_has_one_row_per_member_and_session(workspace: Path) -> None:
    result = run("report", "--now", "2020-11-20T10:00", cwd=workspace)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO((workspace / "report.csv").read_text("utf-8"))))
    assert [(r["Email"], r["Session"], r["Status"]) for r in rows] == [
        ("ana@example.org", "1", "on time"), ("bob@example.org", "1", "late"),
        ("eve@example.org", "1", "missing"),
        ("ana@example.org", "3", "on time"), ("bob@example.org", "3", "missing"),
        ("eve@example.org", "3", "on time"),
        ("ana@example.org", "4", "missing"), ("bob@example.org", "4", "missing"),
        ("eve@example.org", "4", "missing")]
    assert rows[0]["Link"] == "https://colab.example.org/a1-v2"  # the resubmission's link


def test_report_html_is_one_self_contained_file(workspace: Path) -> None:
    assert run("report", "--now", "2020-11-20T10:00", cwd=workspace).returncode == 0
    page = (workspace / "report.html").read_text("utf-8")
    for outside in ("<script", "<link", "src=", "@import", "url("):
        assert outside not in page
    assert "Grupo D2L · Informe del periodo" in page
    assert '<a href="https://github.com/bob/s1">tarde</a>' in page
    # Ana (2 handed in) comes first; the Total row counts each session: 2, 2, 0 and 4 in all.
    assert page.index("Ana</td>") < page.index("Bob</td>") < page.index("Eve</td>")
    assert '<tr class="total"><td>Total</td><td>2</td><td>2</td><td>0</td><td>4</td>' in page
    assert "<svg" in page and "2 (67%)" in page  # session 1: 2 of 3 members


def test_attendance_recorded_in_members_joins_the_report(workspace: Path) -> None:
    lines = MEMBERS_CSV.splitlines()
    marks = [",Asistencia 1,Asistencia 3", ",x,✓", ",x,", ",,no"]
    (workspace / "Members.csv").write_text(
        "\n".join(line + mark for line, mark in zip(lines, marks, strict=True)) + "\n",
        encoding="utf-8")
    assert run("report", cwd=workspace).returncode == 0
    rows = list(csv.DictReader(io.StringIO((workspace / "report.csv").read_text("utf-8"))))
    assert [(r["Email"][:3], r["Session"], r["Attended"]) for r in rows] == [
        ("ana", "1", "yes"), ("bob", "1", "yes"), ("eve", "1", "no"),
        ("ana", "3", "yes"), ("bob", "3", "no"), ("eve", "3", "no"),
        ("ana", "4", ""), ("bob", "4", ""), ("eve", "4", "")]
    page = (workspace / "report.html").read_text("utf-8")
    assert "<h2>Asistencia</h2>" in page
    assert ('<tr><td>Sesión 1</td><td class="total">2</td><td class="total">67%</td></tr>'
            in page)


def test_report_on_the_demo_and_sync_never_loads_pandas(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    assert run("demo", str(folder), cwd=tmp_path).returncode in (0, 1)
    code = ("import sys\nfrom formsync.cli import cli\n"
            "cli.main(['sync', '--dry-run'], standalone_mode=False)\n"
            "print('pandas' in sys.modules)")
    loaded = subprocess.run([sys.executable, "-c", code], cwd=folder, capture_output=True,
                            text=True, check=False)
    assert loaded.stdout.strip().endswith("False"), loaded.stdout + loaded.stderr
    result = run("report", cwd=folder)
    assert result.returncode == 0, result.stderr
    page = (folder / "report.html").read_text("utf-8")
    assert '<tr class="total"><td>Total</td><td>7</td><td>3</td><td>0</td><td>10</td>' in page


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium: .ci/run installs it (apt-get)")
def test_report_renders_in_headless_chromium(workspace: Path) -> None:
    assert run("report", cwd=workspace).returncode == 0
    shot = workspace / "report.png"
    assert CHROMIUM is not None
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                    "--hide-scrollbars", "--window-size=900,700", f"--screenshot={shot}",
                    (workspace / "report.html").as_uri()], capture_output=True, timeout=120,
                   check=True, env={**os.environ, "HOME": str(workspace)})
    data = shot.read_bytes()
    assert png_size(data) == (900, 700)
    assert len(data) > 15_000  # a blank page compresses to a few kB; this one has a table
