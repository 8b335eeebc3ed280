"""LitData shards of a cache: what an item stores, and each DDP rank streaming a disjoint part of
every epoch (emulated ranks here; two real gloo processes in the slow test)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("litdata")

from litdata.utilities.env import _DistributedEnv  # noqa: E402

from densepred.data.collate import collate_native  # noqa: E402
from densepred.data.depth import DepthDataset  # noqa: E402
from densepred.data.layout import read_samples  # noqa: E402
from densepred.data.stream import (  # noqa: E402
    CachedSplit,
    ItemWriter,
    StreamedSplit,
    split_written,
    stream_loader,
    write_split,
)
from densepred.data.transforms import build_dense_transform  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def _reader(folder: Path) -> DepthDataset:
    return DepthDataset(read_samples("mai", "depth", folder, "train"))


@pytest.fixture(scope="module")
def shards(tiny_synthetic: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 6 training pairs of the tiny synthetic set (48x64), resized to 32x48, as shards."""
    out = tmp_path_factory.mktemp("shards") / "train"
    write_split(ItemWriter(_reader(tiny_synthetic), (32, 48), True), range(6), str(out), 2, "64MB")
    return out


def test_a_stored_item_is_the_resized_decoded_pair(tiny_synthetic: Path, shards: Path) -> None:
    assert split_written(str(shards))
    reader = _reader(tiny_synthetic)
    stored = CachedSplit(str(shards), 6, reader.make_item).stored(4)
    image, depth = reader.read(reader.samples[4])
    resized = build_dense_transform(False, (32, 48))
    assert stored["path"] == str(reader.samples[4].image)  # the name, not the file's bytes
    assert stored["image"].dtype == np.uint8 and stored["image"].shape == (32, 48, 3)
    expected = build_dense_transform(False, None)(image=stored["image"])["image"]
    assert torch.equal(resized(image=image)["image"], expected)
    assert np.array_equal(stored["target"], resized(image=image, mask=depth)["mask"].numpy())


@pytest.mark.parametrize(("size", "stored"), [((24, 32), (24, 32)), ((64, 80), (48, 64))])
def test_crop_sources_are_shrunk_never_enlarged(
    tiny_synthetic: Path, size: tuple[int, int], stored: tuple[int, int]
) -> None:
    """Items for random crops are stored at the requested size only when that shrinks them."""
    item = ItemWriter(_reader(tiny_synthetic), size, True, shrink_only=True)(0)
    assert item["image"].shape[:2] == item["target"].shape == stored


def _rank_epoch(shards: Path, rank: int, world: int, workers: int, epoch: int) -> list[str]:
    env = _DistributedEnv(world, rank, 1)
    original = _DistributedEnv.detect
    _DistributedEnv.detect = classmethod(lambda cls: env)  # what torch.distributed would say
    try:
        split = StreamedSplit(str(shards), DepthDataset([]).make_item, seed=3, drop_last=True)
        loader = stream_loader(split, 1, workers, collate_native, pin_memory=False)
        paths = []
        for _ in range(epoch):
            paths = [p for batch in loader for p in batch["path"]]
        return paths
    finally:
        _DistributedEnv.detect = original


@pytest.mark.parametrize("workers", [0, 2])
def test_ranks_stream_disjoint_parts_that_cover_each_epoch(shards: Path, workers: int) -> None:
    for epoch in (1, 2):
        parts = [_rank_epoch(shards, rank, 2, workers, epoch) for rank in range(2)]
        assert len(parts[0]) == len(parts[1]) == 3
        assert not set(parts[0]) & set(parts[1])
        assert len(set(parts[0]) | set(parts[1])) == 6


def _ddp_rank(rank: int, store: str, overrides: list[str], out: str) -> None:
    """One process of the slow test: the cached data module under torch.distributed."""
    import lightning as L

    from densepred.app.config import load_config
    from densepred.app.tasks import TASKS

    torch.distributed.init_process_group(
        "gloo", init_method=f"file://{store}", rank=rank, world_size=2
    )
    try:
        L.seed_everything(0, verbose=False)
        config = load_config(ROOT / "configs" / "depth_mbv3_unet.yaml", overrides)
        datamodule = TASKS.get("depth").build_datamodule(config)
        datamodule.setup("fit")
        loader = datamodule.train_dataloader()
        epochs = [[p for batch in loader for p in batch["path"]] for _ in range(2)]
        Path(out, f"rank{rank}.json").write_text(json.dumps(epochs))
    finally:
        torch.distributed.destroy_process_group()


@pytest.mark.slow
def test_two_gloo_processes_stream_disjoint_parts_of_every_epoch(tmp_path: Path) -> None:
    """Two real DDP processes (gloo) with the config's data module and 2 loader workers each:
    every epoch, disjoint halves of the 8 training items that together cover all of them."""
    from densepred.app.config import load_config
    from densepred.app.prepare_data import prepare_data

    overrides = [
        f"data.root={tmp_path / 'data'}",
        "data.args={num_train: 8, num_val: 2, size: [48, 64], seed: 0}",
        "data.image_size=[32, 48]",
        "data.batch_size=2",
        "data.num_workers=2",
    ]
    config = load_config(ROOT / "configs" / "depth_mbv3_unet.yaml", overrides)
    prepare_data(config, out=str(tmp_path / "cache"), workers=2)
    overrides.append(f"data.cache={tmp_path / 'cache'}")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    torch.multiprocessing.spawn(
        _ddp_rank, args=(str(tmp_path / "store"), overrides, str(tmp_path)), nprocs=2
    )
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]
    for epoch in range(2):
        first, second = ranks[0][epoch], ranks[1][epoch]
        assert len(first) == len(second) == 4
        assert not set(first) & set(second) and len(set(first) | set(second)) == 8
