"""Atomic file writes and output folders: a crash, Ctrl-C or full disk never leaves a
half-written result behind, and an unwritable folder is a clear error."""

from __future__ import annotations

import errno
import json
import math
import os
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from densepred.core.errors import OutputError

_UMASK = os.umask(0)
os.umask(_UMASK)
FILE_MODE = 0o666 & ~_UMASK
"""Mode of the files written here: what ``open(path, "w")`` would give under this umask."""
DIR_MODE = 0o777 & ~_UMASK
"""Mode of the folders written here: what ``mkdir`` would give under this umask."""


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path in the same folder; on success it replaces ``path`` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=path.suffix or ".tmp", dir=path.parent
    )
    os.close(fd)
    os.chmod(tmp, FILE_MODE)  # mkstemp makes it 0600
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def atomic_write_bytes(path: str | Path, data: bytes | memoryview) -> None:
    """Write ``data`` to a temporary file beside ``path``, fsync it, then replace ``path``.

    Whatever fails (a full disk, a crash), the previous ``path`` is left as it was.
    """
    with atomic_path(path) as tmp, os.fdopen(os.open(tmp, os.O_WRONLY | os.O_TRUNC), "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (UTF-8, fsynced)."""
    atomic_write_bytes(path, text.encode("utf-8"))


def finite_json(data: Any) -> Any:
    """``data`` with every NaN or infinite float replaced by ``None`` (JSON ``null``), recursively
    through dicts, lists and tuples; numbers that are not plain floats (numpy, torch) are left to
    the JSON writer."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {key: finite_json(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [finite_json(value) for value in data]
    return data


def to_json(data: Any, indent: int | None = None) -> str:
    """Strict JSON text of ``data``: non-finite floats become ``null`` (:func:`finite_json`), never
    the bare ``NaN`` / ``Infinity`` tokens that JSON readers reject; other objects are written as
    ``str``."""
    return json.dumps(
        finite_json(data), indent=indent, sort_keys=True, default=str, allow_nan=False
    )


def atomic_write_json(path: str | Path, data: Any) -> None:
    """Write ``data`` as indented JSON to ``path`` atomically (NaN/infinity as ``null``)."""
    atomic_write_text(path, to_json(data, indent=2) + "\n")


def repair_jsonl(path: str | Path) -> None:
    """Make a JSONL file end with a complete line, so the next append starts a line of its own.

    A last line without its newline (a crash mid-write) is kept and terminated when it is
    valid JSON, and cut off otherwise; either way a warning names the line.
    """
    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        return
    data = path.read_bytes()
    if data.endswith(b"\n"):
        return
    start = data.rfind(b"\n") + 1
    number = data.count(b"\n") + 1
    tail = data[start:]
    try:
        json.loads(tail)
    except ValueError:
        warnings.warn(
            f"{path}: line {number} is torn (a write was interrupted); it is dropped: "
            f"{tail[:80].decode('utf-8', 'replace')!r}",
            RuntimeWarning,
            stacklevel=2,
        )
        atomic_write_bytes(path, data[:start])
        return
    warnings.warn(
        f"{path}: line {number} had no line end (a write was interrupted); it is kept.",
        RuntimeWarning,
        stacklevel=2,
    )
    atomic_write_bytes(path, data + b"\n")


def append_jsonl(path: str | Path, record: dict[str, Any]) -> None:
    """Append one JSON line (NaN/infinity as ``null``) and fsync, so a finished record survives a
    crash right after.

    A torn last line left by an earlier crash is repaired first (:func:`repair_jsonl`).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    repair_jsonl(path)
    line = to_json(record) + "\n"
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(line)
        fh.flush()
        os.fsync(fh.fileno())


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """Read a JSONL file; a torn last line (from a crash mid-write) is ignored."""
    path = Path(path)
    if not path.exists():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records


# What to do about an output folder that cannot be written, by errno.
OUTPUT_FIXES = {
    errno.ENOSPC: "Free disk space or choose another output folder.",
    errno.EDQUOT: "Free disk space (quota) or choose another output folder.",
    errno.EROFS: "It is on a read-only file system; choose another output folder.",
    errno.EACCES: "Make it writable or choose another output folder.",
    errno.EPERM: "Make it writable or choose another output folder.",
    errno.ENOTDIR: "A part of the path is a file; choose another output folder.",
}


def output_error(folder: Path, exc: OSError) -> OutputError:
    """The :class:`OutputError` for an ``OSError`` raised while writing into ``folder``."""
    where = f" (writing '{exc.filename}')" if exc.filename else ""
    fix = OUTPUT_FIXES.get(exc.errno or 0, "Choose another output folder.")
    return OutputError(
        f"cannot write to output folder '{folder}': {exc.strerror or exc}{where}. {fix}"
    )


def ensure_folder(folder: str | Path) -> Path:
    """Create ``folder`` (and its parents) if needed and check that it is a writable folder.

    Raises:
        OutputError: It, or a parent, is a file; or it cannot be created or written.
    """
    folder = Path(folder)
    blocker = next((p for p in (folder, *folder.parents) if p.exists()), None)
    if blocker is not None and not blocker.is_dir():
        raise OutputError(
            f"output folder '{folder}' cannot be created: '{blocker}' is a file, not a folder. "
            "Choose another output folder."
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise output_error(folder, exc) from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"output folder '{folder}' is read-only. {OUTPUT_FIXES[errno.EACCES]}")
    return folder


def claim_folder(base: str | Path) -> Path:
    """Create and return ``base``, or ``base_1``, ``base_2``, ... if taken: the first folder this
    call created itself (``os.mkdir`` is atomic, so concurrent callers get distinct folders).

    Raises:
        OutputError: The parent folder cannot be created or written.
    """
    base = Path(base)
    ensure_folder(base.parent)
    candidate, i = base, 0
    while True:
        try:
            os.mkdir(candidate)
            return candidate
        except FileExistsError:
            i += 1
            candidate = base.parent / f"{base.name}_{i}"
        except OSError as exc:
            raise output_error(base.parent, exc) from None


@contextmanager
def output_errors(folder: str | Path) -> Iterator[None]:
    """Turn a failed write into ``folder`` (full disk, read-only, permissions) into an
    :class:`OutputError` naming the folder; other errors pass unchanged."""
    folder = Path(folder)
    try:
        yield
    except OSError as exc:
        inside = exc.filename is None or Path(str(exc.filename)).is_relative_to(folder)
        if exc.errno in OUTPUT_FIXES and inside:
            raise output_error(folder, exc) from None
        raise
