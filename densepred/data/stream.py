"""A prepared cache's splits as LitData shards: writing them, streaming and reading them.

Needs LitData (the optional ``stream`` extra); :func:`densepred.data.cache.stream_module` imports
this module or names the extra.

- :func:`write_split`: one split with ``litdata.optimize``, each item what the task's dataset
  decodes (:meth:`~densepred.data.dense.DenseDataset.read`) resized with the evaluation resize
  (:func:`~densepred.data.transforms.resize_pair`): ``image`` HxWx3 uint8, ``target`` HxW
  (float32 metres or int32 class ids), ``path`` the image file (a ``litdata.Text``: LitData
  stores a plain string that names an existing file as that file's bytes).
- :class:`StreamedSplit`: the training split, a ``litdata.StreamingDataset`` shuffled each epoch
  and sharded over DDP ranks and DataLoader workers by LitData, read with
  :func:`stream_loader` (``litdata.StreamingDataLoader``).
- :class:`CachedSplit`: an evaluation split read by index, so validation and test keep the
  order, batches and DDP sampler of file-based data.
- :func:`read_json`, :func:`write_json`: the cache's small records, in a folder or at an
  ``s3://`` prefix (through LitData's storage clients).
"""

from __future__ import annotations

import contextlib
import json
import logging
import multiprocessing as mp
import os
import signal
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import litdata
from litdata import StreamingDataLoader, StreamingDataset
from litdata.streaming.fs_provider import _get_fs_provider
from torch.utils.data import Dataset

from densepred.core.errors import DataError
from densepred.core.fileio import atomic_write_text, to_json
from densepred.data.dense import DenseDataset
from densepred.data.transforms import resize_pair

logger = logging.getLogger(__name__)

INDEX = "index.json"
"""LitData's index of a split's shards, written after all of them."""

MakeItem = Callable[[Any, Any, str], dict[str, Any]]


def is_remote(location: str) -> bool:
    """Whether ``location`` is an object-store URL (``s3://...``) rather than a folder."""
    return "://" in location


def child(location: str, name: str) -> str:
    """``location/name`` for a folder or a URL."""
    return f"{location.rstrip('/')}/{name}"


def exists(location: str) -> bool:
    """Whether the file at ``location`` exists."""
    if not is_remote(location):
        return Path(location).is_file()
    return _get_fs_provider(location).exists(location)


def read_json(location: str) -> Any | None:
    """The JSON file at ``location``, or ``None`` if there is none."""
    if not is_remote(location):
        path = Path(location)
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
    if not exists(location):
        return None
    with tempfile.TemporaryDirectory(prefix="densepred-cache-") as folder:
        local = os.path.join(folder, "record.json")
        _get_fs_provider(location).download_file(location, local)
        return json.loads(Path(local).read_text(encoding="utf-8"))


def write_json(location: str, data: Any) -> None:
    """Write ``data`` as JSON to ``location``: atomically in a folder, one upload to a URL."""
    text = to_json(data, indent=2)
    if not is_remote(location):
        atomic_write_text(location, text)
        return
    with tempfile.TemporaryDirectory(prefix="densepred-cache-") as folder:
        local = os.path.join(folder, "record.json")
        Path(local).write_text(text, encoding="utf-8")
        _get_fs_provider(location).upload_file(local, location)


def remove(location: str) -> None:
    """Delete the file at ``location`` if it exists."""
    if not is_remote(location):
        Path(location).unlink(missing_ok=True)
    elif exists(location):
        _get_fs_provider(location).delete_file_or_directory(location)


class ItemWriter:
    """The function ``litdata.optimize`` maps over a split's indices: one stored item.

    Args:
        dataset: The split's dataset (its records and its decoding).
        size: (H, W) to resize to (``None``: the files' size).
        resize_target: Resize the target too (``False``: native-size evaluation targets).
        shrink_only: Resize only an image larger than ``size`` on both sides; a smaller one is
            stored as it is (a random crop then takes it from the file's pixels, as without cache).
    """

    def __init__(
        self,
        dataset: DenseDataset,
        size: Sequence[int] | None,
        resize_target: bool,
        shrink_only: bool = False,
    ) -> None:
        self.dataset = dataset
        self.size = tuple(size) if size is not None else None
        self.resize_target = resize_target
        self.shrink_only = shrink_only

    def __call__(self, index: int) -> dict[str, Any]:
        sample = self.dataset.samples[index]
        image, target = self.dataset.read(sample)
        size = self.size
        if size is not None and self.shrink_only:
            size = size if image.shape[0] > size[0] and image.shape[1] > size[1] else None
        image, target = resize_pair(image, target, size, self.resize_target)
        # Text: a plain str naming an existing image file would be stored as that file's bytes.
        return {"image": image, "target": target, "path": litdata.Text(text=str(sample.image))}


def _worker_error(exc: Exception) -> str:
    """The message of the densepred error behind a failed ``optimize`` (its worker's traceback
    text), or LitData's own message."""
    text = str(exc)
    for kind in ("DataError", "ConfigError", "DensepredError"):
        marker = f"densepred.core.errors.{kind}: "
        if marker in text:
            return text.rsplit(marker, 1)[1].split("\n\nThe above exception")[0].strip()
    return text


