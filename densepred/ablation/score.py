"""A challenge-style score that trades fidelity against runtime.

The MAI 2021/2022 depth challenge ranks by ``2^(-20 * si_RMSE) / (C * runtime)``. That form and
its constant ``C`` are UNVERIFIED (REFERENCE.md section 1), so every part is a setting:

    score = base ** (-alpha * record[metric]) / (C * record[runtime] ** runtime_power)

With the defaults the score is ``2^(-20 * mai_si_rmse) / (1.0 * latency_ms_640x480)``, runtime
in milliseconds as measured by the sweep (PyTorch on this machine's CPU, not TFLite on a
Raspberry Pi 4 as in the challenge), so scores compare trials of one sweep, not leaderboard
entries. ``runtime_power: 0`` ranks by fidelity alone.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import Field, PositiveFloat

from densepred.core.schema import StrictModel


class ScoreSettings(StrictModel):
    """``score``: the parts of the (UNVERIFIED) challenge formula.

    Attributes:
        metric: Record key of the fidelity term (lower is better), default MAI si-RMSE.
        runtime: Record key of the runtime term in milliseconds.
        base: Base of the fidelity term (2 in the challenge).
        alpha: Weight of the fidelity term (20 in the challenge).
        C: Runtime constant (UNVERIFIED; only scales all scores alike).
        runtime_power: Exponent of the runtime (1 in the challenge, 0 ignores runtime).
    """

    metric: str = "mai_si_rmse"
    runtime: str = "latency_ms_640x480"
    base: PositiveFloat = 2.0
    alpha: float = 20.0
    C: PositiveFloat = 1.0
    runtime_power: float = Field(1.0, ge=0)


def challenge_score(record: dict[str, Any], settings: ScoreSettings) -> float | None:
    """The score of one result record, or None if its metric or runtime is missing or invalid.

    Args:
        record: A trial's result record (flat mapping of measured values).
        settings: The formula's parts.
    """
    fidelity, runtime = record.get(settings.metric), record.get(settings.runtime)
    if not isinstance(fidelity, int | float) or not isinstance(runtime, int | float):
        return None
    if not math.isfinite(fidelity) or not math.isfinite(runtime) or runtime <= 0:
        return None
    return settings.base ** (-settings.alpha * fidelity) / (
        settings.C * runtime**settings.runtime_power
    )
