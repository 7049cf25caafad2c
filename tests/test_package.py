"""The package as users install it: `python -m build` makes an sdist and a wheel that pass
`twine check`; the wheel, installed into a fresh venv, carries its data (templates, example config,
the demo's seed) and runs `formsync --version`, `--help`, `demo` and `emulator --help`.

The fresh venv gets the wheel with `--no-deps` and borrows the dependencies from this venv through
a path entry, so the test needs no network. `scripts/check-package` (run by .ci/run) does the full
install with dependencies from PyPI, and `pipx install` where pipx exists."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest

import formsync

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None,
         timeout: int = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env, check=False)


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    built = _run(sys.executable, "-m", "build", "--outdir", out, ROOT, cwd=ROOT, timeout=300)
    if built.returncode != 0 and "Could not find a version" in built.stdout + built.stderr:
        pytest.skip("the isolated build environment cannot be downloaded here")
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    return out


def test_version_comes_from_one_place() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert "version" not in project and project["dynamic"] == ["version"]
    result = _run(Path(sys.executable).parent / "formsync", "--version", cwd=ROOT)
    assert result.stdout.strip() == f"formsync, version {formsync.__version__}"


def test_build_makes_an_sdist_and_a_wheel_that_twine_accepts(dist: Path) -> None:
    names = sorted(p.name for p in dist.iterdir())
    version = formsync.__version__
    assert names == [f"formsync-{version}-py3-none-any.whl", f"formsync-{version}.tar.gz"]
    checked = _run(sys.executable, "-m", "twine", "check", "--strict", *sorted(dist.iterdir()),
                   cwd=ROOT)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    wheel = zipfile.ZipFile(next(dist.glob("*.whl")))
    files = set(wheel.namelist())
    for data in ("formsync/py.typed", "formsync/data/README.md", "formsync/data/responses.csv",
                 "formsync/data/formsync.example.toml",
                 "formsync/reminders/templates/es/welcome.txt",
                 "formsync/reminders/templates/en/welcome.html"):
        assert data in files, data


def test_the_wheel_runs_in_a_fresh_venv(dist: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    made = _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    site = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                     cwd=tmp_path).stdout.strip())
    # Dependencies from this venv: a plain path entry, so this venv's editable formsync (a .pth
    # hook of its own) stays inactive and only the wheel's formsync can be imported.
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    installed = _run(sys.executable, "-m", "pip", "--python", python, "install", "--quiet",
                     "--no-deps", "--no-index", "--disable-pip-version-check",
                     next(dist.glob("*.whl")), cwd=tmp_path)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("FORMSYNC_", "GOOGLE_", "PYTHON"))}
    where = _run(python, "-c", "import formsync; print(formsync.__file__)", cwd=tmp_path, env=env)
    assert where.stdout.startswith(str(site)), where.stdout + where.stderr
    formsync_bin = venv / "bin" / "formsync"
    version = _run(formsync_bin, "--version", cwd=tmp_path, env=env)
    assert version.stdout.strip() == f"formsync, version {formsync.__version__}", version.stderr
    assert _run(formsync_bin, "--help", cwd=tmp_path, env=env).returncode == 0
    helped = _run(formsync_bin, "emulator", "--help", cwd=tmp_path, env=env)
    assert helped.returncode == 0 and "emulator" in helped.stdout, helped.stderr
    demo = _run(formsync_bin, "demo", tmp_path / "demo", cwd=tmp_path, env=env)
    assert demo.returncode in {0, 1}, demo.stdout + demo.stderr  # the sample's broken rows
    assert "Traceback" not in demo.stdout + demo.stderr
    assert "formsync:calendar:end" in (tmp_path / "demo" / "README.md").read_text(encoding="utf-8")
    assert (tmp_path / "demo" / "calendar.ics").read_text(encoding="utf-8").startswith(
        "BEGIN:VCALENDAR")
    assert any((tmp_path / "demo" / "outbox").iterdir())