def write_split(
    writer: ItemWriter,
    order: Sequence[int],
    location: str,
    workers: int,
    chunk_bytes: str,
) -> None:
    """Write the items ``writer(i)`` for ``i`` in ``order`` as LitData shards at ``location``.

    LitData writes ``index.json`` after every shard, so a split without it is incomplete; the
    folder's earlier shards are replaced (``mode="overwrite"``).

    Args:
        writer: Makes one stored item from a record index.
        order: Record indices in the order they are stored.
        location: The split's folder or URL.
        workers: Processes decoding in parallel.
        chunk_bytes: Shard size, e.g. ``"64MB"``.

    Raises:
        DataError: A record could not be read (the message of the worker's error).
    """
    start = "fork" if "fork" in mp.get_all_start_methods() else None  # as DataLoader workers
    before = set(_descendants(os.getpid()))
    try:
        litdata.optimize(
            fn=writer,
            inputs=list(order),
            output_dir=location,
            chunk_bytes=chunk_bytes,
            num_workers=max(1, workers),
            reorder_files=False,  # keep ``order``: LitData sorts by file size otherwise
            keep_data_ordered=True,
            mode="overwrite",
            start_method=start,
            verbose=False,
        )
    except RuntimeError as exc:
        _end_workers(before)
        raise DataError(f"writing '{location}' failed: {_worker_error(exc)}") from None


def _descendants(pid: int) -> list[int]:
    """The processes below ``pid`` (children first), from ``/proc``; empty where there is none."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        children = parents.get(todo.pop(), [])
        found += children
        todo += children
    return found


def _end_workers(before: set[int], grace: float = 5.0) -> None:
    """End the processes LitData left running (the descendants not in ``before``): after a
    worker's error it terminates the workers, but a worker may outlive that and the helper
    process each one started would wait on a queue forever. SIGTERM, then SIGKILL for our own
    children still alive after ``grace`` seconds."""
    ended = set(_descendants(os.getpid())) - before
    for pid in ended:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for process in mp.active_children():  # only ours: older ones (loader workers) are left alone
        if process.pid in ended:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()


def split_written(location: str) -> bool:
    """Whether a split at ``location`` was written to its end (LitData's index is there)."""
    return exists(child(location, INDEX))


class StreamedSplit(StreamingDataset):
    """A cache's training split, streamed: shuffled every epoch, each DDP rank and DataLoader
    worker reading a disjoint part of it (LitData's sharding), items made by the task's dataset.

    Args:
        location: The split's folder or URL.
        make_item: ``make_item(image, target, path)`` of the task's training dataset.
        seed: Shuffle seed; all ranks must pass the same.
        drop_last: Drop items so every rank and worker gets whole batches of the same count.
    """

    def __init__(self, location: str, make_item: MakeItem, seed: int, drop_last: bool) -> None:
        super().__init__(location, shuffle=True, seed=seed, drop_last=drop_last)
        self.make_item = make_item

    def __getitem__(self, index: Any) -> dict[str, Any]:
        stored = super().__getitem__(index)
        return self.make_item(stored["image"], stored["target"], stored["path"])


class CachedSplit(Dataset):
    """A cache's evaluation split read by index (the file order, any sampler).

    Each process opens the shards itself on first use, so the dataset can be handed to
    DataLoader workers.

    Args:
        location: The split's folder or URL.
        count: Its number of items.
        make_item: ``make_item(image, target, path)`` of the task's evaluation dataset
            (``None``: only :meth:`stored` is used).
    """

    def __init__(self, location: str, count: int, make_item: MakeItem | None = None) -> None:
        self.location = location
        self.count = count
        self.make_item = make_item
        self._items: StreamingDataset | None = None
        self._pid = -1

    def __len__(self) -> int:
        return self.count

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_items": None, "_pid": -1}

    def stored(self, index: int) -> dict[str, Any]:
        """Item ``index`` as stored: ``image``, ``target`` and ``path``."""
        if index < 0 or index >= self.count:
            raise IndexError(f"index {index} out of range for {self.count} items")
        if self._items is None or self._pid != os.getpid():
            self._items, self._pid = StreamingDataset(self.location), os.getpid()
        return self._items[index]

    def __getitem__(self, index: int) -> dict[str, Any]:
        if self.make_item is None:
            raise TypeError("CachedSplit without make_item: read stored items with stored()")
        stored = self.stored(index)
        return self.make_item(stored["image"], stored["target"], stored["path"])


def stream_loader(
    dataset: StreamedSplit,
    batch_size: int,
    num_workers: int,
    collate_fn: Callable[[list[dict[str, Any]]], dict[str, Any]],
    pin_memory: bool,
) -> StreamingDataLoader:
    """The loader of a streamed split (it advances the shuffle each epoch and saves its
    position in Lightning's checkpoints)."""
    return StreamingDataLoader(
        dataset,
        batch_size=batch_size,
        num_workers=num_workers,
        collate_fn=collate_fn,
        pin_memory=pin_memory,
        persistent_workers=num_workers > 0,
    )
