"""The one atomic-write helper every file writer uses."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from formsync.local.files import write_atomically


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_fsync_flushes_a_temp_file_named_for_the_outbox_sweep(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []
    monkeypatch.setattr(os, "fsync", lambda fd: seen.append(
        [p.name for p in tmp_path.iterdir()]))
    path = tmp_path / "a.eml"
    write_atomically(path, b"mail", fsync=True)
    assert len(seen) == 1 and len(seen[0]) == 1
    assert Path(seen[0][0]).match(".*.eml.*.tmp")  # what OutboxTransport.remove_temp_files globs
    write_atomically(tmp_path / "b.txt", "text")
    assert len(seen) == 1
    assert path.read_bytes() == b"mail" and (tmp_path / "b.txt").read_text() == "text"


def test_text_is_written_as_utf8_with_its_newlines_as_given(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "t.md"
    write_atomically(path, "é\r\nx\n")
    assert path.read_bytes() == "é\r\nx\n".encode()


def test_a_private_file_is_0600_even_over_a_readable_one(tmp_path: Path) -> None:
    path = tmp_path / "token.json"
    path.write_text("old")
    path.chmod(0o644)
    write_atomically(path, "{}", mode=0o600)
    assert mode_of(path) == 0o600 and path.read_text() == "{}"


def test_without_a_mode_an_existing_file_keeps_its_permissions(tmp_path: Path) -> None:
    path = tmp_path / "README.md"
    path.write_text("old")
    path.chmod(0o664)
    write_atomically(path, "new")
    assert mode_of(path) == 0o664
    write_atomically(tmp_path / "new.csv", "a")
    assert mode_of(tmp_path / "new.csv") == 0o600


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "x.csv"
    path.write_text("old")

    def refuse(self: Path, target: Path) -> Path:
        raise OSError(28, os.strerror(28))
    monkeypatch.setattr(Path, "replace", refuse)
    with pytest.raises(OSError):
        write_atomically(path, "new")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["x.csv"]
