"""One writer per run folder: a lock file holding the writer's pid and host.

:func:`folder_lock` holds ``<folder>/run.lock`` for as long as training (or ``--resume``) writes
into the folder. A second process is refused with a message naming the holder. A lock left by a
process that died (SIGKILL, power loss) is taken over with a warning when that process ran on this
host; one from another host is refused, since its process cannot be checked from here.

The lock is an ``fcntl.flock`` on the file, which the kernel releases when the holder dies; the
pid and host written into the file name the holder in messages and decide the other-host case.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from densepred.core.errors import OutputError

log = logging.getLogger(__name__)

LOCK_NAME = "run.lock"


def _holder(fd: int) -> dict[str, Any]:
    """The pid/host record in an open lock file (empty when the file is empty or unreadable)."""
    try:
        data = json.loads(os.pread(fd, 4096, 0).decode("utf-8") or "{}")
    except (ValueError, OSError):
        return {}
    return data if isinstance(data, dict) else {}


def _describe(holder: dict[str, Any]) -> str:
    since = holder.get("since")
    when = f" since {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(since))}" if since else ""
    return f"process {holder.get('pid', '?')} on host '{holder.get('host', '?')}'{when}"


def _open_locked(path: Path) -> int:
    """Open ``path`` and take its flock; ``OutputError`` naming the holder when it is held."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise OutputError(
                f"run folder '{path.parent}' is in use by {_describe(holder)} (lock file "
                f"'{path}'); a run folder has one writer. Wait for that run to end, or stop it."
            ) from None
        try:
            current = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            current = False
        if current:
            return fd
        os.close(fd)  # the previous holder removed the file as we opened it: open it anew


@contextmanager
def folder_lock(folder: str | Path) -> Iterator[Path]:
    """Hold ``folder``'s lock file while the block runs; it is removed afterwards.

    Raises:
        OutputError: Another live process holds it, or a process on another host left it.
    """
    path = Path(folder) / LOCK_NAME
    fd = _open_locked(path)
    try:
        _take_over(path, _holder(fd))
    except BaseException:
        os.close(fd)  # another host's lock stays as it is
        raise
    record = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record).encode("utf-8"), 0)
        os.fsync(fd)
        yield path
    finally:
        path.unlink(missing_ok=True)  # before the flock goes, so no one takes an orphaned file
        os.close(fd)


def _take_over(path: Path, holder: dict[str, Any]) -> None:
    """Accept the flocked lock file ``path`` whose last holder is ``holder`` (empty: none)."""
    host = socket.gethostname()
    if holder and holder.get("host") != host:
        raise OutputError(
            f"run folder '{path.parent}' is locked by {_describe(holder)}, which cannot be "
            f"checked from host '{host}'. If that run has ended, delete '{path}' and start again."
        )
    if holder:  # the kernel released its flock: that process is gone
        log.warning(
            "run folder '%s': taking over the lock of %s, which is no longer running.",
            path.parent,
            _describe(holder),
        )
