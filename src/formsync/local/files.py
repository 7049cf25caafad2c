"""Atomic file writes: a temp file beside the target, then a rename."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path


def write_atomically(path: Path, data: bytes | str, *, fsync: bool = False,
                     mode: int | None = None) -> None:
    """Write `data` (text as UTF-8, newlines as given) to `path` so that a reader sees the old
    file or the new one, never half of one.

    The temp file is `.<name>.<random>.tmp` beside `path` (the outbox sweeps those a killed run
    leaves). `fsync` flushes the data to disk before the rename. `mode` sets the permissions;
    without it an existing file keeps its own and a new one is private (0600, as mkstemp makes it).
    """
    payload = data.encode("utf-8") if isinstance(data, str) else data
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(payload)
            if fsync:
                out.flush()
                os.fsync(out.fileno())
        _set_mode(Path(temp), path, mode)
        Path(temp).replace(path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _set_mode(temp: Path, path: Path, mode: int | None) -> None:
    if mode is None:
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            return
    temp.chmod(mode)


def write_if_changed(path: Path, text: str) -> bool:
    """Write `text` atomically; skip when the file already holds it. True if written."""
    try:
        if path.read_bytes() == text.encode("utf-8"):
            return False
    except FileNotFoundError:
        pass
    write_atomically(path, text)
    return True
