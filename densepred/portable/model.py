"""A trained network as a plain ``torch.nn.Module`` that saves to and loads from a model folder.

:class:`PortableModel` follows huggingface_hub's ``PyTorchModelHubMixin`` conventions: its only
init argument is the folder's ``config.json`` mapping (the mixin writes it back as it is), it
saves ``model.safetensors`` and a ``README.md`` model card, and ``from_pretrained`` takes a local
folder (offline) or a Hub repository id; ``push_to_hub`` works where there is a network. It
needs torch, timm, segmentation-models-pytorch, OpenCV and huggingface_hub, never Lightning or the
training code.

    model = densepred.from_pretrained("my_model")     # eval mode
    depth = model.predict([rgb])[0]                   # HxW metres at the picture's size
    x = model.preprocess([rgb]); y = model(x); model.postprocess(y, [rgb.shape[:2]])
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from huggingface_hub import ModelCard, PyTorchModelHubMixin, hf_hub_download
from safetensors import SafetensorError
from safetensors.torch import load_file, save_model
from torch import Tensor, nn

from densepred.core.errors import DensepredError, OutputError, WeightsError
from densepred.core.fileio import DIR_MODE, FILE_MODE
from densepred.encoders.weights import non_finite_tensors, state_dict_differences
from densepred.models import Recipe
from densepred.models.smp_models import padded_forward
from densepred.portable.card import model_card
from densepred.portable.processing import latent_noise, postprocess, preprocess
from densepred.portable.spec import (
    CARD_FILE,
    CONFIG_FILE,
    WEIGHTS_FILE,
    ModelFolderError,
    ModelSpec,
    is_model_folder,
    parse_spec,
    read_spec,
)

# How many offending keys a weights error lists.
SHOWN_KEYS = 5


class PortableModel(
    nn.Module,
    PyTorchModelHubMixin,
    library_name="densepred",
    tags=["densepred"],
    repo_url="https://github.com/densepred/densepred",
):
    """A densepred network with its input and output conventions, in eval mode.

    Args:
        config: A model folder's ``config.json`` mapping (see :mod:`densepred.portable.spec`);
            the network is built from its recipe with random weights (loading fills them).
        prebuilt_network: Use this network (already trained, e.g. a task's) instead of building
            one (not a config key, so the hub mixin never fills it from ``config.json``).

    Attributes:
        spec: The validated spec.
        network: The network (``forward`` runs it; inputs of any size work).
    """

    def __init__(self, config: dict[str, Any], prebuilt_network: nn.Module | None = None) -> None:
        super().__init__()
        self.spec: ModelSpec = parse_spec(config, "config.json")
        self._hub_mixin_config = config  # config.json is exactly what the model was built from
        network = prebuilt_network
        if network is None:
            network = Recipe(self.spec.network.builder, self.spec.network.args).build()
        self.network = network
        self.eval()

    @property
    def task(self) -> str:
        """The task the network was trained for."""
        return self.spec.task

    @property
    def classes(self) -> list[str] | None:
        """Class names (segmentation and classification), index = class id."""
        return self.spec.output.classes

    @property
    def device(self) -> torch.device:
        """Where the weights are."""
        return next(self.parameters(), torch.empty(0)).device

    def forward(self, x: Tensor) -> Tensor:
        """The network on a prepared batch (``preprocess``'s output or noise for ``latent``
        inputs): B x C x H x W -> the raw outputs (depth in metres, logits, images in [-1, 1])."""
        multiple = self.spec.input.pad_multiple
        return padded_forward(self.network, x, multiple) if multiple > 1 else self.network(x)

    def preprocess(self, images: np.ndarray | Sequence[np.ndarray]) -> Tensor:
        """Pictures -> the network's input batch on the model's device (resized to the input size
        and normalised as in training; see :func:`densepred.portable.processing.preprocess`).

        Args:
            images: One picture or a list: HxWx3 uint8 RGB (depth-estimation, segmentation,
                classification; GAN ``rgb`` conditions), HxW metres or HxW class ids (GAN
                ``depth`` / ``mask`` conditions). Sizes may differ when the model has a fixed
                input size.
        """
        return preprocess(images, self.spec.input).to(self.device)

    def postprocess(
        self,
        outputs: Tensor,
        sizes: Sequence[tuple[int, int] | None] | None = None,
        probabilities: bool = False,
    ) -> list[np.ndarray]:
        """Network outputs -> one answer per item (depth in metres, class ids, probabilities,
        uint8 images), resized to ``sizes`` (each picture's H, W); see
        :func:`densepred.portable.processing.postprocess`."""
        return postprocess(outputs, self.spec.output, sizes, probabilities)

    @torch.inference_mode()
    def predict(
        self, images: np.ndarray | Sequence[np.ndarray], probabilities: bool = False
    ) -> list[np.ndarray]:
        """:meth:`preprocess`, the network, :meth:`postprocess` at each picture's own size."""
        images = [images] if isinstance(images, np.ndarray) else list(images)
        outputs = self(self.preprocess(images))
        return self.postprocess(outputs, [np.shape(a)[:2] for a in images], probabilities)

    def noise(self, num: int, seed: int = 0) -> Tensor:
        """``num`` seeded noise vectors for a model with ``latent`` inputs (unconditional GAN)."""
        if self.spec.input.kind != "latent":
            raise DensepredError(
                f"this {self.task} model takes {self.spec.input.kind} pictures, not noise."
            )
        return latent_noise(num, self.spec.input.latent_dim, seed).to(self.device)

    # --- huggingface_hub's ModelHubMixin ---------------------------------------------------

    def save_pretrained(self, save_directory: str | Path, **kwargs: Any) -> str | None:
        """Write the folder (``config.json``, ``model.safetensors``, ``README.md``) atomically:
        into a temporary folder beside ``save_directory``, renamed into place at the end, so a
        failed save leaves nothing behind. An existing model folder there is replaced; any
        other existing folder is refused. Other arguments go to the mixin (``push_to_hub``,
        ``repo_id``, ...)."""
        target = Path(save_directory)
        if kwargs.get("push_to_hub") and not kwargs.get("repo_id"):
            kwargs["repo_id"] = target.name  # the mixin would name it after the staging folder
        _check_replaceable(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        try:
            result = super().save_pretrained(staging, **kwargs)
            _set_modes(staging)
            _replace_folder(staging, target)
        except OSError as exc:
            raise OutputError(f"cannot write model folder '{target}': {exc}") from None
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return result

    def _save_pretrained(self, save_directory: Path) -> None:
        """The network's weights (only) as ``model.safetensors``."""
        save_model(self.network, str(Path(save_directory) / WEIGHTS_FILE), {"format": "pt"})

    def generate_model_card(self, *args: Any, **kwargs: Any) -> ModelCard:
        """The ``README.md`` model card, from the spec (see :mod:`densepred.portable.card`)."""
        return model_card(self.spec, self, **kwargs)

    @classmethod
    def _from_pretrained(
        cls,
        *,
        model_id: str,
        revision: str | None = None,
        cache_dir: str | Path | None = None,
        force_download: bool = False,
        local_files_only: bool = False,
        token: str | bool | None = None,
        map_location: str = "cpu",
        strict: bool = True,
        **kwargs: Any,
    ) -> PortableModel:
        """Build the network from ``config.json`` and load ``model.safetensors`` into it,
        checking that every tensor fits (``strict``) and is finite. ``kwargs`` hold the init
        arguments (``config``) and, from older huggingface_hub versions, download options
        (``proxies``, ``resume_download``) that go to ``hf_hub_download``."""
        init = {k: kwargs.pop(k) for k in ("config", "prebuilt_network") if k in kwargs}
        model = cls(**init)
        if os.path.isdir(model_id):
            path = Path(model_id) / WEIGHTS_FILE
        else:
            path = Path(
                hf_hub_download(
                    repo_id=model_id,
                    filename=WEIGHTS_FILE,
                    revision=revision,
                    cache_dir=cache_dir,
                    force_download=force_download,
                    token=token,
                    local_files_only=local_files_only,
                    **kwargs,
                )
            )
        load_weights(model.network, path, strict=strict)
        return model.to(map_location).eval()


def _check_replaceable(target: Path) -> None:
    """Refuse to replace anything but a model folder (or nothing)."""
    if target.exists() and not target.is_dir():
        raise OutputError(f"'{target}' is a file; a model folder needs a folder path.")
    if target.is_dir() and any(target.iterdir()) and not is_model_folder(target):
        raise OutputError(
            f"'{target}' exists and is not a model folder (no {CONFIG_FILE}); choose another "
            "folder: saving a model never replaces other files."
        )


def _set_modes(folder: Path) -> None:
    """The modes ``mkdir`` and ``open`` would give under this umask (``mkdtemp`` makes the
    staging folder private, safetensors its file too)."""
    os.chmod(folder, DIR_MODE)
    for path in folder.iterdir():
        os.chmod(path, FILE_MODE)


def _replace_folder(staging: Path, target: Path) -> None:
    """Move ``staging`` to ``target``; an old model folder there is removed only afterwards."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.replace(target, old)
    os.replace(staging, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def load_weights(network: nn.Module, path: Path, strict: bool = True) -> None:
    """Load a ``model.safetensors`` into ``network``.

    Raises:
        ModelFolderError: The file is missing or unreadable.
        WeightsError: Its tensors do not fit the network (names the first offending keys) or
            hold NaN / infinity.
    """
    if not path.is_file():
        raise ModelFolderError(
            f"'{path}' does not exist: a model folder holds the weights in {WEIGHTS_FILE} beside "
            f"its {CONFIG_FILE}."
        )
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelFolderError(
            f"'{path}' is not a readable safetensors file ({type(exc).__name__}: {exc})."
        ) from None
    expected = {key: tuple(value.shape) for key, value in network.state_dict().items()}
    missing, unexpected, mismatched = state_dict_differences(state, expected)
    problems = [f"{key} is missing" for key in missing]
    problems += [f"{key} is not in the network" for key in unexpected] if strict else []
    problems += [f"{key} is {saved}, the network's {shape}" for key, saved, shape in mismatched]
    if problems:
        shown = "; ".join(problems[:SHOWN_KEYS])
        more = f"; ... ({len(problems) - SHOWN_KEYS} more)" if len(problems) > SHOWN_KEYS else ""
        raise WeightsError(
            f"the weights in '{path}' do not fit the network its {CONFIG_FILE} describes "
            f"({shown}{more}). The two files come from different models: save the folder again."
        )
    bad = non_finite_tensors(state)
    if bad:
        raise WeightsError(
            f"the weights in '{path}' hold NaN or infinite values ({', '.join(bad[:3])}); its "
            "predictions would be meaningless."
        )
    network.load_state_dict(state, strict=strict)


def from_pretrained(path_or_repo: str | Path, device: str = "cpu", **kwargs: Any) -> PortableModel:
    """Load a model folder (or a Hugging Face Hub repository holding one) as a
    :class:`PortableModel` in eval mode.

    A local folder is read offline; a name that is no local path is looked up on the Hub (needs
    a network, ``token=`` etc. as for ``PyTorchModelHubMixin.from_pretrained``).

    Args:
        path_or_repo: The folder (``config.json``, ``model.safetensors``) or a repo id.
        device: Where to put the weights (``cpu``, ``cuda``).
        **kwargs: Passed to ``PyTorchModelHubMixin.from_pretrained``.

    Raises:
        ModelFolderError: A missing or invalid file, naming it.
        WeightsError: The weights do not fit the config, or are not finite.
    """
    source = str(path_or_repo)
    if Path(source).exists() or source.startswith((".", "/", "~")) or source.count("/") > 1:
        read_spec(source)  # errors name the folder and the file
        return PortableModel.from_pretrained(source, map_location=device, **kwargs)
    try:
        return PortableModel.from_pretrained(source, map_location=device, **kwargs)
    except DensepredError:
        raise
    except Exception as exc:  # huggingface_hub's network and repository errors
        raise ModelFolderError(
            f"'{source}' is no local model folder, and loading it from the Hugging Face Hub "
            f"failed ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})."
        ) from None


__all__ = ["CARD_FILE", "PortableModel", "from_pretrained", "load_weights"]
