"""``benchmark-data``: how fast a config's training input pipeline makes images, against how fast
the model consumes them.

Measured on this machine, in one process per source (the dataset's files, and a prepared cache
when ``data.cache`` is set):

- **stages**, one thread, milliseconds per image: ``read`` (decode the image and target files,
  or unpack a stored item), ``resize`` (the geometric step: resize or random crop),
  ``augment`` (flip, colour jitter, normalisation, tensors: the rest of the training pipeline)
  and ``collate`` (batching);
- **loaders**: images per second of the training loader itself (shuffled, batched) with 1 and
  N DataLoader workers, the workers started and warmed by a first epoch;
- **model**: the training step (forward, loss, backward, optimizer) on one fixed batch at the
  config's thread count, in images per second; its MACs; and an estimate for one GPU (no GPU
  is measured here): a published training throughput of the same encoder scaled by MACs
  (:data:`PUBLISHED_TRAIN`, :data:`NEWER_GPU`).

OpenCV runs one thread during the data measurements (a worker is a core); torch's thread count
is left as the config's process has it for the model step.
"""

from __future__ import annotations

import copy
import dataclasses
import gc
import math
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import albumentations as A
import cv2
import lightning as L
import numpy as np
import timm
import torch
from torch.utils.data import DataLoader

from densepred.app.tasks import TASKS
from densepred.config.run import Config
from densepred.core.benchmark import count_macs, markdown_table
from densepred.core.errors import ConfigError
from densepred.data.cache import stream_module
from densepred.data.collate import collate_native
from densepred.data.dense import DenseDataset
from densepred.data.dense_module import DenseDataModule
from densepred.models.execution import compile_for_training


@dataclass(frozen=True)
class Published:
    """A published training throughput of a classifier that shares the model's encoder."""

    model: str
    image_size: int
    images_per_s: float
    setup: str
    source: str


PUBLISHED_TRAIN = Published(
    model="mobilenetv3_large_100",
    image_size=224,
    images_per_s=2732.43,
    setup="RTX 3090, AMP, channels-last, batch 512, PyTorch 1.12, CUDA 11.3",
    source="timm, results/benchmark-train-amp-nhwc-pt112-cu113-rtx3090.csv "
    "(github.com/huggingface/pytorch-image-models)",
)
"""Training images/s of MobileNetV3-Large at 224x224 on an RTX 3090 (the newest training table
timm publishes)."""

NEWER_GPU = (
    22035.55 / 11135.72,
    "RTX 5090 / RTX 3090 inference of mobilenetv3_large_100 at 224 (AMP, batch 1024): 22036 / "
    "11136 images/s, timm results/benchmark-infer-amp-nchw-pt291-cu130-5090.csv and "
    "benchmark-infer-amp-nchw-pt240-cu124-rtx3090.csv",
)
"""How much faster a current GPU runs the same network (timm publishes no newer training table)."""

TRAIN_MACS_FACTOR = 3
"""MACs of a training step per forward MAC: the forward, and about twice it backward."""


@contextmanager
def _one_opencv_thread() -> Iterator[None]:
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        yield
    finally:
        cv2.setNumThreads(threads)


def _split_pipeline(dataset: DenseDataset) -> tuple[A.Compose, DenseDataset]:
    """The geometric first step of the dataset's pipeline alone, and a copy of the dataset whose
    pipeline is the rest (flip, jitter, normalisation, tensors)."""
    steps = list(dataset.transform.transforms)
    geometric = 1 if steps and isinstance(steps[0], A.Resize | A.RandomResizedCrop) else 0
    rest = copy.copy(dataset)
    rest.transform = A.Compose(steps[geometric:])
    return A.Compose(steps[:geometric]), rest


ReadFn = Callable[[int], tuple[np.ndarray, np.ndarray | None, str]]


