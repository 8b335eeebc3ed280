"""Feature-map grids: what each encoder stage sees of one image."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import torch
from matplotlib.figure import Figure
from timm.data import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD
from torch import Tensor

from densepred.data.io import read_image, write_image
from densepred.encoders import Encoder


def image_to_tensor(rgb: np.ndarray) -> Tensor:
    """HxWx3 uint8 RGB -> 1x3xHxW float tensor with ImageNet normalisation."""
    mean = np.asarray(IMAGENET_DEFAULT_MEAN, dtype=np.float32)
    std = np.asarray(IMAGENET_DEFAULT_STD, dtype=np.float32)
    normalised = (rgb.astype(np.float32) / 255.0 - mean) / std
    return torch.from_numpy(normalised).permute(2, 0, 1).unsqueeze(0)


def save_feature_grid(
    fmap: Tensor, path: Path, title: str, num: int = 16, cmap: str = "viridis"
) -> Path:
    """Save the first ``num`` channels of one feature map as a PNG grid.

    Each channel is scaled to its own min..max (matplotlib's per-image autoscaling).

    Args:
        fmap: C x H x W feature map.
        path: Output PNG.
        title: Figure title.
        num: Channels shown (at most C).
        cmap: Matplotlib colormap.
    """
    maps = fmap[:num].float().cpu().numpy()
    cols = math.ceil(math.sqrt(len(maps)))
    rows = math.ceil(len(maps) / cols)
    cell_height = 2.0 * maps.shape[1] / maps.shape[2]  # 2-inch-wide cells, aspect kept
    fig = Figure(figsize=(2.0 * cols, cell_height * rows + 0.6), layout="constrained")
    fig.suptitle(title)
    for index, (ax, channel) in enumerate(
        zip(fig.subplots(rows, cols, squeeze=False).flat, maps, strict=False)
    ):
        ax.imshow(channel, cmap=cmap, interpolation="nearest")
        ax.set_title(f"ch {index}", fontsize=8)
    for ax in fig.axes:
        ax.set_axis_off()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    return path


def visualize_features(
    encoder: Encoder,
    image: str | Path,
    out_dir: str | Path,
    num: int = 16,
    size: Sequence[int] | None = None,
) -> list[Path]:
    """Run ``encoder`` on an image and save the input plus one grid per stage.

    Files: ``input.png`` and ``stage{i}_stride{r}.png`` for stage i = 1, 2, ... of stride r.

    Args:
        encoder: A feature encoder (``create_encoder(name)``) for 3-channel input.
        image: Image file (read as RGB).
        out_dir: Output folder (created).
        num: Channels shown per stage.
        size: Resize the image to ``(height, width)`` first.

    Returns:
        The written files, input first.
    """
    rgb = read_image(image)
    if size is not None:
        rgb = cv2.resize(rgb, (size[1], size[0]), interpolation=cv2.INTER_AREA)
    out = Path(out_dir)
    written = [out / "input.png"]
    write_image(written[0], rgb)
    encoder.eval()
    with torch.inference_mode():
        features = encoder(image_to_tensor(rgb))
    for stage, (fmap, reduction) in enumerate(
        zip(features, encoder.reductions, strict=True), start=1
    ):
        channels = fmap.shape[1]
        title = (
            f"{encoder.name} stage {stage}: stride {reduction}, {channels} channels "
            f"(first {min(num, channels)}), {fmap.shape[2]}x{fmap.shape[3]}"
        )
        written.append(
            save_feature_grid(fmap[0], out / f"stage{stage}_stride{reduction}.png", title, num)
        )
    return written
