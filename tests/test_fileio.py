"""Atomic writes: whole files with ordinary permissions, nothing left behind on failure."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from densepred.fileio import FILE_MODE, append_jsonl, atomic_path, atomic_write_text, read_jsonl


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
