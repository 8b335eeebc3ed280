"""The ``model`` sections: dense networks (encoder -> decoder -> head), classifiers and GAN pairs."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator

from densepred.config.refs import (
    DECODER,
    DISCRIMINATOR,
    ENCODER,
    GENERATOR,
    HEAD,
    context_value,
    references,
)
from densepred.core.loader_args import refuse_loader_args
from densepred.core.schema import StrictModel

SMP_DECODER_PREFIX = "smp."
"""``model.decoder`` values with this prefix name a segmentation-models-pytorch architecture."""


class FinetuneConfig(StrictModel):
    """Transfer-learning keys shared by the dense, classifier and GAN ``model`` sections.

    Attributes:
        freeze_encoder: Train without the encoder: its parameters get no gradient and its
            normalisation layers stay in eval mode (running statistics unchanged).
        unfreeze_at_epoch: Epoch (0-based) at whose start a frozen encoder joins training
            (gradual unfreezing; ``None``: frozen to the end). Its learning rate is
            ``task.optimizer.lr * task.optimizer.encoder_lr_mult``.
    """

    freeze_encoder: bool = False
    unfreeze_at_epoch: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _unfreeze_needs_freeze(self) -> FinetuneConfig:
        if self.unfreeze_at_epoch is not None and not self.freeze_encoder:
            raise ValueError(
                f"model.unfreeze_at_epoch={self.unfreeze_at_epoch} unfreezes a frozen encoder; "
                "set model.freeze_encoder: true or remove unfreeze_at_epoch"
            )
        return self


class ExecutionConfig(StrictModel):
    """Memory format and compilation of the network (dense, classifier and GAN ``model`` sections).

    Attributes:
        channels_last: Keep weights and activations in NHWC (``torch.channels_last``): oneDNN's
            fast layout on CPU, and Tensor Cores' on GPU. Applies to training and inference.
        compile: Train through ``torch.compile`` (the network's forward, compiled in place when
            training starts, so checkpoints keep their keys). Predict, evaluate and export run
            the network eagerly.
    """

    channels_last: bool = False
    compile: bool = False


def _no_loader_args(args: dict[str, Any]) -> dict[str, Any]:
    return dict(refuse_loader_args(args, "model.encoder_args"))


EncoderArgs = Annotated[dict[str, Any], AfterValidator(_no_loader_args)]
"""``model.encoder_args``: extra ``timm.create_model`` options, none of which may choose weights or
a file to load (:func:`~densepred.core.loader_args.refuse_loader_args`)."""


class ModelConfig(FinetuneConfig, ExecutionConfig):
    """The keys of every ``model`` section: an encoder from the registry and how it runs.

    Attributes:
        encoder: Friendly name (``densepred.encoders.list_encoders()``) or any timm model name.
        pretrained: ``False``, a local weights file, or ``True`` for timm's hub (needs internet).
        in_channels: Input channels (3 for RGB).
        encoder_args: Extra keyword arguments for ``timm.create_model`` (e.g. ``drop_rate``),
            checked against the model when the config is loaded.
    """

    encoder: str = "mobilenet_v3_large"
    pretrained: bool | str = False
    in_channels: int = Field(3, ge=1)
    encoder_args: EncoderArgs = Field(default_factory=dict)

    @field_validator("encoder")
    @classmethod
    def _known_encoder(cls, name: str, info: ValidationInfo) -> str:
        refs = references(info)
        if refs is not None:
            refs.check_name(ENCODER, name)
        return name

    @model_validator(mode="after")
    def _encoder_args(self, info: ValidationInfo) -> ModelConfig:
        refs = references(info)
        if refs is not None and self.encoder_args:
            refs.check_args(ENCODER, self.encoder, self.encoder_args, "model.encoder_args")
        return self


class DenseModelConfig(ModelConfig):
    """``model``: encoder, decoder and head options of a dense prediction network.

    Attributes:
        output_stride: 32, or 16/8 for a dilated encoder (ASPP-style decoders).
        decoder: A name from ``densepred.decoders.DECODERS``, or ``smp.<Architecture>`` for a
            segmentation-models-pytorch architecture (``smp.FPN``, ``smp.DeepLabV3Plus``, ...).
        decoder_args: Options of the decoder (checked against its signature when loaded).
        head_args: Options of the task's head (checked against its signature when loaded).
    """

    output_stride: Literal[8, 16, 32] = 32
    decoder: str = "unet"
    decoder_args: dict[str, Any] = Field(default_factory=dict)
    head_args: dict[str, Any] = Field(default_factory=dict)

    @field_validator("decoder")
    @classmethod
    def _known_decoder(cls, name: str, info: ValidationInfo) -> str:
        refs = references(info)
        if refs is not None:
            refs.check_name(DECODER, name)
        return name

    @model_validator(mode="after")
    def _decoder_and_head_args(self, info: ValidationInfo) -> DenseModelConfig:
        refs, head = references(info), context_value(info, "head")
        if refs is None:
            return self
        if self.decoder_args:
            refs.check_args(DECODER, self.decoder, self.decoder_args, "model.decoder_args")
        if self.head_args and head is not None:
            refs.check_args(HEAD, head, self.head_args, "model.head_args")
        return self

    @property
    def smp_decoder(self) -> bool:
        """Whether ``decoder`` names a segmentation-models-pytorch architecture."""
        return self.decoder.startswith(SMP_DECODER_PREFIX)


class ClassifierConfig(ModelConfig):
    """``model``: the classifier network (a timm classifier from the encoder registry).

    The classifier layer is re-initialised when a ``pretrained`` file has another class count;
    with ``freeze_encoder`` the encoder is everything but the classifier layer.
    """

    encoder: str = "mobilenet_v2"


class GANModelConfig(DenseModelConfig):
    """``model`` of GAN mode: the dense-model keys configure the pix2pix generator.

    Attributes:
        generator: ``dense`` (conditional: encoder -> transposed-conv U-Net -> tanh image head,
            configured by the inherited keys ``encoder``, ``decoder``, ``decoder_args``,
            ``head_args``...) or ``dcgan`` (unconditional: noise -> image, options in
            ``generator_args``).
        in_channels: Channels of the generator's input; ``None`` (default) takes them from
            ``data.condition``, a number must match it.
        generator_args: Options of the DCGAN generator (``latent_dim``, ``base_channels``,
            ``num_layers``, ``norm``).
        discriminator: ``patchgan``, ``dcgan`` or any encoder name (backbone discriminator).
        discriminator_args: Options of the discriminator (e.g. ``num_layers`` of PatchGAN,
            ``pretrained`` of a backbone).
        spectral_norm: Spectral normalisation on every discriminator weight.
    """

    generator: Literal["dense", "dcgan"] = "dense"
    in_channels: int | None = Field(None, ge=1)  # type: ignore[assignment]
    generator_args: dict[str, Any] = Field(default_factory=dict)
    discriminator: str = "patchgan"
    discriminator_args: dict[str, Any] = Field(default_factory=dict)
    spectral_norm: bool = False

    @field_validator("discriminator_args")
    @classmethod
    def _no_loader_args(cls, args: dict[str, Any]) -> dict[str, Any]:
        # a backbone discriminator's own ``pretrained`` is read by densepred's reader
        return dict(refuse_loader_args(args, "model.discriminator_args", allowed=("pretrained",)))

    @field_validator("discriminator")
    @classmethod
    def _known_discriminator(cls, name: str, info: ValidationInfo) -> str:
        refs = references(info)
        if refs is not None:
            refs.check_name(DISCRIMINATOR, name)
        return name

    @model_validator(mode="after")
    def _generator_and_discriminator_args(self, info: ValidationInfo) -> GANModelConfig:
        if self.generator == "dense" and self.generator_args:
            raise ValueError(
                "model.generator_args only configures the dcgan generator; the dense generator is "
                "configured by model.encoder, model.decoder, model.decoder_args and model.head_args"
            )
        refs = references(info)
        if refs is None:
            return self
        if self.generator_args:
            refs.check_args(GENERATOR, self.generator, self.generator_args, "model.generator_args")
        if self.discriminator_args:
            refs.check_args(
                DISCRIMINATOR,
                self.discriminator,
                self.discriminator_args,
                "model.discriminator_args",
            )
        return self
