"""densepred encoders inside segmentation-models-pytorch, as ``densepred-<friendly name>``.

After :func:`register_smp_encoders` (``densepred.encoders.register_smp_encoders()``; densepred
calls it itself whenever it builds an smp model) every friendly name works in smp models, with
weights, and smp's preprocessing helpers know its normalisation::

    smp.Unet(encoder_name="densepred-mobilenet_v3_large", encoder_weights=None, classes=2)
    smp.Unet(encoder_name="densepred-resnet18", encoder_weights="resnet18.safetensors")  # local
    smp.Unet(encoder_name="densepred-resnet18", encoder_weights="imagenet")  # timm's hub weights
    smp.encoders.get_preprocessing_params("densepred-resnet18")  # mean/std, offline

The encoder is smp's own ``TimmUniversalEncoder`` bound to the timm model (the network of smp's
``tu-<timm name>``, with identical state-dict keys).

smp 0.6 fetches the weights of a registered encoder from the Hugging Face Hub by the
``repo_id`` of its ``pretrained_settings`` (``hf_hub_download`` + safetensors ``load_file``), and
its ``get_preprocessing_params`` reads them from the repository's ``config.json``. So that a
local file works offline and ``imagenet`` takes timm's own weights, registration wraps those two
functions and ``get_preprocessing_params`` in ``segmentation_models_pytorch.encoders``: the
wrappers act only on densepred's encoders (requests carry a :class:`WeightsSource`, names start
with ``densepred-``) and pass every other call to smp's function unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from os import PathLike
from pathlib import Path
from typing import Any

import segmentation_models_pytorch.encoders as smp_encoders_module
import timm
from segmentation_models_pytorch.encoders import TimmUniversalEncoder
from segmentation_models_pytorch.encoders import encoders as smp_encoders
from segmentation_models_pytorch.encoders._base import EncoderMixin
from torch import Tensor

from densepred.core.errors import WeightsError
from densepred.encoders.aliases import ENCODER_ALIASES
from densepred.encoders.normalization import pretrained_normalization
from densepred.encoders.weights import check_state_dict, read_state_dict

SMP_PREFIX = "densepred-"
WEIGHT_SUFFIXES = (".pth", ".pt", ".bin", ".safetensors")


def hub_state_dict(timm_name: str) -> dict[str, Tensor]:
    """timm's default pretrained weights of ``timm_name`` (downloaded by timm: needs a network)."""
    return timm.create_model(timm_name, pretrained=True).state_dict()


class WeightsSource(str):
    """The ``repo_id`` smp passes on for a densepred encoder's weights: a local file or timm's
    hub weights of ``timm_name``. A ``str`` (smp treats it as a repository name); the wrapped
    download and load functions recognise it by its type.

    Args:
        weights: ``"imagenet"``/``True`` or a path.
        timm_name: The timm model.
    """

    weights: Any
    timm_name: str

    def __new__(cls, weights: Any, timm_name: str) -> WeightsSource:
        source = super().__new__(cls, f"densepred:{timm_name}:{weights}")
        source.weights = weights
        source.timm_name = timm_name
        return source

    def state_dict(self) -> dict[str, Tensor]:
        """The timm classifier's state dict: timm's hub weights (network), or the local file
        checked against the classifier (``WeightsError`` naming the file otherwise)."""
        if self.weights is True or self.weights == "imagenet":
            return hub_state_dict(self.timm_name)
        path = Path(self.weights)
        state = read_state_dict(path)
        check_state_dict(state, self.timm_name, path)
        return state


class SmpWeights(Mapping):
    """``pretrained_settings`` of a densepred encoder: ``imagenet`` (or ``True``: timm's default
    hub weights) and any local weights file (``.pth``, ``.pt``, ``.bin``, ``.safetensors``)."""

    def __init__(self, timm_name: str) -> None:
        self.timm_name = timm_name

    def __contains__(self, key: object) -> bool:
        if key is True or key == "imagenet":
            return True
        if isinstance(key, (str, PathLike)):
            path = Path(key)
            return path.suffix.lower() in WEIGHT_SUFFIXES or path.exists()
        return False

    def __getitem__(self, key: Any) -> dict[str, Any]:
        if key not in self:
            raise KeyError(key)
        return {"repo_id": WeightsSource(key, self.timm_name), "revision": None}

    def __iter__(self) -> Iterator[str]:
        return iter(["imagenet"])  # and any local weights file

    def __len__(self) -> int:
        return 1


