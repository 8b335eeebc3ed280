"""What a model folder's ``config.json`` holds, and reading it back with errors that name the file.

A densepred model folder holds ``config.json`` (this spec), ``model.safetensors`` (the weights
of the network only) and ``README.md`` (the model card). The spec is everything needed to rebuild
and run the network without the training code: the network's recipe
(:class:`~densepred.models.recipe.Recipe`), how an image becomes its input (size, layout,
normalisation) and what its output means (depth units and range, classes).

A folder whose network is a plain segmentation-models-pytorch model is also an smp model folder:
its ``config.json`` holds smp's constructor arguments and ``_model_class`` at the top, and this
spec under the key ``_densepred`` (smp drops keys that start with ``_``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from densepred import __version__
from densepred.core.errors import DensepredError
from densepred.core.schema import StrictModel, validate_section

FORMAT = "densepred-model"
"""The ``format`` value of every densepred model folder's ``config.json``."""
FORMAT_VERSION = 1
"""The ``format_version`` this densepred writes and reads."""
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
CARD_FILE = "README.md"
SMP_SECTION = "_densepred"
"""Key of the densepred spec inside an smp model folder's ``config.json``."""
SMP_CLASS_KEY = "_model_class"
"""smp's key naming the model class (``Unet``, ``FPN``, ...) in its ``config.json``."""


class ModelFolderError(DensepredError, ValueError):
    """A model folder is missing a file, or its files are unreadable or do not fit together."""


class NetworkSpec(StrictModel):
    """``network``: the recipe of the network (see :class:`~densepred.models.recipe.Recipe`).

    Attributes:
        builder: Name in :data:`~densepred.models.recipe.NETWORKS`.
        args: The builder's arguments.
    """

    builder: str
    args: dict[str, Any] = Field(default_factory=dict)


class InputSpec(StrictModel):
    """``input``: what the network takes, and how a picture becomes it.

    Attributes:
        kind: ``image`` (RGB 0..255 -> ``(x / 255 - mean) / std``), ``rgb``, ``depth`` or
            ``mask`` (GAN conditions, encoded into [-1, 1]) or ``latent`` (noise vectors).
        channels: Channels of the network input.
        size: ``[H, W]`` every input is resized to (``cv2.INTER_AREA`` for pictures, nearest for
            depth and masks), or ``null``: each image runs at its own size.
        layout: Axis order of the network input.
        mean: Per-channel mean of 0..1 RGB (``image``).
        std: Per-channel std of 0..1 RGB (``image``).
        max_depth: Depth in metres that maps to 1 (``depth``: ``2 * clip(d / max_depth, 0, 1) - 1``).
        depth_scale: Units per metre of uint16 depth files read as input (``depth``).
        palette: RGB colour of each class id (``mask``: ids are drawn in it, then scaled to
            [-1, 1]).
        latent_dim: Length of the noise vector (``latent``).
        pad_multiple: The network needs sides divisible by this; inputs are padded (replicate)
            and the output cropped back (1: the network pads itself).
    """

    kind: Literal["image", "rgb", "depth", "mask", "latent"]
    channels: int = Field(ge=1)
    size: tuple[int, int] | None = None
    layout: Literal["NCHW"] = "NCHW"
    mean: tuple[float, float, float] | None = None
    std: tuple[float, float, float] | None = None
    max_depth: float | None = Field(None, gt=0)
    depth_scale: float | None = Field(None, gt=0)
    palette: list[tuple[int, int, int]] | None = None
    latent_dim: int | None = Field(None, ge=1)
    pad_multiple: int = Field(1, ge=1)


class OutputSpec(StrictModel):
    """``output``: what the network gives.

    Attributes:
        kind: ``depth`` (metres), ``segmentation`` (class logits), ``classification`` (class
            logits), ``image`` (RGB in [-1, 1]) or ``depth_image`` (depth in [-1, 1] for
            ``0..max_depth`` metres).
        channels: Channels (or logits) of the output.
        units: Unit of depth outputs (``m``).
        min_depth: Smallest depth the model predicts, metres.
        max_depth: Largest depth the model predicts, metres (``depth_image``: the depth of 1).
        depth_scale: Units per metre of the uint16 depth PNGs ``densepred predict`` writes (the
            training data's ``data.depth_scale``: 1000 = millimetres).
        classes: Class names, index = class id / logit.
        mode: ``multiclass`` (softmax) or ``binary`` (one sigmoid logit for class 1).
        overlay_alpha: Mask opacity of prediction overlays.
        top_k: Classes listed per image by ``densepred predict``.
    """

    kind: Literal["depth", "segmentation", "classification", "image", "depth_image"]
    channels: int = Field(ge=1)
    units: Literal["m"] | None = None
    min_depth: float | None = Field(None, ge=0)
    max_depth: float | None = Field(None, gt=0)
    depth_scale: float | None = Field(None, gt=0)
    classes: list[str] | None = None
    mode: Literal["multiclass", "binary"] | None = None
    overlay_alpha: float | None = Field(None, ge=0, le=1)
    top_k: int | None = Field(None, ge=1)


