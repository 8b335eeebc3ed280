"""Model folders from trained tasks and checkpoints, and the model that predict and evaluate load.

:func:`save_pretrained` turns a task, a checkpoint (full Lightning checkpoint or weights-only: both
hold ``state_dict`` and ``hyper_parameters``) or another model folder into a model folder
(:mod:`densepred.portable`): the network's recipe and I/O spec, its weights, and a model card
with the validation metrics of exactly these weights, their protocol, the data and the command
that trained them. Networks with an smp decoder whose head smp can express are saved in smp's own
form (:mod:`densepred.portable.smp_native`), so ``segmentation_models_pytorch.from_pretrained``
loads the same folder.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import torch
from torch import nn

from densepred.app.inference import load_task
from densepred.core.benchmark import count_macs, count_parameters
from densepred.core.errors import DensepredError
from densepred.portable.model import PortableModel, from_pretrained
from densepred.portable.smp_native import SmpForm, smp_native_form
from densepred.portable.spec import ModelSpec, NetworkSpec, folder_config, is_model_folder
from densepred.tasks import BaseTask

log = logging.getLogger(__name__)

MACS_SIZE = (480, 640)
"""(H, W) the MACs of a model without a fixed input size are counted at."""
TOLERANCE = 1e-5
"""Relative difference allowed between a task's network and the folder's rebuilt network."""


def _run_folder(checkpoint: Path) -> Path | None:
    """The run folder of a checkpoint written by training (``<run>/checkpoints/<name>.ckpt``)."""
    run = checkpoint.parent.parent
    if checkpoint.parent.name == "checkpoints" and (run / "config.yaml").is_file():
        return run
    return None


def _metrics(checkpoint: Path | None) -> dict[str, Any]:
    """The validation metrics of exactly these weights from the run's ``metrics.json``, or a
    note saying why there are none."""
    if checkpoint is None:
        return {"metrics_note": "the folder was saved from a task in memory, not a checkpoint."}
    run = _run_folder(checkpoint)
    path = run / "metrics.json" if run else None
    if path is None or not path.is_file():
        return {"metrics_note": f"no metrics.json beside the run of '{checkpoint}'."}
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        return {"metrics_note": f"'{path}' is unreadable ({exc})."}
    scored = record.get("checkpoint")
    if not scored or Path(scored).name != checkpoint.name:
        return {
            "metrics_note": f"'{path}' scores '{scored}', not '{checkpoint.name}'; use that "
            "checkpoint for a folder with metrics."
        }
    return {
        "metrics": record.get("val") or {},
        "initial_metrics": record.get("initial_val") or {},
        "metrics_file": str(path),
        "epochs": record.get("epochs"),
        "global_step": record.get("global_step"),
    }


def _protocol(config: dict[str, Any]) -> str:
    """How the validation metrics were taken, in words."""
    data, task = config["data"], config["task"]
    parts = [f"split '{data.get('val_split')}'"]
    if data.get("limit_val"):
        parts.append(f"its first {data['limit_val']} items")
    size = data.get("image_size")
    parts.append(f"network input {size[0]}x{size[1]}" if size else "images at their own size")
    if data.get("eval_size") == "native":
        parts.append("scored at each target's native resolution (prediction upsampled bilinearly)")
    elif data.get("eval_size") == "input":
        parts.append("scored at the network input size (targets resized, nearest)")
    if task.get("eval_crop") not in (None, "none"):
        parts.append(f"{task['eval_crop']} evaluation crop")
    return ", ".join(parts)


def _data(config: dict[str, Any]) -> str:
    """The training data, in words."""
    data = config["data"]
    text = (
        f"Layout `{data.get('format')}` at `{data.get('root')}`, training split "
        f"'{data.get('train_split')}', validation split '{data.get('val_split')}'"
    )
    if data.get("args"):
        text += f", reader options `{json.dumps(data['args'], sort_keys=True)}`"
    if data.get("limit_train"):
        text += f", first {data['limit_train']} training items"
    return text + "."


def _macs(network: nn.Module, task: BaseTask) -> tuple[int, list[int]]:
    """MACs of one input and the input shape they were counted at."""
    inp = task.input_spec()
    if inp.kind == "latent":
        shape = [1, inp.latent_dim]
    else:
        shape = [1, inp.channels, *(inp.size or MACS_SIZE)]
    return count_macs(network, shape), shape


def training_record(task: BaseTask, checkpoint: Path | None) -> dict[str, Any]:
    """The ``training`` entry of a folder's spec: where the weights come from, the resolved
    config, the validation metrics of these weights with their protocol, the data, and the
    network's parameters and MACs."""
    config = task.config.to_dict()
    network = task.deploy_network()
    macs, shape = _macs(network, task)
    run = _run_folder(checkpoint) if checkpoint else None
    record: dict[str, Any] = {
        "name": config.get("name"),
        "source": str(checkpoint) if checkpoint else "an in-memory task",
        "config": config,
        "protocol": _protocol(config),
        "data": _data(config),
        "parameters": count_parameters(network),
        "macs": macs,
        "macs_input": shape,
        **_metrics(checkpoint),
    }
    if run is not None:
        record["command"] = f"python tools/train.py {run / 'config.yaml'}"
    return record