class SmpEncoder(TimmUniversalEncoder, EncoderMixin):
    """smp encoder for one timm model.

    smp's ``get_encoder`` builds registered encoders from their ``params`` plus ``depth`` and
    ``output_stride``, loads requested weights with ``load_state_dict``, then calls
    ``set_in_channels`` (from ``EncoderMixin``: patches the first convolution) and, for
    ``output_stride != 32``, ``make_dilated``.

    Args:
        timm_name: timm model name.
        depth: Number of feature stages (1..5).
        output_stride: 32, or 16/8 for dilated deep stages (built by timm).
    """

    def __init__(self, timm_name: str, depth: int = 5, output_stride: int = 32) -> None:
        super().__init__(timm_name, pretrained=False, depth=depth, output_stride=output_stride)
        self.timm_name = timm_name

    def make_dilated(self, output_stride: int) -> None:
        """Check ``output_stride``: timm already built the dilated stages in ``__init__``."""
        if output_stride != self._output_stride:
            raise ValueError(
                f"encoder '{self.name}' was built for output stride {self._output_stride}, "
                f"not {output_stride}; pass output_stride to get_encoder instead."
            )

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False
    ) -> Any:
        """Load this encoder's own state dict, or a timm classifier's (``conv_stem.weight``, ...):
        its tensors of the feature stages are taken (the classifier head is dropped).

        Raises:
            WeightsError: A classifier state dict lacks tensors of the feature stages.
        """
        if any(key.startswith("model.") for key in state_dict):
            return super().load_state_dict(state_dict, strict=strict, assign=assign)
        own = super().state_dict()
        mapped = {f"model.{k}": v for k, v in state_dict.items() if f"model.{k}" in own}
        missing = [k.removeprefix("model.") for k in own if k not in mapped]
        if missing:
            raise WeightsError(
                f"the weights for smp encoder '{SMP_PREFIX}…' ({self.timm_name}) lack "
                f"{len(missing)} tensor(s) of its feature stages, e.g. {missing[:3]}; they must be "
                f"the state dict of timm.create_model('{self.timm_name}')."
            )
        return super().load_state_dict(mapped, strict=True, assign=assign)


def _wrap(name: str, make: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    """Replace ``segmentation_models_pytorch.encoders.<name>`` by ``make(original)``, once."""
    original = getattr(smp_encoders_module, name)
    if getattr(original, "__densepred__", False):
        return
    wrapper = make(original)
    wrapper.__densepred__ = True
    wrapper.__wrapped__ = original
    setattr(smp_encoders_module, name, wrapper)


def _download(original: Callable[..., Any]) -> Callable[..., Any]:
    def hf_hub_download(repo_id: str, *args: Any, **kwargs: Any) -> Any:
        """smp's download, except for densepred weights (no download: the source itself)."""
        return repo_id if isinstance(repo_id, WeightsSource) else original(repo_id, *args, **kwargs)

    return hf_hub_download


def _load(original: Callable[..., Any]) -> Callable[..., Any]:
    def load_file(filename: Any, *args: Any, **kwargs: Any) -> Any:
        """safetensors' ``load_file``, except for densepred weights (timm's or a local file)."""
        if isinstance(filename, WeightsSource):
            return filename.state_dict()
        return original(filename, *args, **kwargs)

    return load_file


def smp_preprocessing_params(encoder_name: str) -> dict[str, Any] | None:
    """smp's preprocessing parameters of a ``densepred-<name>`` encoder (timm's pretrained config
    of its model: RGB, range 0..1, mean, std), or ``None`` for other names."""
    friendly = encoder_name.removeprefix(SMP_PREFIX)
    if not encoder_name.startswith(SMP_PREFIX) or friendly not in ENCODER_ALIASES:
        return None
    mean, std = pretrained_normalization(friendly)
    return {"input_space": "RGB", "input_range": [0, 1], "mean": list(mean), "std": list(std)}


def _preprocessing(original: Callable[..., Any]) -> Callable[..., Any]:
    def get_preprocessing_params(encoder_name: str, pretrained: str = "imagenet") -> Any:
        """smp's function, answering densepred encoders offline (:func:`smp_preprocessing_params`)."""
        params = smp_preprocessing_params(encoder_name)
        return params if params is not None else original(encoder_name, pretrained=pretrained)

    return get_preprocessing_params


def register_smp_encoders() -> list[str]:
    """Register every friendly encoder in smp as ``densepred-<name>``, with its weights and
    preprocessing (idempotent).

    Returns:
        The registered smp encoder names.
    """
    for friendly, timm_name in ENCODER_ALIASES.items():
        smp_encoders[SMP_PREFIX + friendly] = {
            "encoder": SmpEncoder,
            "pretrained_settings": SmpWeights(timm_name),
            "params": {"timm_name": timm_name},
        }
    _wrap("hf_hub_download", _download)
    _wrap("load_file", _load)
    _wrap("get_preprocessing_params", _preprocessing)
    return [SMP_PREFIX + friendly for friendly in ENCODER_ALIASES]
