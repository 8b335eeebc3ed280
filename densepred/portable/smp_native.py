"""Networks with an smp decoder as plain segmentation-models-pytorch models.

A ``model.decoder: smp.<Architecture>`` network is smp's model with densepred's head in place of
smp's (:func:`~densepred.models.smp_models.attach_head`). Its folder is also an smp model folder
(``segmentation_models_pytorch.from_pretrained`` loads it, in a process without densepred, with
equal outputs) exactly when smp's own head computes the same function:

- the encoder is smp's ``tu-<timm name>`` (always: densepred builds smp models on it);
- the head is ``segmentation`` (logits, smp ``activation=None``), or ``image`` with ``identity``
  activation, or ``tanh`` / ``sigmoid`` on an architecture without final upsampling (smp applies
  its activation after the upsampling, densepred before);
- densepred's head conv has the kernel size of smp's head conv for that architecture: 3x3 for
  Unet, UnetPlusPlus, MAnet, PSPNet and PAN; 1x1 for FPN, DeepLabV3, DeepLabV3Plus, Linknet,
  UPerNet and Segformer (train those with ``model.head_args.kernel_size: 1``).

Depth heads never qualify: smp's head has no bounded depth activation
(``min + sigmoid(x) * (max - min)``). :func:`smp_native_form` says which case applies, and the
conversion is checked by running both networks on the same input.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from densepred.core.errors import DensepredError
from densepred.models.recipe import Recipe
from densepred.models.smp_models import SmpModel, padded_forward, smp_native_network

# densepred image-head activation -> smp's activation name.
SMP_ACTIVATIONS: dict[str, str | None] = {"identity": None, "tanh": "tanh", "sigmoid": "sigmoid"}
# Relative difference allowed between the densepred network and its smp form (float rounding).
TOLERANCE = 1e-5


@dataclass(frozen=True)
class SmpForm:
    """The smp-native form of a network.

    Attributes:
        recipe: The ``smp_native`` recipe.
        state: Its state dict (smp's key names).
        pad_multiple: The encoder's output stride (smp needs sides divisible by it).
    """

    recipe: Recipe
    state: dict[str, Tensor]
    pad_multiple: int


def _activation(head: nn.Module, head_name: str, upsampling: nn.Module) -> tuple[Any, str]:
    """smp's ``activation`` for densepred's head, or ``(None, reason)`` when there is none."""
    if head_name == "segmentation":
        return None, ""
    if head_name == "image":
        name = SMP_ACTIVATIONS.get(head.activation)
        if name is not None and not isinstance(upsampling, nn.Identity):
            return None, (
                f"smp applies the {name} activation after its head's upsampling, densepred "
                "before it; the outputs would differ"
            )
        return name, ""
    return None, (
        f"smp's head has no equivalent of densepred's {head_name} head (a bounded depth activation)"
    )


def smp_native_form(recipe: Recipe, network: nn.Module) -> SmpForm | str:
    """The smp-native form of ``network``, or why it has none.

    Args:
        recipe: The network's recipe (builder ``smp`` for an smp decoder).
        network: The trained network (an :class:`~densepred.models.smp_models.SmpModel`).

    Returns:
        The form (its outputs checked against ``network``'s), or a sentence saying why smp
        cannot hold this network.
    """
    if recipe.builder != "smp" or not isinstance(network, SmpModel):
        return "its decoder is not a segmentation-models-pytorch architecture"
    net = network.net
    head, upsampling = net.segmentation_head[0], net.segmentation_head[1]
    activation, reason = _activation(head, recipe.args["head"], upsampling)
    if reason:
        return reason
    init = {k: v for k, v in net.config.items() if k != "pretrained_cfg_overlay"}
    init.update(classes=head.out_channels, activation=activation, encoder_weights=None)
    init = json.loads(json.dumps(init))  # tuples -> lists, as config.json gives them back
    model_class = type(net).__name__
    native = smp_native_network(model_class, init)
    kernel = native.segmentation_head[0].kernel_size
    if kernel != head.conv.kernel_size:
        return (
            f"smp's {model_class} head is a {kernel[0]}x{kernel[1]} convolution and this "
            f"model's a {head.conv.kernel_size[0]}x{head.conv.kernel_size[1]} one; train with "
            f"model.head_args.kernel_size: {kernel[0]} for an smp-loadable folder"
        )
    state = {}
    for key, value in net.state_dict().items():
        key = key.replace("segmentation_head.0.conv.", "segmentation_head.0.")
        state[key] = value.detach().clone().contiguous()
    native.load_state_dict(state, strict=True)
    stride = int(net.encoder.output_stride)
    _check_equal(network, native, stride, init.get("in_channels", 3))
    return SmpForm(
        Recipe("smp_native", {"model_class": model_class, "init_args": init}), state, stride
    )


def _check_equal(network: nn.Module, native: nn.Module, stride: int, channels: int) -> None:
    """Both networks on one random input (sides not multiples of ``stride``, so the padding is
    exercised); a difference is a bug in this conversion."""
    x = torch.randn(
        1, channels, 2 * stride + 5, 3 * stride - 7, generator=torch.Generator().manual_seed(0)
    )
    was = network.training
    network.eval()
    native.eval()
    with torch.inference_mode():
        expected = network(x.to(next(network.parameters()).device)).float().cpu()
        got = padded_forward(native, x, stride).float()
    network.train(was)
    diff = float((expected - got).abs().max()) / max(1.0, float(expected.abs().max()))
    if diff > TOLERANCE:
        raise DensepredError(
            f"the smp form of this network differs from it (relative {diff:.2e}); this is a "
            "densepred bug: please report it. Saving without the smp form works with smp=False."
        )
