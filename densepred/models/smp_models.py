"""segmentation-models-pytorch architectures by name (``model.decoder: smp.FPN``) on densepred encoders.

The encoder is smp's timm universal encoder (``tu-<timm name>``) for the timm model that the
densepred encoder name resolves to, so every friendly or timm name works, with the same
``pretrained`` (hub or local classifier file), ``in_channels`` and ``encoder_args`` handling as
densepred's own decoders. ``decoder_args`` go to the smp architecture's constructor.
"""

from __future__ import annotations

import inspect
from typing import Any

import segmentation_models_pytorch as smp
import torch.nn.functional as F
from segmentation_models_pytorch.base import SegmentationHead
from torch import Tensor, nn

from densepred.core.errors import ConfigError, unknown_name_message
from densepred.core.loader_args import refuse_loader_args
from densepred.decoders.heads import HEADS
from densepred.encoders import register_smp_encoders, resolve_encoder_name
from densepred.encoders.weights import Pretrained, forget_pretrained_state, pretrained_kwargs
from densepred.models.recipe import NETWORKS

SMP_DECODER_PREFIX = "smp."

SMP_ARCHITECTURES: dict[str, type[nn.Module]] = {
    SMP_DECODER_PREFIX + cls.__name__: cls for cls in smp.MODEL_ARCHITECTURES_MAPPING.values()
}
"""``smp.<Architecture>`` -> smp model class (Unet, FPN, PSPNet, DeepLabV3, DeepLabV3Plus, ...)."""

# Constructor arguments densepred sets from the model section; not allowed in decoder_args.
MANAGED_ARGS = (
    "encoder_name",
    "encoder_weights",
    "in_channels",
    "classes",
    "encoder_output_stride",
)


def smp_architecture(name: str) -> type[nn.Module]:
    """Return the smp model class for ``smp.<Architecture>`` or raise ``ConfigError``."""
    if name not in SMP_ARCHITECTURES:
        raise ConfigError(unknown_name_message("smp architecture", name, SMP_ARCHITECTURES))
    return SMP_ARCHITECTURES[name]


def check_smp_decoder_args(
    arch: type[nn.Module], decoder_args: dict[str, Any], name: str
) -> dict[str, Any]:
    """Check ``decoder_args`` against the architecture's own constructor arguments."""
    params = inspect.signature(arch.__init__).parameters
    valid = [
        n
        for n, p in params.items()
        if n != "self" and n not in MANAGED_ARGS and p.kind is not inspect.Parameter.VAR_KEYWORD
    ]
    for key in decoder_args:
        if key not in valid:
            raise ConfigError(
                f"model.decoder_args ({name}): "
                + unknown_name_message("key", key, valid)
                + " Encoder options go in model.encoder_args."
            )
    return dict(decoder_args)


def _stride_kwargs(arch: type[nn.Module], output_stride: int, name: str) -> dict[str, Any]:
    """``encoder_output_stride`` for architectures that dilate the encoder (DeepLabV3/V3+, PAN)."""
    if "encoder_output_stride" in inspect.signature(arch.__init__).parameters:
        return {"encoder_output_stride": output_stride}
    if output_stride != 32:
        raise ConfigError(
            f"model.output_stride={output_stride}: {name} needs an undilated encoder; set "
            "model.output_stride: 32 (smp.DeepLabV3, smp.DeepLabV3Plus and smp.PAN take 8 or 16)."
        )
    return {}


def _weights_kwargs(
    pretrained: Pretrained, timm_name: str, encoder_args: dict[str, Any]
) -> dict[str, Any]:
    """smp's ``encoder_weights`` plus timm arguments that load a local classifier file."""
    if pretrained is False:
        return {"encoder_weights": None}
    timm_kwargs = pretrained_kwargs(pretrained, timm_name, **encoder_args)
    timm_kwargs.pop("pretrained")  # smp sets it from encoder_weights
    return {"encoder_weights": True, **timm_kwargs}


class SmpModel(nn.Module):
    """An smp model that accepts inputs of any size (padded inside, output cropped back).

    Args:
        net: The smp model.
        name: Its ``smp.<Architecture>`` name.
    """

    def __init__(self, net: nn.Module, name: str) -> None:
        super().__init__()
        self.net = net
        self.name = name

    def encoder_modules(self) -> list[nn.Module]:
        """The modules that form the pretrained encoder (transfer learning freezes them)."""
        return [self.net.encoder]

    @property
    def output_stride(self) -> int:
        """Inputs are padded to a multiple of the encoder's output stride."""
        return int(self.net.encoder.output_stride)

    def forward(self, x: Tensor) -> Tensor:
        return padded_forward(self.net, x, self.output_stride)


def padded_forward(net: nn.Module, x: Tensor, stride: int) -> Tensor:
    """``net`` (an smp model, which needs sides divisible by its output stride) on an input of
    any size: ``x`` is padded on the bottom and right (replicate) to a multiple of ``stride``,
    an output of another size is resized bilinearly to the padded input, then cropped back.

    Args:
        net: Module mapping B x C x H' x W' to B x K x h x w.
        x: B x C x H x W input.
        stride: The multiple the sides are padded to.
    """
    height, width = x.shape[-2:]
    x = F.pad(x, (0, -width % stride, 0, -height % stride), mode="replicate")  # B x C x H' x W'
    y = net(x)  # B x classes x H' x W' (most architectures)
    if y.shape[-2:] != x.shape[-2:]:
        y = F.interpolate(y, size=x.shape[-2:], mode="bilinear", align_corners=False)
    return y[..., :height, :width]  # B x classes x H x W