class ModelSpec(StrictModel):
    """The densepred part of a model folder's ``config.json``.

    Attributes:
        format: Always :data:`FORMAT`.
        format_version: :data:`FORMAT_VERSION` of the densepred that wrote it.
        densepred_version: Version of the densepred that wrote it.
        task: The task the network was trained for (``depth``, ``segmentation``, ...).
        network: The network's recipe.
        input: The network input.
        output: The network output.
        training: Where the weights came from, for the model card: the checkpoint, the resolved
            training config, the validation metrics and their protocol, size and cost.
    """

    format: Literal["densepred-model"] = FORMAT
    format_version: int = FORMAT_VERSION
    densepred_version: str = __version__
    task: str
    network: NetworkSpec
    input: InputSpec
    output: OutputSpec
    training: dict[str, Any] = Field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data (what ``config.json`` holds for a folder that is not an smp folder);
        input and output keys that do not apply to the model (``None``) are left out."""
        return self.model_dump(mode="json", exclude_none=True)


def densepred_section(raw: dict[str, Any]) -> dict[str, Any]:
    """The densepred spec of a ``config.json`` mapping: the whole mapping, or its
    :data:`SMP_SECTION` in an smp model folder."""
    section = raw.get(SMP_SECTION, raw) if SMP_CLASS_KEY in raw else raw
    return section if isinstance(section, dict) else {}


def parse_spec(raw: Any, source: str) -> ModelSpec:
    """Validate a ``config.json`` mapping.

    Args:
        raw: The parsed JSON.
        source: Where it came from (the file), for messages.

    Raises:
        ModelFolderError: Not a densepred model config, another format version, an invalid key,
            or an smp folder whose smp keys and densepred recipe disagree.
    """
    if not isinstance(raw, dict):
        raise ModelFolderError(f"{source} must hold a JSON object, got {type(raw).__name__}.")
    section = densepred_section(raw)
    if section.get("format") != FORMAT:
        hint = (
            " It is an smp model folder without densepred's section: load it with "
            "segmentation_models_pytorch.from_pretrained."
            if SMP_CLASS_KEY in raw
            else ""
        )
        raise ModelFolderError(
            f"{source} is not a densepred model config (its 'format' is "
            f"{section.get('format')!r}, expected '{FORMAT}').{hint} Write model folders with "
            "densepred.save_pretrained or `export CKPT --format pretrained --out DIR`."
        )
    version = section.get("format_version")
    if version != FORMAT_VERSION:
        wrote = section.get("densepred_version", "an unknown version")
        raise ModelFolderError(
            f"{source} has format_version {version!r} (written by densepred {wrote}); this "
            f"densepred ({__version__}) reads format_version {FORMAT_VERSION}. Load it with the "
            "densepred version that wrote it, or save the folder again from its checkpoint."
        )
    try:
        spec = validate_section(ModelSpec, section, "config", source)
    except DensepredError as exc:
        raise ModelFolderError(str(exc)) from None
    if SMP_CLASS_KEY in raw:
        check_smp_keys(raw, spec, source)
    return spec  # type: ignore[return-value]


def smp_config(spec: ModelSpec) -> dict[str, Any]:
    """The ``config.json`` of an smp-loadable folder: smp's constructor arguments and
    ``_model_class`` at the top, the densepred spec under :data:`SMP_SECTION`.

    Args:
        spec: A spec whose network is ``smp_native``.
    """
    args = spec.network.args
    return {
        **args["init_args"],
        SMP_CLASS_KEY: args["model_class"],
        SMP_SECTION: spec.to_dict(),
    }


def folder_config(spec: ModelSpec) -> dict[str, Any]:
    """The ``config.json`` mapping of ``spec``: :func:`smp_config` for an ``smp_native`` network,
    the spec itself otherwise."""
    return smp_config(spec) if spec.network.builder == "smp_native" else spec.to_dict()


def check_smp_keys(raw: dict[str, Any], spec: ModelSpec, source: str) -> None:
    """Fail when an smp folder's top-level keys (what smp builds) and the densepred recipe (what
    densepred builds) describe different networks, e.g. after one of them was edited."""
    if spec.network.builder != "smp_native":
        raise ModelFolderError(
            f"{source}: an smp model config ({SMP_CLASS_KEY} {raw[SMP_CLASS_KEY]!r}) whose "
            f"densepred network is '{spec.network.builder}', not 'smp_native'."
        )
    if folder_config(spec) != json.loads(json.dumps(raw)):
        raise ModelFolderError(
            f"{source}: the smp keys at the top and the densepred recipe under '{SMP_SECTION}' "
            "describe different networks; the file was edited. Save the folder again."
        )


def read_spec(folder: str | Path) -> tuple[ModelSpec, dict[str, Any]]:
    """Read and validate ``folder/config.json``.

    Returns:
        The spec and the raw mapping (the hub mixin's config).

    Raises:
        ModelFolderError: The folder or its config file is missing or invalid.
    """
    folder = Path(folder)
    path = folder / CONFIG_FILE
    if not folder.is_dir():
        raise ModelFolderError(f"model folder '{folder}' does not exist or is not a folder.")
    if not path.is_file():
        raise ModelFolderError(
            f"model folder '{folder}' has no {CONFIG_FILE}; a densepred model folder holds "
            f"{CONFIG_FILE}, {WEIGHTS_FILE} and {CARD_FILE}."
        )
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFolderError(f"'{path}' is not readable JSON ({exc}).") from None
    return parse_spec(raw, f"'{path}'"), raw


def is_model_folder(path: str | Path) -> bool:
    """Whether ``path`` is a folder holding a ``config.json`` (a model folder, valid or not)."""
    return (Path(path) / CONFIG_FILE).is_file()
