"""Compare an exported model's outputs with PyTorch's on the same inputs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch

from densepred.metrics.depth import mai_depth_metrics


@dataclass(frozen=True)
class Tolerance:
    """Largest differences an export may show before the command fails; ``None``: not checked.

    Attributes:
        max_rel_diff: Largest ``max|runtime - torch| / max(1, max|torch|)`` over all inputs.
        si_rmse: Largest scale-invariant log RMSE between the two depth outputs (depth only).
        metric_rel_change: Largest relative change of the task's validation metric (the
            checkpoint's monitor, e.g. ``mai_si_rmse``) of an int8 file against the float one.
    """

    max_rel_diff: float | None = 1e-3
    si_rmse: float | None = 1e-3
    metric_rel_change: float | None = None


FLOAT_TOLERANCE = Tolerance()
"""Float exports: the differences are float rounding only (observed: 1e-7 to 1e-4)."""

INT8_TOLERANCE = Tolerance(max_rel_diff=None, si_rmse=None, metric_rel_change=0.1)
"""Int8 exports: output differences are expected and recorded; the validation metric may change
by at most 10 % of its float value."""


def metric_failures(float_value: float, int8_value: float, tol: Tolerance) -> list[str]:
    """What exceeds ``tol.metric_rel_change`` between the float and int8 validation metric."""
    if tol.metric_rel_change is None:
        return []
    change = abs(int8_value - float_value) / max(abs(float_value), 1e-12)
    if not change <= tol.metric_rel_change:
        return [f"int8 changes the validation metric by {change:.1%} > {tol.metric_rel_change:.0%}"]
    return []


@dataclass(frozen=True)
class Parity:
    """Differences between runtime and PyTorch outputs over a set of inputs.

    Attributes:
        inputs: Number of inputs compared.
        max_abs_diff: Largest absolute difference (output units).
        mean_abs_diff: Mean absolute difference.
        max_rel_diff: ``max_abs_diff / max(1, max|torch output|)``.
        si_rmse: Largest per-input si-RMSE between the outputs (depth only, else ``None``).
    """

    inputs: int
    max_abs_diff: float
    mean_abs_diff: float
    max_rel_diff: float
    si_rmse: float | None

    def failures(self, tol: Tolerance) -> list[str]:
        """What exceeds ``tol`` (empty when the export passes)."""
        out = []
        if tol.max_rel_diff is not None and not self.max_rel_diff <= tol.max_rel_diff:
            out.append(f"max relative difference {self.max_rel_diff:.3g} > {tol.max_rel_diff:g}")
        if tol.si_rmse is not None and self.si_rmse is not None and not self.si_rmse <= tol.si_rmse:
            out.append(f"si-RMSE between the outputs {self.si_rmse:.3g} > {tol.si_rmse:g}")
        return out

    def to_dict(self) -> dict[str, float | int | None]:
        return asdict(self)


def depth_si_rmse(pred: np.ndarray, ref: np.ndarray) -> float:
    """si-RMSE (MAI definition, natural log) of ``pred`` against ``ref``, both depth in metres."""
    values = mai_depth_metrics(
        torch.from_numpy(pred).reshape(1, 1, -1), torch.from_numpy(ref).reshape(1, 1, -1)
    )  # one image of 1 x N pixels
    return float(values["mai_si_rmse"][0])


def compare_outputs(
    outputs: Sequence[np.ndarray], references: Sequence[np.ndarray], depth_scale: float | None
) -> Parity:
    """Differences of ``outputs`` against ``references`` (one array per input, same shapes).

    Args:
        outputs: Runtime outputs.
        references: PyTorch outputs on the same inputs.
        depth_scale: Units per metre of depth outputs (1 for metres, 1000 for millimetres), or
            ``None`` for outputs that are not depth (no si-RMSE).
    """
    if len(outputs) != len(references) or not outputs:
        raise ValueError(
            f"need the same non-zero number of outputs, got {len(outputs)} and {len(references)}"
        )
    abs_max, abs_sum, count, rel, si = 0.0, 0.0, 0, 0.0, []
    for out, ref in zip(outputs, references, strict=True):
        if out.shape != ref.shape:
            raise ValueError(f"output shape {out.shape} differs from PyTorch's {ref.shape}")
        diff = np.abs(out.astype(np.float64) - ref.astype(np.float64))
        diff[~np.isfinite(diff)] = np.inf  # a NaN output must fail, not vanish in max()
        abs_max = max(abs_max, float(diff.max()))
        abs_sum, count = abs_sum + float(diff.sum()), count + diff.size
        rel = max(rel, float(diff.max()) / max(1.0, float(np.abs(ref).max())))
        if depth_scale is not None:
            si.append(depth_si_rmse(out / depth_scale, ref / depth_scale))
    return Parity(
        inputs=len(outputs),
        max_abs_diff=abs_max,
        mean_abs_diff=abs_sum / count,
        max_rel_diff=rel,
        si_rmse=max(si) if si else None,
    )
