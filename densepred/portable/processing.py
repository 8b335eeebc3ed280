"""From pictures to network inputs and from network outputs to answers, by the kinds of a model
folder's spec (:class:`~densepred.portable.spec.InputSpec`, :class:`~densepred.portable.spec.OutputSpec`).

This module needs only numpy, OpenCV and torch: a model folder runs without densepred's training
stack. The tasks' ``predict_array`` and ``densepred predict`` use the same functions, and the GAN
data pipeline encodes its condition images with :func:`encode_array`, so a network sees the same
numbers in training, in a task and from a folder.

Input kinds: ``image`` (HxWx3 uint8 RGB -> normalised), ``rgb`` / ``depth`` / ``mask`` (GAN
conditions: RGB, metres, class ids -> [-1, 1]), ``latent`` (noise; see :func:`latent_noise`).
Output kinds: ``depth`` (metres), ``segmentation`` (class ids or probabilities),
``classification`` (probabilities), ``image`` (uint8 RGB), ``depth_image`` (metres).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from densepred.core.errors import DataError, DensepredError
from densepred.portable.spec import InputSpec, OutputSpec

Size = tuple[int, int]


# --- encodings shared with the training data -----------------------------------------------


def depth_to_unit(depth: np.ndarray, max_depth: float) -> np.ndarray:
    """HxW metres -> HxW in [-1, 1] (0 m, i.e. invalid, -> -1; ``max_depth`` and beyond -> 1)."""
    return np.clip(depth / max_depth, 0.0, 1.0) * 2.0 - 1.0


def unit_to_depth(x: Tensor, max_depth: float) -> Tensor:
    """Inverse of :func:`depth_to_unit`: values in [-1, 1] -> metres in [0, max_depth]."""
    return (x.clamp(-1.0, 1.0) + 1.0) * (0.5 * max_depth)


def encode_array(
    array: np.ndarray, kind: str, max_depth: float, palette: np.ndarray | None = None
) -> Tensor:
    """A GAN condition or target array of ``kind`` (already at the network's size) -> CxHxW
    float32 in [-1, 1]: ``rgb`` uint8 as ``x / 127.5 - 1``, ``depth`` metres by
    :func:`depth_to_unit`, ``mask`` class ids drawn in ``palette`` (N x 3 uint8) first."""
    if kind == "depth":
        unit = depth_to_unit(array, max_depth)[..., None]  # H,W,1
    else:
        if kind == "mask":
            if palette is None:
                raise DensepredError("encoding a mask needs its palette (the class colours).")
            array = palette[np.asarray(array).astype(np.int64) % len(palette)]  # H,W,3 uint8
        unit = array.astype(np.float32) / 127.5 - 1.0  # H,W,3
    return torch.from_numpy(np.ascontiguousarray(unit, dtype=np.float32)).permute(2, 0, 1)  # C,H,W


def normalize_image(rgb: np.ndarray, mean: Sequence[float], std: Sequence[float]) -> Tensor:
    """HxWx3 uint8 RGB -> 3xHxW float32 ``(x / 255 - mean) / std`` (as albumentations'
    ``Normalize`` in the training pipelines)."""
    mean_px = np.asarray(mean, dtype=np.float32) * 255.0
    inv_std = 1.0 / (np.asarray(std, dtype=np.float32) * 255.0)
    x = (rgb.astype(np.float32) - mean_px) * inv_std  # H,W,3
    return torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)))  # 3,H,W


def resize_array(array: np.ndarray, size: Size | None, smooth: bool) -> np.ndarray:
    """``array`` resized to ``size`` (H, W): ``cv2.INTER_AREA`` for pictures (``smooth``), nearest
    neighbour for depth and masks (no value invented); unchanged for ``None`` or its own size."""
    if size is None or tuple(array.shape[:2]) == tuple(size):
        return array
    interpolation = cv2.INTER_AREA if smooth else cv2.INTER_NEAREST
    return cv2.resize(array, (size[1], size[0]), interpolation=interpolation)


# --- inputs ----------------------------------------------------------------------------------


def _check_rgb(array: np.ndarray) -> np.ndarray:
    if array.ndim != 3 or array.shape[2] != 3 or array.dtype != np.uint8:
        raise DataError(f"expected an HxWx3 uint8 RGB image, got {array.dtype} {array.shape}.")
    return array


def _check_map(array: np.ndarray, what: str) -> np.ndarray:
    if array.ndim != 2:
        raise DataError(f"expected an HxW {what} map, got shape {array.shape}.")
    return array


def _image(array: np.ndarray, spec: InputSpec) -> Tensor:
    rgb = resize_array(_check_rgb(array), spec.size, smooth=True)
    return normalize_image(rgb, spec.mean, spec.std)


def _rgb(array: np.ndarray, spec: InputSpec) -> Tensor:
    rgb = resize_array(_check_rgb(array), spec.size, smooth=True)
    return encode_array(rgb, "rgb", 1.0)


def _depth(array: np.ndarray, spec: InputSpec) -> Tensor:
    depth = resize_array(_check_map(array, "depth").astype(np.float32), spec.size, smooth=False)
    return encode_array(depth, "depth", spec.max_depth)


def _mask(array: np.ndarray, spec: InputSpec) -> Tensor:
    mask = resize_array(_check_map(array, "class-id"), spec.size, smooth=False)
    return encode_array(mask, "mask", 1.0, np.asarray(spec.palette, dtype=np.uint8))


INPUT_KINDS: dict[str, Callable[[np.ndarray, InputSpec], Tensor]] = {
    "image": _image,
    "rgb": _rgb,
    "depth": _depth,
    "mask": _mask,
}
"""Input kind -> ``(array, spec) -> CxHxW`` tensor; ``latent`` inputs are noise (:func:`latent_noise`)."""


def prepare(array: np.ndarray, spec: InputSpec) -> Tensor:
    """One picture (``image``/``rgb``: HxWx3 uint8 RGB; ``depth``: HxW metres; ``mask``: HxW
    class ids) -> the network's CxHxW input."""
    if spec.kind not in INPUT_KINDS:
        raise DensepredError(
            f"this model takes {spec.kind} inputs, not pictures; use latent_noise(num, "
            f"{spec.latent_dim}) (or `densepred predict MODEL --num N`)."
        )
    return INPUT_KINDS[spec.kind](np.asarray(array), spec)


def preprocess(arrays: np.ndarray | Sequence[np.ndarray], spec: InputSpec) -> Tensor:
    """Pictures -> one BxCxHxW batch (:func:`prepare` each, then stack).

    Args:
        arrays: One picture or a sequence of them.
        spec: The model's input spec.

    Raises:
        DataError: A picture has the wrong shape, or a model that runs at each image's own size
            (``size: null``) got pictures of different sizes.
    """
    if isinstance(arrays, np.ndarray):
        arrays = [arrays]
    tensors = [prepare(a, spec) for a in arrays]
    shapes = {tuple(t.shape) for t in tensors}
    if len(shapes) > 1:
        raise DataError(
            f"this model runs at each image's own size, and the images have several sizes "
            f"({sorted(s[1:] for s in shapes)}); pass images of one size per batch."
        )
    return torch.stack(tensors)


def latent_noise(num: int, latent_dim: int, seed: int = 0) -> Tensor:
    """``num`` standard-normal noise vectors (``num x latent_dim``) from a generator seeded with
    ``seed``: the same vectors on every machine and device."""
    return torch.randn(num, latent_dim, generator=torch.Generator().manual_seed(seed))


# --- outputs ---------------------------------------------------------------------------------


def _resized(y: Tensor, size: Size | None) -> Tensor:
    """1xCxhxw output resized (bilinear) to ``size`` (H, W); unchanged for ``None``."""
    if size is None or tuple(y.shape[-2:]) == tuple(size):
        return y.float()
    return F.interpolate(y.float(), size=tuple(size), mode="bilinear", align_corners=False)


def _depth_out(y: Tensor, size: Size | None, spec: OutputSpec, probabilities: bool) -> np.ndarray:
    return _resized(y, size)[0, 0].cpu().numpy()  # H,W metres


def class_ids(logits: Tensor, mode: str | None) -> Tensor:
    """BxCxHxW logits -> BxHxW class ids: ``logit > 0`` in ``binary`` mode, else the largest
    logit (``max`` over the class axis: ``argmax`` over a non-last axis is ~15x slower on CPU)."""
    if mode == "binary":
        return (logits[:, 0] > 0).long()
    return logits.max(dim=1).indices


def class_probabilities(logits: Tensor, mode: str | None) -> Tensor:
    """Logits (class axis 1) -> probabilities: sigmoid of class 1 in ``binary`` mode, else softmax."""
    return torch.sigmoid(logits) if mode == "binary" else logits.softmax(dim=1)


def _segmentation_out(
    y: Tensor, size: Size | None, spec: OutputSpec, probabilities: bool
) -> np.ndarray:
    logits = _resized(y, size)  # 1,C,H,W
    if probabilities:
        return class_probabilities(logits, spec.mode)[0].cpu().numpy()  # C,H,W float32
    return class_ids(logits, spec.mode)[0].cpu().numpy().astype(np.uint8)  # H,W


def _classification_out(
    y: Tensor, size: Size | None, spec: OutputSpec, probabilities: bool
) -> np.ndarray:
    return y.float().softmax(dim=1)[0].cpu().numpy()  # K probabilities


def _image_out(y: Tensor, size: Size | None, spec: OutputSpec, probabilities: bool) -> np.ndarray:
    unit = (_resized(y, size).clamp(-1, 1) + 1.0) * 0.5  # 1,3,H,W in [0, 1]
    return (unit * 255.0 + 0.5).byte()[0].permute(1, 2, 0).cpu().numpy()  # H,W,3 uint8


def _depth_image_out(
    y: Tensor, size: Size | None, spec: OutputSpec, probabilities: bool
) -> np.ndarray:
    return unit_to_depth(_resized(y, size)[0, 0], spec.max_depth).cpu().numpy()  # H,W metres


OUTPUT_KINDS: dict[str, Callable[[Tensor, Size | None, OutputSpec, bool], np.ndarray]] = {
    "depth": _depth_out,
    "segmentation": _segmentation_out,
    "classification": _classification_out,
    "image": _image_out,
    "depth_image": _depth_image_out,
}
"""Output kind -> ``(1xCxhxw output, size, spec, probabilities) -> answer``."""


def postprocess(
    outputs: Tensor,
    spec: OutputSpec,
    sizes: Sequence[Size | None] | None = None,
    probabilities: bool = False,
) -> list[np.ndarray]:
    """A batch of network outputs -> one answer per item, at its picture's size.

    Answers: ``depth`` and ``depth_image``: HxW float32 metres; ``segmentation``: HxW uint8
    class ids, or with ``probabilities`` CxHxW float32 probabilities (one sigmoid channel in
    binary mode); ``classification``: K float32 probabilities; ``image``: HxWx3 uint8 RGB.

    Args:
        outputs: B x ... network outputs.
        spec: The model's output spec.
        sizes: (H, W) of each item's original picture; dense outputs are resized to it
            (bilinearly, before class ids or probabilities are taken). ``None``: keep the
            network's size.
        probabilities: Segmentation: probabilities instead of class ids.
    """
    sizes = [None] * len(outputs) if sizes is None else list(sizes)
    if len(sizes) != len(outputs):
        raise DensepredError(f"{len(outputs)} outputs but {len(sizes)} sizes.")
    convert = OUTPUT_KINDS[spec.kind]
    return [convert(outputs[i : i + 1], size, spec, probabilities) for i, size in enumerate(sizes)]
