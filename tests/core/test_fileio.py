"""Atomic writes: whole files with ordinary permissions, nothing left behind on failure."""

from __future__ import annotations

import errno
import math
import os
import threading
from pathlib import Path

import pytest

from densepred.core.errors import OutputError
from densepred.core.fileio import (
    FILE_MODE,
    append_jsonl,
    atomic_path,
    atomic_write_json,
    atomic_write_text,
    claim_folder,
    ensure_folder,
    output_errors,
    read_jsonl,
)


def test_written_file_has_the_mode_of_an_ordinary_file(tmp_path: Path) -> None:
    atomic_write_text(tmp_path / "sub" / "a.md", "hello")
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    assert (tmp_path / "sub" / "a.md").read_text() == "hello"
    mode = (tmp_path / "sub" / "a.md").stat().st_mode & 0o777
    assert mode == FILE_MODE == plain.stat().st_mode & 0o777


def test_failure_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "r.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("interrupted")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["r.csv"]


def test_jsonl_round_trip(tmp_path: Path) -> None:
    append_jsonl(tmp_path / "r.jsonl", {"a": 1})
    append_jsonl(tmp_path / "r.jsonl", {"b": [2, 3]})
    assert read_jsonl(tmp_path / "r.jsonl") == [{"a": 1}, {"b": [2, 3]}]


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_json_writers_write_null_for_non_finite_floats(
    tmp_path: Path, bad: float, strict_json
) -> None:
    record = {"val": {"a": bad, "b": 0.5}, "list": [1.0, bad], "tuple": (bad,)}
    expected = {"val": {"a": None, "b": 0.5}, "list": [1.0, None], "tuple": [None]}
    atomic_write_json(tmp_path / "m.json", record)
    append_jsonl(tmp_path / "r.jsonl", record)
    assert strict_json((tmp_path / "m.json").read_text()) == expected
    assert [strict_json(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()] == [
        expected
    ]


def test_concurrent_claims_get_distinct_folders(tmp_path: Path) -> None:
    """Issue 12, case 1: os.mkdir decides; every caller gets a folder of its own."""
    start = threading.Barrier(8)
    claimed: list[Path] = []

    def claim() -> None:
        start.wait()
        claimed.append(claim_folder(tmp_path / "runs" / "name"))

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(p.name for p in claimed) == sorted(["name", *(f"name_{i}" for i in range(1, 8))])


@pytest.mark.parametrize(
    ("tail", "kept"),
    [(b'{"trial_id": "b", "sta', [{"a": 1}]), (b'{"b": 2}', [{"a": 1}, {"b": 2}])],
)
def test_torn_last_line_is_repaired_before_the_next_append(
    tmp_path: Path, tail: bytes, kept: list[dict]
) -> None:
    """Issue 12, case 4: a torn tail is cut (or terminated when whole) with a warning naming the
    line, so the next record is a line of its own."""
    path = tmp_path / "r.jsonl"
    path.write_bytes(b'{"a": 1}\n' + tail)
    with pytest.warns(RuntimeWarning, match=f"{path}: line 2"):
        append_jsonl(path, {"c": 3})
    assert read_jsonl(path) == [*kept, {"c": 3}]


def test_unwritable_output_folders(tmp_path: Path) -> None:
    """Issue 12, case 12: a folder under a file, and a folder that cannot be written."""
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="'.*file' is a file, not a folder"):
        ensure_folder(tmp_path / "file" / "out")
    with pytest.raises(OutputError, match="No space left on device.*Free disk space"):
        with output_errors(tmp_path):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    with pytest.raises(PermissionError):  # a file outside the folder is not the folder's fault
        with output_errors(tmp_path / "out"):
            raise PermissionError(errno.EACCES, "Permission denied", "/etc/other")
