"""Thin wrapper: see densepred.ablation.cli.ablate_main."""

import os
import sys

# Idle OpenMP threads sleep instead of spinning: on a CPU shared with other work, spinning
# threads make multi-threaded timings (and training) many times slower. Must precede torch.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from densepred.ablation.cli import ablate_main  # noqa: E402

if __name__ == "__main__":
    sys.exit(ablate_main())
