"""GAN mode: a generator and a discriminator trained against each other (manual optimisation).

Conditional runs translate a condition image into a target in the pix2pix manner (generator =
DenseModel with a transposed-convolution U-Net and tanh head; discriminator = PatchGAN or any
backbone, seeing condition and image concatenated). Unconditional runs generate from noise
(DCGAN). Each training batch makes one discriminator step on ``0.5 * (real + fake)`` with the
fakes detached, then one generator step on the adversarial loss plus ``l1_weight * L1`` (plus
``ssim_weight * (1 - SSIM)``) for conditional runs. Note that Lightning's ``global_step`` (and
so ``trainer.max_steps``) counts both optimizer steps: one batch is two steps.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torchmetrics import MetricCollection

from densepred.config.data import PairedDataConfig
from densepred.config.model import GANModelConfig
from densepred.config.run import Config
from densepred.config.specs import GAN
from densepred.config.task import GANTaskConfig
from densepred.core.errors import ConfigError
from densepred.data.paired import PairedDataModule
from densepred.data.palette import mask_colors
from densepred.losses.gan import GANLoss, reconstruction_loss
from densepred.metrics.depth import DepthMetrics
from densepred.metrics.image import image_metrics
from densepred.models.gan import build_gan_model
from densepred.models.gan.build import generator_recipe
from densepred.models.recipe import Recipe
from densepred.portable.processing import unit_to_depth
from densepred.portable.spec import InputSpec, OutputSpec
from densepred.tasks.base import BaseTask
from densepred.tasks.finetune import encoder_parameters
from densepred.tasks.native import at_target_size
from densepred.tasks.optim import build_optimizer, build_scheduler, optimizer_step
from densepred.viz.gan import gan_sample_grid

# Validation values of unconditional runs (no target to compare a sample with).
UNCONDITIONAL_LOGS = ("val/loss_d", "val/loss_g_adv")


class GANTask(BaseTask[GANModelConfig, PairedDataConfig, GANTaskConfig]):
    """Conditional (pix2pix) or unconditional (DCGAN) image generation."""

    spec = GAN
    datamodule_cls = PairedDataModule
    ddp_unused_parameters = True  # each optimizer's step leaves the other network idle

    def __init__(self, config: Config | dict[str, Any]) -> None:
        super().__init__(config)
        self.automatic_optimization = False
        if self.data.conditional and self.data.target == "depth":
            # depth targets are scored apart: at each file's own size with eval_size: native
            data = self.data
            depth = MetricCollection({"depth": DepthMetrics(data.min_depth, data.max_depth)})
            for stage in ("val", "test"):
                self.metrics[f"{stage}_depth"] = depth.clone(prefix=f"{stage}/")

    @classmethod
    def check_config(cls, config: Config) -> None:
        """Unconditional runs log no quality metric: ``task.monitor`` must be one they log."""
        if not config.data.conditional and config.task.monitor not in (None, *UNCONDITIONAL_LOGS):
            raise ConfigError(
                f"task.monitor={config.task.monitor} is not logged without a condition (data.condition: "
                f"none logs only {', '.join(UNCONDITIONAL_LOGS)}). Set task.monitor: null (keep "
                "the latest checkpoint)."
            )

    @property
    def data(self) -> PairedDataConfig:
        """The ``data`` section (condition and target kinds, image size, depth range)."""
        return self.config.data  # type: ignore[return-value]

    def build_model(self) -> nn.Module:
        data = self.data
        return build_gan_model(
            self.config.model, data.condition_channels, data.target_channels, data.image_size
        )

    def build_losses(self) -> None:
        task = self.config.task
        self.adversarial = GANLoss(task.adversarial_loss)
        self.reconstruction = (
            reconstruction_loss(task.l1_weight, task.ssim_weight) if self.data.conditional else None
        )

    def build_metrics(self) -> MetricCollection:
        data = self.data
        if not data.conditional:
            return MetricCollection({})
        return MetricCollection(image_metrics())

    def depth_metrics(self, stage: str) -> MetricCollection | None:
        """The depth metrics of ``stage`` (``val``, ``test``); ``None`` without a depth target."""
        key = f"{stage}_depth"
        return self.metrics[key] if key in self.metrics else None

    def epoch_collections(self, stage: str) -> list[MetricCollection]:
        """The image metrics and, for depth targets, the depth metrics of ``stage``."""
        depth = self.depth_metrics(stage)
        return [self.stage_metrics(stage), *([depth] if depth is not None else [])]

    def update_depth_metrics(
        self, metrics: MetricCollection, fake: Tensor, batch: dict[str, Any]
    ) -> None:
        """Score the generated depth in metres against the batch's native ``depth`` targets
        (upsampled to each one's size), or against ``target`` at ``image_size`` without them."""
        pred = unit_to_depth(fake.float(), self.data.max_depth)  # B,1,h,w metres
        if "depth" in batch:
            targets = batch["depth"]
        else:
            targets = unit_to_depth(batch["target"].float(), self.data.max_depth)
        for scored, gt in at_target_size(pred, targets):
            metrics.update(scored, gt)

    def build_optimizers(
        self, total_steps: int
    ) -> tuple[list[torch.optim.Optimizer], list[torch.optim.lr_scheduler.LRScheduler]]:
        """Two optimizers (generator first), each with its per-step schedule."""
        task = self.config.task
        optimizers = [
            build_optimizer(
                self.model.generator,
                task.generator_optimizer,
                encoder_parameters(self.model.generator),
            ),
            build_optimizer(self.model.discriminator, task.discriminator_optimizer),
        ]
        return optimizers, [build_scheduler(opt, total_steps, task.scheduler) for opt in optimizers]

    def generate(self, condition: Tensor | None, num: int, seed: int | None = None) -> Tensor:
        """Images in [-1, 1] from a condition batch, or ``num`` images from noise.

        Args:
            condition: ``B x C x H x W`` condition (conditional runs) or ``None``.
            num: Number of images from noise (unconditional runs).
            seed: Seed of the noise (``None``: the global random state).
        """
        if self.model.conditional:
            return self.model(condition)  # B,C,H,W
        rng = None if seed is None else torch.Generator().manual_seed(seed)
        return self.model(self.model.sample_latent(num, rng))  # num,C,H,W

    def discriminator_step(
        self, optimizer: Any, real: Tensor, fake: Tensor, condition: Tensor | None
    ) -> Tensor:
        """One discriminator update on ``0.5 * (loss(real) + loss(fake))``; ``fake`` is detached."""
        with self.toggled_optimizer(optimizer):
            real_logits = self.model.discriminate(real, condition)
            fake_logits = self.model.discriminate(fake.detach(), condition)
            loss = self.adversarial.discriminator(real_logits, fake_logits)
            self.check_finite(loss)
            optimizer.zero_grad()
            self.manual_backward(loss)
            optimizer.step()
        return loss.detach()

    def generator_losses(
        self, real: Tensor, fake: Tensor, condition: Tensor | None
    ) -> dict[str, Tensor]:
        """Adversarial (+ weighted L1 and SSIM for conditional runs) losses; ``loss`` is their sum."""
        parts = {"adv": self.adversarial.generator(self.model.discriminate(fake, condition))}
        if self.reconstruction is not None:
            _, terms = self.reconstruction(fake, real)
            parts.update({k: self.reconstruction.weights[k] * v for k, v in terms.items()})
        return {"loss": sum(parts.values()), **parts}

    def generator_step(
        self, optimizer: Any, real: Tensor, fake: Tensor, condition: Tensor | None
    ) -> dict[str, Tensor]:
        """One generator update through the (frozen) discriminator."""
        with self.toggled_optimizer(optimizer):
            losses = self.generator_losses(real, fake, condition)
            self.check_finite(losses["loss"])
            optimizer.zero_grad()
            self.manual_backward(losses["loss"])
            optimizer.step()
        return {k: v.detach() for k, v in losses.items()}

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        opt_g, opt_d = self.optimizers()
        real, condition = batch["target"], batch.get("condition")  # B,C,H,W
        fake = self.generate(condition, real.shape[0])  # B,C,H,W
        loss_d = self.discriminator_step(opt_d, real, fake, condition)
        losses_g = self.generator_step(opt_g, real, fake, condition)
        for scheduler in self.lr_schedulers():
            scheduler.step()
        self.log_train_losses(
            {"train/loss_d": loss_d, "train/loss_g": losses_g.pop("loss")},
            {f"train/loss_g_{k}": v for k, v in losses_g.items()},
            real.shape[0],
        )

    def item_noise(self, indices: Tensor) -> Tensor:
        """One latent vector per evaluation item, seeded by ``task.sample_seed`` plus the item's
        index in its split: the same noise whatever the batches or the number of processes."""
        seed = self.config.task.sample_seed
        return torch.cat(
            [
                self.model.sample_latent(1, torch.Generator().manual_seed(seed + int(i)))
                for i in indices
            ]
        )

    def _eval_step(self, batch: dict[str, Any], stage: str) -> Tensor:
        real, condition = batch["target"], batch.get("condition")  # B,C,H,W
        fake = self.model(condition if self.model.conditional else self.item_noise(batch["index"]))
        loss_d = self.adversarial.discriminator(
            self.model.discriminate(real, condition), self.model.discriminate(fake, condition)
        )
        loss_g = self.adversarial.generator(self.model.discriminate(fake, condition))
        bs = real.shape[0]
        self.log_dict(
            {f"{stage}/loss_d": loss_d, f"{stage}/loss_g_adv": loss_g},
            batch_size=bs,
            sync_dist=True,
        )
        if self.model.conditional:
            # DenseModel crops: a strided view
            self.stage_metrics(stage).update(fake.contiguous(), real)
            depth = self.depth_metrics(stage)
            if depth is not None:
                self.update_depth_metrics(depth, fake, batch)
        return fake

    def sample_columns(self) -> list[tuple[str, str]]:
        """(label, kind) of the sample grid's columns: [condition |] target | generated."""
        columns = [("target", self.data.target), ("generated", self.data.target)]
        if self.model.conditional:
            columns.insert(0, ("condition", self.data.condition))
        return columns

    def evaluation_step(self, batch: dict[str, Any], stage: str) -> None:
        """Score a batch and offer its rows to the sample grid."""
        fake = self._eval_step(batch, stage)
        tensors = {
            "condition": batch.get("condition"),
            "target": batch["target"],
            "generated": fake,
        }
        self.eval_samples.add(*(tensors[label] for label, _ in self.sample_columns()))

    def sample_grid(self) -> np.ndarray | None:
        """``task.num_samples`` items spread over the evaluation pass, one row each."""
        samples = self.eval_samples.result()
        if samples is None:
            return None
        columns = self.sample_columns()
        return gan_sample_grid(
            [(label, x.float(), kind) for (label, kind), x in zip(columns, samples, strict=True)]
        )

    def plain_training_step(
        self, batch: dict[str, Any], optimizers: list[torch.optim.Optimizer]
    ) -> None:
        """The pix2pix/DCGAN loop: a discriminator step on a detached fake, then a generator step
        through the discriminator with its gradients off (as the reference pix2pix code does)."""
        opt_g, opt_d = optimizers
        real, condition = batch["target"], batch.get("condition")
        fake = self.generate(condition, real.shape[0])
        discriminate = self.model.discriminate
        loss_d = self.adversarial.discriminator(
            discriminate(real, condition), discriminate(fake.detach(), condition)
        )
        optimizer_step(loss_d, opt_d)
        self.model.discriminator.requires_grad_(False)
        optimizer_step(self.generator_losses(real, fake, condition)["loss"], opt_g)
        self.model.discriminator.requires_grad_(True)

    def network_recipe(self) -> Recipe:
        """The generator's recipe (the discriminator is not deployed)."""
        data = self.data
        return generator_recipe(
            self.config.model, data.condition_channels, data.target_channels, data.image_size
        )

    def deploy_network(self) -> nn.Module:
        """The generator."""
        return self.model.generator

    def input_spec(self) -> InputSpec:
        """The condition (``data.condition``, resized to ``data.image_size`` and encoded into
        [-1, 1] as in training), or noise vectors for unconditional runs."""
        data = self.data
        if not data.conditional:
            return InputSpec(kind="latent", channels=1, latent_dim=self.model.latent_dim)
        return InputSpec(
            kind=data.condition,
            channels=data.condition_channels,
            size=data.image_size,
            max_depth=data.max_depth if data.condition == "depth" else None,
            depth_scale=data.depth_scale if data.condition == "depth" else None,
            palette=mask_colors().tolist() if data.condition == "mask" else None,
        )

    def output_spec(self) -> OutputSpec:
        """A generated image in [-1, 1], or depth in [-1, 1] for 0..``data.max_depth`` metres."""
        data = self.data
        if data.target == "depth":
            return OutputSpec(
                kind="depth_image",
                channels=1,
                units="m",
                min_depth=0.0,
                max_depth=data.max_depth,
                depth_scale=data.depth_scale,
            )
        return OutputSpec(kind="image", channels=data.target_channels)
