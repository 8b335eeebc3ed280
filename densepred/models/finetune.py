"""The ``model`` keys of transfer learning: a frozen encoder, unfrozen at a given epoch."""

from __future__ import annotations

from pydantic import Field, model_validator

from densepred.core.schema import StrictModel


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