def _spec(task: BaseTask, form: SmpForm | str | None, training: dict[str, Any]) -> ModelSpec:
    recipe = form.recipe if isinstance(form, SmpForm) else task.network_recipe()
    inp = task.input_spec()
    if isinstance(form, SmpForm):
        inp = inp.model_copy(update={"pad_multiple": form.pad_multiple})
    return ModelSpec(
        task=task.config.task_name,
        network=NetworkSpec(**recipe.to_dict()),
        input=inp,
        output=task.output_spec(),
        training=training,
    )


def _example(spec: ModelSpec) -> torch.Tensor:
    """A seeded random network input (sides not multiples of 32 where the size is free)."""
    inp = spec.input
    shape = (
        [2, inp.latent_dim] if inp.kind == "latent" else [2, inp.channels, *(inp.size or (37, 53))]
    )
    return torch.randn(*shape, generator=torch.Generator().manual_seed(0))


def check_same_outputs(expected: nn.Module, model: PortableModel) -> None:
    """The rebuilt folder model must compute what the task's network computes.

    Raises:
        DensepredError: They differ (the recipe does not rebuild the trained network: a bug).
    """
    x = _example(model.spec)
    with torch.inference_mode():
        want = expected(x.to(next(expected.parameters()).device)).float().cpu()
        got = model(x).float()
    diff = float((want - got).abs().max()) / max(1.0, float(want.abs().max()))
    if diff > TOLERANCE:
        raise DensepredError(
            f"the model folder's network differs from the task's (relative difference {diff:.2e}); "
            "this is a densepred bug: please report it."
        )


def portable_model(
    task: BaseTask, checkpoint: str | Path | None = None, smp: bool = True
) -> PortableModel:
    """The folder model of a task: its network rebuilt from its recipe with the task's weights
    (checked to give the same outputs), its I/O spec and the training record for the card.

    Args:
        task: A trained task.
        checkpoint: The checkpoint it was loaded from (its run's metrics.json goes in the card).
        smp: Save a network with an smp decoder in smp's own form when smp can hold it.
    """
    network = task.deploy_network().eval()
    if isinstance(network, PortableModel):  # a task rebuilt from a model folder: that folder
        return network
    recipe = task.network_recipe()
    form: SmpForm | str | None = None
    if smp and recipe.builder == "smp":
        form = smp_native_form(recipe, network)
    training = training_record(task, Path(checkpoint) if checkpoint else None)
    if isinstance(form, SmpForm):
        training["smp"] = "this folder loads with segmentation_models_pytorch.from_pretrained"
    elif isinstance(form, str):
        training["smp"] = f"not loadable by segmentation_models_pytorch: {form}"
        log.info("model folder without smp form: %s", form)
    model = PortableModel(folder_config(_spec(task, form, training)))
    state = form.state if isinstance(form, SmpForm) else network.state_dict()
    model.network.load_state_dict({k: v.detach().cpu().contiguous() for k, v in state.items()})
    check_same_outputs(network, model)
    return model


def task_model(task: BaseTask) -> PortableModel:
    """The task's own network (not a copy) with its I/O spec, for predicting from a checkpoint."""
    spec = _spec(task, None, {})
    return PortableModel(folder_config(spec), prebuilt_network=task.deploy_network().eval())


def save_pretrained(source: BaseTask | str | Path, out: str | Path, smp: bool = True) -> Path:
    """Write a model folder: ``config.json``, ``model.safetensors`` (weights only), ``README.md``.

    The folder is written into a temporary folder beside ``out`` and renamed at the end: a
    failed save leaves nothing behind. An existing model folder at ``out`` is replaced; another
    existing folder is refused.

    Args:
        source: A task, a checkpoint written by training (full or weights-only) or a model folder.
        out: The folder to write.
        smp: Save networks with an smp decoder in smp's form where possible (see
            :mod:`densepred.portable.smp_native`).

    Returns:
        ``out``.
    """
    if isinstance(source, BaseTask):
        model = portable_model(source, None, smp)
    elif is_model_folder(source):
        model = from_pretrained(source)
    else:
        model = portable_model(load_task(source), source, smp)
    model.save_pretrained(out)
    return Path(out)


def load_model(path: str | Path, device: str | torch.device = "cpu") -> PortableModel:
    """The model of a model folder or a checkpoint (full or weights-only), in eval mode."""
    if is_model_folder(path):
        return from_pretrained(path, device=str(device))
    return task_model(load_task(path, device))