def create_smp_model(
    name: str,
    encoder: str,
    num_classes: int,
    pretrained: Pretrained = False,
    output_stride: int = 32,
    in_channels: int = 3,
    encoder_args: dict[str, Any] | None = None,
    decoder_args: dict[str, Any] | None = None,
) -> SmpModel:
    """Build ``smp.<Architecture>`` on a densepred encoder.

    Args:
        name: ``smp.<Architecture>``, e.g. ``smp.FPN`` or ``smp.DeepLabV3Plus``.
        encoder: Friendly densepred encoder name or any timm name.
        num_classes: Output channels (class logits).
        pretrained: ``False``, ``True`` (timm's hub) or a local timm classifier weights file.
        output_stride: Encoder output stride (8/16 for DeepLabV3/V3+ and PAN, else 32).
        in_channels: Input channels.
        encoder_args: Extra ``timm.create_model`` arguments.
        decoder_args: Arguments of the smp architecture (e.g. ``decoder_channels``).
    """
    register_smp_encoders()  # densepred-<name> works in smp after densepred built an smp model
    arch = smp_architecture(name)
    timm_name = resolve_encoder_name(encoder)
    encoder_args = dict(refuse_loader_args(encoder_args or {}, "model.encoder_args"))
    kwargs = {
        **check_smp_decoder_args(arch, decoder_args or {}, name),
        **_stride_kwargs(arch, output_stride, name),
        **encoder_args,
        **_weights_kwargs(pretrained, timm_name, encoder_args),
    }
    try:
        net = arch(
            encoder_name=f"tu-{timm_name}", in_channels=in_channels, classes=num_classes, **kwargs
        )
    except (ValueError, TypeError) as exc:
        raise ConfigError(
            f"model.decoder {name} with encoder '{encoder}' and model.output_stride={output_stride}: {exc}"
        ) from None
    forget_pretrained_state(net)
    return SmpModel(net, name)


def attach_head(model: SmpModel, head: str, head_args: dict[str, Any]) -> SmpModel:
    """Swap smp's segmentation head for densepred's ``head`` (depth, image, segmentation).

    smp's head is a 3x3 conv, an optional bilinear upsampling and an activation; the densepred
    head replaces the conv and activation (same Xavier init), smp's upsampling stays.
    """
    old = model.net.segmentation_head
    if not isinstance(old, SegmentationHead):
        raise ConfigError(
            f"model.decoder {model.name} has its own head type ({type(old).__name__}); it serves "
            "segmentation only. Choose another smp architecture or a densepred decoder."
        )
    conv, upsampling = old[0], old[1]
    model.net.segmentation_head = nn.Sequential(
        HEADS.build(
            head, where="model.head_args", internal={"in_channels": conv.in_channels}, **head_args
        ),
        upsampling,
    )
    return model


@NETWORKS.register("smp")
def smp_network(
    architecture: str,
    encoder: str,
    head: str,
    head_args: dict[str, Any] | None = None,
    output_stride: int = 32,
    in_channels: int = 3,
    encoder_args: dict[str, Any] | None = None,
    decoder_args: dict[str, Any] | None = None,
    pretrained: Pretrained = False,
) -> SmpModel:
    """The ``smp`` recipe: ``smp.<Architecture>`` on a densepred encoder with densepred's ``head``
    (:func:`create_smp_model`, then :func:`attach_head`).

    Args:
        architecture: ``smp.<Architecture>``.
        encoder: Encoder name (friendly or timm).
        head: Head name in :data:`densepred.decoders.heads.HEADS`; it replaces smp's own head, so
            smp architectures serve depth and GAN generators as well as segmentation.
        head_args: Options of the head.
        output_stride: Encoder output stride.
        in_channels: Input channels.
        encoder_args: Extra ``timm.create_model`` arguments.
        decoder_args: Arguments of the smp architecture.
        pretrained: Encoder weights.
    """
    model = create_smp_model(
        architecture,
        encoder,
        num_classes=1,  # smp's head is replaced below
        pretrained=pretrained,
        output_stride=output_stride,
        in_channels=in_channels,
        encoder_args=encoder_args,
        decoder_args=decoder_args,
    )
    return attach_head(model, head, dict(head_args or {}))


@NETWORKS.register("smp_native")
def smp_native_network(model_class: str, init_args: dict[str, Any]) -> nn.Module:
    """The ``smp_native`` recipe: a bare smp model, built exactly as
    ``segmentation_models_pytorch.from_pretrained`` builds it from a folder's ``config.json``
    (``model_class`` is its ``_model_class``, ``init_args`` its other keys). Its sides must be
    multiples of the encoder's output stride (:func:`padded_forward` lifts that).

    Args:
        model_class: smp class name, e.g. ``FPN``.
        init_args: The class's constructor arguments (``encoder_weights`` must be ``None``).
    """
    if init_args.get("encoder_weights") is not None:
        raise ConfigError(
            f"smp_native network {model_class}: the weights come from the model folder; "
            "encoder_weights must be null."
        )
    register_smp_encoders()  # a folder saved under a densepred-<name> encoder
    arch = smp_architecture(SMP_DECODER_PREFIX + model_class)
    return arch(**{k: v for k, v in init_args.items() if not k.startswith("_")})
