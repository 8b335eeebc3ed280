"""Atomic file writes and output folders: a crash, Ctrl-C or full disk never leaves a
half-written result behind, and an unwritable folder is a clear error."""

from __future__ import annotations

import errno
import json
import logging
import math
import os
import re
import tempfile
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from densepred.core.errors import OutputError

log = logging.getLogger(__name__)

_UMASK = os.umask(0)
os.umask(_UMASK)
FILE_MODE = 0o666 & ~_UMASK
"""Mode of the files written here: what ``open(path, "w")`` would give under this umask."""
DIR_MODE = 0o777 & ~_UMASK
"""Mode of the folders written here: what ``mkdir`` would give under this umask."""


TEMP_MARK = ".tmp-"
TEMP_NAME = re.compile(r"^\..+\.tmp-[a-z0-9_]{8}(\.[^.]+)?$")
"""Names of :func:`atomic_path`'s temporary files: ``.<name>.tmp-<8 random characters><suffix>``
(``.last.ckpt.tmp-k2j4x9_a.ckpt``); the suffix stays, as writers choose the format by it."""


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path in the same folder; on success it replaces ``path`` atomically.

    A process killed mid-write (SIGKILL, power loss) leaves the temporary file behind;
    :func:`remove_temp_files` removes such files when work starts in that folder again.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.name}{TEMP_MARK}", suffix=path.suffix or ".tmp", dir=path.parent
    )
    os.close(fd)
    os.chmod(tmp, FILE_MODE)  # mkstemp makes it 0600
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def remove_temp_files(folder: str | Path) -> list[Path]:
    """Remove the temporary files that interrupted atomic writes left in ``folder`` and below.

    Call it only where no other process writes (a run folder under its lock): a live write's
    temporary file looks the same.

    Returns:
        The files removed (a warning names their count and size).
    """
    removed: list[Path] = []
    size = 0
    for parent, _, names in os.walk(folder):
        for name in names:
            if TEMP_NAME.match(name):
                path = Path(parent) / name
                try:
                    size += path.stat().st_size
                    path.unlink()
                except FileNotFoundError:
                    continue
                removed.append(path)
    if removed:
        log.warning(
            "removed %d temporary file(s) (%.1f MB) left in '%s' by interrupted writes, e.g. '%s'",
            len(removed),
            size / 1e6,
            folder,
            removed[0].name,
        )
    return removed


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


def _same_path(a: Path, b: Path) -> bool:
    if a.exists() and b.exists():
        return os.path.samefile(a, b)
    return a.resolve() == b.resolve()


def check_output(
    out: str | Path,
    inputs: Mapping[str, str | Path | Iterable[str | Path] | None],
    suffix: str | None = None,
    folder: bool = False,
    companions: Iterable[Callable[[Path], Path]] = (),
    option: str = "--out",
) -> Path:
    """Check an output path before any work: it never replaces an input and has the right type.

    Args:
        out: The output file, or folder with ``folder=True``.
        inputs: What the command reads, by role (``checkpoint``, ``config``, ``input image``):
            a path, several paths, or None.
        suffix: The extension the written file must have (``.json``, ``.onnx``); an ``out``
            without any extension gets it added, another extension is an error.
        folder: ``out`` is a folder (it must not be an input file or folder either).
        companions: The other files written, each a function of ``out`` (an export's report
            ``<out>.json``, an evaluation's sample grid ``<out stem>.png``); checked against the
            inputs too.
        option: The option that named ``out``, for messages.

    Returns:
        ``out``, with ``suffix`` added when it had no extension.

    Raises:
        OutputError: ``out`` (or a companion) is an input, an existing folder where a file is
            written, or has another extension than ``suffix``.
    """
    out = Path(out)
    if not folder:
        if out.is_dir():
            example = out / f"name{suffix or ''}"
            raise OutputError(
                f"{option} '{out}' is an existing folder; it must name the file to write (e.g. "
                f"'{example}')."
            )
        if suffix and not out.suffix:
            out = out.with_name(out.name + suffix)
    written = [out, *(companion(out) for companion in companions)]
    for role, given in inputs.items():
        paths = [given] if isinstance(given, (str, Path)) else list(given or ())
        for path in map(Path, paths):
            hit = next((w for w in written if _same_path(w, path)), None)
            if hit is not None:
                what = "" if hit == out else f" (it writes '{hit}')"
                raise OutputError(
                    f"{option} '{out}' would overwrite the {role} '{path}' it reads{what}; "
                    "choose another output path."
                )
    if not folder and suffix and out.suffix.lower() != suffix:
        raise OutputError(
            f"{option} '{out}' ends in '{out.suffix}' but the file written is {suffix}; use "
            f"'{out.with_suffix(suffix)}' (a name without an extension gets {suffix} added)."
        )
    return out
