"""Depth losses: hand-computed values, validity handling, gradients and the weighted combination."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torchmetrics.functional.image import structural_similarity_index_measure

from densepred.core.errors import ConfigError
from densepred.losses.depth import DEPTH_LOSSES, DepthLoss

ALL_LOSSES = DEPTH_LOSSES.names()


def scene(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """pred, gt and valid mask (2x1x16x20) with a band of invalid (0) ground truth."""
    gen = torch.Generator().manual_seed(seed)
    gt = torch.rand(2, 1, 16, 20, generator=gen) * 8 + 1
    gt[:, :, :3] = 0
    pred = gt.clamp_min(1) * (torch.rand(gt.shape, generator=gen) * 0.6 + 0.7)
    return pred, gt, gt > 0


def test_registry_holds_the_documented_losses() -> None:
    assert set(ALL_LOSSES) == {"silog", "l1", "berhu", "gradient", "ssim", "ssi", "ssi_gradient"}


@pytest.mark.parametrize("name", ALL_LOSSES)
def test_perfect_prediction_gives_zero(name: str) -> None:
    _, gt, valid = scene()
    loss = DEPTH_LOSSES.build(name)(gt.clamp_min(1).clone(), gt, valid)
    assert loss.item() == pytest.approx(0.0, abs=1e-4)


@pytest.mark.parametrize("name", ALL_LOSSES)
def test_imperfect_prediction_gives_positive_loss_and_finite_gradient(name: str) -> None:
    pred, gt, valid = scene()
    pred.requires_grad_(True)
    loss = DEPTH_LOSSES.build(name)(pred, gt, valid)
    loss.backward()
    assert loss.shape == ()
    assert loss.item() > 1e-3
    assert torch.isfinite(pred.grad).all()
    assert pred.grad[valid].abs().sum() > 0


@pytest.mark.parametrize("name", ALL_LOSSES)
def test_no_valid_pixel_gives_zero_still_in_the_graph(name: str) -> None:
    pred, gt, _ = scene()
    pred.requires_grad_(True)
    loss = DEPTH_LOSSES.build(name)(
        pred, torch.zeros_like(gt), torch.zeros_like(gt, dtype=torch.bool)
    )
    loss.backward()
    assert loss.item() == 0.0
    assert loss.requires_grad
    assert torch.equal(pred.grad, torch.zeros_like(pred))


@pytest.mark.parametrize("name", ALL_LOSSES)
def test_invalid_pixels_do_not_influence_the_loss(name: str) -> None:
    pred, gt, valid = scene()
    changed = torch.where(valid, pred, torch.full_like(pred, 123.0))
    loss = DEPTH_LOSSES.build(name)
    assert torch.allclose(loss(pred, gt, valid), loss(changed, gt, valid))


def test_silog_matches_bts_formula() -> None:
    pred, gt, valid = scene(1)
    d = (np.log(pred[valid].numpy()) - np.log(gt[valid].numpy())).astype(np.float64)
    expected = 10 * np.sqrt(np.mean(d**2) - 0.85 * np.mean(d) ** 2)
    assert DEPTH_LOSSES.build("silog")(pred, gt, valid).item() == pytest.approx(expected, rel=1e-4)
    fully_invariant = DEPTH_LOSSES.build("silog", lambd=1.0)
    assert fully_invariant(2 * gt.clamp_min(1), gt, valid).item() == pytest.approx(0.0, abs=1e-3)


def test_l1_and_berhu_match_hand_values() -> None:
    gt = torch.tensor([[[[1.0, 2.0, 3.0, 0.0]]]])
    pred = torch.tensor([[[[1.5, 2.0, 1.0, 9.0]]]])
    valid = gt > 0
    residual = np.array([0.5, 0.0, 2.0])
    assert DEPTH_LOSSES.build("l1")(pred, gt, valid).item() == pytest.approx(residual.mean())
    c = 0.2 * residual.max()
    berhu = np.where(residual <= c, residual, (residual**2 + c**2) / (2 * c))
    assert DEPTH_LOSSES.build("berhu")(pred, gt, valid).item() == pytest.approx(berhu.mean())


def test_gradient_loss_uses_valid_pairs_of_log_residuals() -> None:
    gt = torch.tensor([[[[1.0, 2.0, 4.0, 0.0]]]])
    pred = torch.tensor([[[[1.0, 4.0, 4.0, 5.0]]]])
    r = np.log([1.0, 4.0, 4.0]) - np.log([1.0, 2.0, 4.0])
    expected = np.mean(np.abs(np.diff(r)))  # pairs (0,1) and (1,2); (2,3) has an invalid pixel
    loss = DEPTH_LOSSES.build("gradient", scales=1)(pred, gt, gt > 0)
    assert loss.item() == pytest.approx(expected, rel=1e-5)


def test_gradient_loss_ignores_global_scale_and_rejects_zero_scales() -> None:
    _, gt, valid = scene()
    scaled = 3 * gt.clamp_min(1)
    assert DEPTH_LOSSES.build("gradient")(scaled, gt, valid).item() == pytest.approx(0, abs=1e-5)
    with pytest.raises(ConfigError, match="scales"):
        DEPTH_LOSSES.build("gradient", scales=0)


def test_ssim_loss_on_fully_valid_maps_is_one_minus_torchmetrics_ssim() -> None:
    pred, gt, _ = scene()
    gt, pred = gt.clamp_min(1), pred.clamp_min(1)
    ssim = structural_similarity_index_measure(pred / 10, gt / 10, data_range=1.0)
    loss = DEPTH_LOSSES.build("ssim", max_depth=10.0)(
        pred, gt, torch.ones_like(gt, dtype=torch.bool)
    )
    assert loss.item() == pytest.approx(1 - ssim.item(), rel=1e-5)


def test_depth_loss_combines_weighted_parts() -> None:
    pred, gt, _ = scene()
    gt[0, 0, 5, 5] = 10.0  # not < max_depth: invalid for losses as for metrics
    pred.requires_grad_(True)
    criterion = DepthLoss({"silog": 1.0, "l1": 0.5, "ssim": 2.0}, args={"silog": {"lambd": 0.5}})
    total, parts = criterion(pred, gt)
    assert set(parts) == {"silog", "l1", "ssim"}
    assert total.item() == pytest.approx(parts["silog"] + 0.5 * parts["l1"] + 2.0 * parts["ssim"])
    assert criterion.parts["silog"].lambd == 0.5
    assert criterion.parts["ssim"].max_depth == 10.0
    total.backward()
    assert pred.grad[0, 0, 5, 5] == 0 and pred.grad[0, 0, 5, 6] != 0


def test_depth_loss_works_in_half_precision_input() -> None:
    pred, gt, _ = scene()
    total, _ = DepthLoss({"silog": 1.0, "gradient": 0.5})(pred.half(), gt)
    assert total.dtype == torch.float32 and torch.isfinite(total)


def test_depth_loss_errors_name_the_config_key() -> None:
    with pytest.raises(ConfigError, match="Did you mean 'silog'"):
        DepthLoss({"silg": 1.0})
    with pytest.raises(ConfigError, match=r"task\.loss_args\.silog.*lambda"):
        DepthLoss({"silog": 1.0}, args={"silog": {"lambda": 0.5}})
    with pytest.raises(ConfigError, match=r"task\.loss_args\.l1.*task\.losses"):
        DepthLoss({"silog": 1.0}, args={"l1": {}})
    with pytest.raises(ConfigError, match="task.losses is empty"):
        DepthLoss({})
    with pytest.raises(ValueError, match="differ in shape"):
        DepthLoss({"l1": 1.0})(torch.ones(1, 1, 4, 4), torch.ones(1, 1, 4, 5))


def _midas_reference(pred: torch.Tensor, gt: torch.Tensor, valid: torch.Tensor, trim: float = 0.0):
    """Independent reference of MiDaS's loss (Ranftl et al. 2020, eq. 2-4 with least squares):
    per image, the target disparity 1/gt divided by its valid mean; (s, t) = argmin sum
    (s/pred + t - target)^2 by numpy's lstsq; residuals kept after dropping each image's largest
    ``trim`` fraction; the mean of |residual| over all kept pixels of the batch. Also returns the
    aligned residual maps (NaN where invalid) for the gradient term."""
    total, count, maps = 0.0, 0, []
    for p, g, v in zip(
        pred[:, 0].double().numpy(), gt[:, 0].double().numpy(), valid[:, 0].numpy(), strict=True
    ):
        target = 1 / g[v]
        target = target / target.mean()
        design = np.stack([1 / p[v], np.ones(v.sum())], axis=1)
        (s, t), *_ = np.linalg.lstsq(design, target, rcond=None)
        r = np.abs(s / p[v] + t - target)
        kept = np.sort(r)[: len(r) - int(len(r) * trim)]
        total, count = total + kept.sum(), count + len(kept)
        full = np.full(p.shape, np.nan)
        full[v] = s / p[v] + t - target
        maps.append(full)
    return total / count, maps


@pytest.mark.parametrize("trim", [0.0, 0.2])
def test_ssi_matches_midas_least_squares_reference(trim: float) -> None:
    pred, gt, valid = scene(2)
    expected, _ = _midas_reference(pred, gt, valid, trim)
    value = DEPTH_LOSSES.build("ssi", trim=trim)(pred, gt, valid).item()
    assert value == pytest.approx(expected, rel=1e-4)


def test_ssi_ignores_scale_and_shift_of_disparity_but_not_other_changes() -> None:
    _, gt, valid = scene(3)
    gt = gt.clamp_min(1)
    shifted = 1 / (3.0 / gt + 0.2)  # disparity scaled by 3 and shifted by 0.2
    for name in ("ssi", "ssi_gradient"):
        loss = DEPTH_LOSSES.build(name)
        assert loss(shifted, gt, valid).item() == pytest.approx(0.0, abs=1e-5)
        assert loss(gt**2, gt, valid).item() > 1e-2  # not an affine change of disparity


def test_ssi_gradient_matches_reference_pair_differences() -> None:
    pred, gt, valid = scene(4)
    _, maps = _midas_reference(pred, gt, valid)
    expected = 0.0
    for s in range(4):
        diffs = []
        for m in maps:
            sub = m[:: 2**s, :: 2**s]
            for a, b in ((sub[:, 1:], sub[:, :-1]), (sub[1:, :], sub[:-1, :])):
                d = np.abs(a - b)
                diffs.extend(d[np.isfinite(d)].tolist())
        expected += np.mean(diffs)
    value = DEPTH_LOSSES.build("ssi_gradient")(pred, gt, valid).item()
    assert value == pytest.approx(expected, rel=1e-4)


def test_ssi_leaves_out_images_whose_alignment_is_undefined() -> None:
    pred, gt, valid = scene(5)
    flat = pred.clone()
    flat[1] = 2.0  # a constant prediction: scale and shift are not determined
    only_first, _ = _midas_reference(pred[:1], gt[:1], valid[:1])
    assert DEPTH_LOSSES.build("ssi")(flat, gt, valid).item() == pytest.approx(only_first, rel=1e-4)


@pytest.mark.parametrize(("name", "bad"), [("ssi", {"trim": 1.0}), ("ssi_gradient", {"scales": 0})])
def test_ssi_options_are_checked(name: str, bad: dict) -> None:
    with pytest.raises(ConfigError, match=name):
        DEPTH_LOSSES.build(name, **bad)
