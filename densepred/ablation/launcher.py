"""What every sweep launcher shares: the trials' run folders, data preparation, and the
driver-side recording of each record (and the report) as its trial ends."""

from __future__ import annotations

import logging
import shutil
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml

from densepred.ablation.report import RESULTS_JSONL, write_report
from densepred.ablation.sweep import BenchmarkSettings, Sweep, Trial, expand_grid
from densepred.app.config import config_from_dict
from densepred.app.tasks import TASKS
from densepred.core.errors import DensepredError
from densepred.core.fileio import append_jsonl

logger = logging.getLogger(__name__)

TRIALS_DIR = "trials"
Log = Callable[[str], None]


def prepare_data(trials: Sequence[Trial]) -> None:
    """Generate or download each distinct data set once, before parallel trials could race on it.

    Trials whose config is invalid are skipped here; they record their error when they run.
    """
    seen: set[str] = set()
    for trial in trials:
        key = yaml.safe_dump(trial.config.get("data"), sort_keys=True)
        if key in seen:
            continue
        seen.add(key)
        try:
            config = config_from_dict(trial.config, source=f"trial {trial.trial_id}")
        except DensepredError:
            continue
        TASKS.get(config.task_name).build_datamodule(config).prepare_data()


def fresh_folder(run_dir: Path) -> Path:
    """``run_dir``, emptied of what an unfinished earlier attempt left there."""
    if run_dir.exists():
        shutil.rmtree(run_dir)
    return run_dir


class Runner(ABC):
    """Base of the launchers: runs pending trials; as each trial ends, appends its record and
    rewrites the report (``results.csv``, ``results.md``, ``pareto.png``).

    Args:
        folder: The sweep folder (``results.jsonl`` and the report).
        bench: Measurement settings passed to every trial.
        sweep: The sweep (launchers that need more than the trials, e.g. the ranking metric).
        trials_dir: Parent of the trials' run folders (default ``folder/trials``).
        log: Progress messages.
    """

    def __init__(
        self,
        folder: Path,
        bench: BenchmarkSettings,
        sweep: Sweep,
        trials_dir: str | Path | None = None,
        log: Log = logger.info,
    ) -> None:
        self.folder = folder
        self.bench = bench
        self.sweep = sweep
        self.trials_dir = Path(trials_dir) if trials_dir is not None else folder / TRIALS_DIR
        self.log = log
        self.done = 0
        self.total = 0

    def run_dir(self, trial: Trial) -> Path:
        """The trial's run folder."""
        return self.trials_dir / trial.trial_id

    def _fresh_run_dir(self, trial: Trial) -> Path:
        return fresh_folder(self.run_dir(trial))

    @abstractmethod
    def check_engine(self) -> None:
        """Fail before any work (a ConfigError naming the fix) when the engine is missing."""

    @abstractmethod
    def run(self, trials: Sequence[Trial]) -> None:
        """Run ``trials``, appending each record as soon as its trial ends."""

    def _record(self, record: dict[str, Any]) -> None:
        append_jsonl(self.folder / RESULTS_JSONL, record)
        write_report(self.folder, self.sweep, expand_grid(self.sweep))
        self.done += 1
        detail = (
            f"({record['error'][:200]})"
            if record["status"] != "ok"
            else f"in {record.get('wall_s', 0.0):.0f} s"
        )
        self.log(f"[{self.done}/{self.total}] {record['trial_id']}: {record['status']} {detail}")