def stage_times(dataset: DenseDataset, read: ReadFn, count: int, batch: int) -> dict[str, float]:
    """Milliseconds per image of each training stage in this process, over items ``0..count-1``.

    Args:
        dataset: The training dataset (its pipeline).
        read: Index -> (image, target, path) as the source gives them (decoded or unpacked).
        count: Items timed.
        batch: Batch size of the collate.
    """
    geometry, rest = _split_pipeline(dataset)
    totals = dict.fromkeys(("read", "resize", "augment", "collate"), 0.0)
    items = []
    for index in range(count):
        start = time.perf_counter()
        image, target, path = read(index)
        decoded = time.perf_counter()
        out = geometry(image=image, mask=target)
        resized = time.perf_counter()
        items.append(rest.make_item(out["image"], out["mask"], path))
        done = time.perf_counter()
        totals["read"] += decoded - start
        totals["resize"] += resized - decoded
        totals["augment"] += done - resized
    start = time.perf_counter()
    for first in range(0, count - batch + 1, batch):
        collate_native(items[first : first + batch])
    totals["collate"] = (time.perf_counter() - start) * count / max(1, count // batch * batch)
    times = {stage: 1000.0 * seconds / count for stage, seconds in totals.items()}
    return {**times, "total": sum(times.values())}


def loader_rate(loader: DataLoader, epochs: int) -> float:
    """Images per second of ``loader``: the best of ``epochs`` timed epochs after a first one
    that starts and warms the workers."""
    best = 0.0
    for epoch in range(epochs + 1):
        start, images = time.perf_counter(), 0
        for batch in loader:
            images += len(batch["path"])
        if epoch:
            best = max(best, images / (time.perf_counter() - start))
    return best


def train_step_rate(
    config: Config, batch: dict[str, Any], steps: int, warmup: int
) -> dict[str, Any]:
    """The model's training step on one fixed batch: ms, images/s, threads and MACs."""
    L.seed_everything(config.seed, verbose=False)
    task = TASKS.get(config.task_name)(config)
    compile_for_training(task.model, config.model)
    optimizers, schedulers = task.build_optimizers(steps + warmup)
    task.train()
    for i in range(steps + warmup):
        if i == warmup:
            start = time.perf_counter()
        task.plain_training_step(batch, optimizers)
        for scheduler in schedulers:
            scheduler.step()
    ms = 1000.0 * (time.perf_counter() - start) / steps
    size = tuple(batch["image"].shape[1:])
    return {
        "ms_per_step": ms,
        "images_per_s": 1000.0 * len(batch["path"]) / ms,
        "threads": torch.get_num_threads(),
        "forward_macs_per_image": count_macs(task.model, (1, *size)),
    }


def gpu_estimate(forward_macs: int) -> dict[str, Any]:
    """Training images/s one GPU would take: :data:`PUBLISHED_TRAIN` scaled by MACs per image
    (the published network's over this model's), for that GPU and for a current one."""
    reference = timm.create_model(PUBLISHED_TRAIN.model, pretrained=False)
    size = PUBLISHED_TRAIN.image_size
    reference_macs = count_macs(reference, (1, 3, size, size))
    rate = PUBLISHED_TRAIN.images_per_s * reference_macs / forward_macs
    return {
        "reference_macs": reference_macs,
        "published": dataclasses.asdict(PUBLISHED_TRAIN),
        "rtx3090_images_per_s": rate,
        "current_gpu_images_per_s": rate * NEWER_GPU[0],
        "current_gpu_source": NEWER_GPU[1],
    }


@dataclass
class Source:
    """One way of feeding training: its dataset pipeline, item reader and loader factory."""

    name: str
    dataset: DenseDataset
    read: ReadFn
    count: int
    loader: Callable[[int], DataLoader]


def _files_source(datamodule: DenseDataModule) -> Source:
    cfg = datamodule.config
    dataset = datamodule.dense_dataset(datamodule.samples(cfg.train_split, cfg.limit_train), True)

    def read(index: int) -> tuple[np.ndarray, np.ndarray | None, str]:
        sample = dataset.samples[index]
        return (*dataset.read(sample), str(sample.image))

    def loader(workers: int) -> DataLoader:
        return DataLoader(
            dataset,
            batch_size=cfg.batch_size,
            shuffle=True,
            drop_last=True,
            num_workers=workers,
            persistent_workers=workers > 0,
            collate_fn=collate_native,
        )

    return Source("files", dataset, read, len(dataset), loader)


def _cache_source(datamodule: DenseDataModule) -> Source:
    cfg, stream = datamodule.config, stream_module()
    location = stream.child(cfg.cache, "train")
    count = datamodule.manifest()["splits"]["train"]["items"]
    dataset = datamodule.dense_dataset([], True)
    stored = stream.CachedSplit(location, count, dataset.make_item)

    def read(index: int) -> tuple[np.ndarray, np.ndarray | None, str]:
        item = stored.stored(index)
        return item["image"], item["target"], item["path"]

    def loader(workers: int) -> DataLoader:
        split = stream.StreamedSplit(location, dataset.make_item, seed=0, drop_last=True)
        return stream.stream_loader(split, cfg.batch_size, workers, collate_native, False)

    return Source("cache", dataset, read, count, loader)


def benchmark_data(
    config: Config,
    workers: Sequence[int] = (1, 2),
    images: int = 100,
    epochs: int = 2,
    rounds: int = 2,
    steps: int = 20,
    model: bool = True,
) -> dict[str, Any]:
    """Measure the input pipeline from files (and from ``data.cache`` when set) and the model.

    Args:
        config: A depth or segmentation config (its training split and pipeline).
        workers: DataLoader worker counts whose loader rates are measured.
        images: Items timed stage by stage (at most the split's).
        epochs: Timed loader epochs (after a warm-up epoch) per round.
        rounds: Interleaved repeats of every data measurement; the best is kept.
        steps: Timed training steps (after 5 warm-up steps); 0 skips the model.
        model: Measure the model's step and estimate the GPU's.

    Returns:
        ``stages`` (source -> stage -> ms per image), ``loaders`` (source -> workers ->
        images/s), ``model`` and ``gpu`` (see :func:`train_step_rate`, :func:`gpu_estimate`).
    """
    task_cls = TASKS.get(config.task_name)
    files_config = dataclasses.replace(config, data=config.data.model_copy(update={"cache": None}))
    modules = {"files": task_cls.build_datamodule(files_config)}
    if not isinstance(modules["files"], DenseDataModule):
        raise ConfigError(
            f"benchmark-data measures dense tasks (depth, segmentation), not '{config.task_name}'."
        )
    modules["files"].prepare_data()
    sources = [_files_source(modules["files"])]
    if config.data.cache is not None:
        cached = task_cls.build_datamodule(config)
        cached.preflight()
        sources.append(_cache_source(cached))
    stages: dict[str, dict[str, float]] = {}
    loaders: dict[str, dict[int, float]] = {s.name: {} for s in sources}
    with _one_opencv_thread():
        for _ in range(rounds):
            for source in sources:
                count = min(images, source.count)
                times = stage_times(source.dataset, source.read, count, config.data.batch_size)
                best = stages.setdefault(source.name, times)
                stages[source.name] = {k: min(best[k], v) for k, v in times.items()}
                for n in workers:
                    rate = loader_rate(source.loader(n), epochs)
                    gc.collect()  # its workers end here, before the next loader forks
                    loaders[source.name][n] = max(loaders[source.name].get(n, 0.0), rate)
    result: dict[str, Any] = {"stages": stages, "loaders": loaders}
    if model and steps > 0:
        batch = next(iter(sources[0].loader(0)))
        result["model"] = train_step_rate(config, batch, steps, warmup=5)
        result["gpu"] = gpu_estimate(result["model"]["forward_macs_per_image"])
    return result


CORES = 16
"""The machine :func:`report` sizes: its workers are all cores but the training process's."""


def report(result: dict[str, Any], batch: int) -> str:
    """:func:`benchmark_data`'s numbers as Markdown tables, with the workers each source needs
    to keep the estimated GPU fed."""
    stages, loaders = result["stages"], result["loaders"]
    counts = sorted({n for rates in loaders.values() for n in rates})
    rows = []
    for name, times in stages.items():
        row: dict[str, Any] = {"source": name}
        row |= {f"{stage} ms": value for stage, value in times.items()}
        row["img/s, 1 thread"] = f"{1000.0 / times['total']:.0f}"
        row |= {f"img/s, {n} workers": f"{loaders[name][n]:.0f}" for n in counts}
        rows.append(row)
    text = markdown_table(rows)
    if "model" not in result:
        return text
    model, gpu = result["model"], result["gpu"]
    demand = gpu["current_gpu_images_per_s"]
    rows = [
        {
            "": f"training step on this CPU (batch {batch}, {model['threads']} threads)",
            "images/s": f"{model['images_per_s']:.1f}",
        },
        {
            "": "RTX 3090, estimated (published MobileNetV3-Large training x MACs)",
            "images/s": f"{gpu['rtx3090_images_per_s']:.0f}",
        },
        {
            "": "current GPU, estimated (x RTX 5090 / 3090 inference)",
            "images/s": f"{demand:.0f}",
        },
    ]
    one = min(counts)
    for name, rates in loaders.items():
        per_worker = rates[one] / one
        fed = per_worker * (CORES - 1)
        verdict = "fed" if fed >= demand else "starved"
        rows.append(
            {
                "": f"{name}: workers to feed the current GPU; {CORES - 1} workers give",
                "images/s": f"{math.ceil(demand / per_worker)} workers; {fed:.0f} ({verdict})",
            }
        )
    published = gpu["published"]
    note = (
        f"forward MACs per image: {model['forward_macs_per_image'] / 1e9:.3f} G (reference "
        f"{published['model']} at {published['image_size']}: {gpu['reference_macs'] / 1e9:.3f} "
        f"G); published: {published['images_per_s']} img/s, {published['setup']}, "
        f"{published['source']}; {gpu['current_gpu_source']}\n"
    )
    return text + "\n" + markdown_table(rows) + "\n" + note
