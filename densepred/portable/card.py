"""The ``README.md`` model card of a model folder, written from its spec alone (so ``push_to_hub``
of a loaded folder writes the same card)."""

from __future__ import annotations

import json
from typing import Any

import yaml
from huggingface_hub import ModelCard, ModelCardData
from torch import nn

from densepred.portable.spec import ModelSpec

PIPELINE_TAGS = {
    "depth": "depth-estimation",
    "segmentation": "image-segmentation",
    "classification": "image-classification",
    "gan": "image-to-image",
}
TASK_TITLES = {
    "depth": "monocular depth estimation",
    "segmentation": "semantic segmentation",
    "classification": "image classification",
    "gan": "image generation (GAN generator)",
}


def _network_line(spec: ModelSpec) -> str:
    """Encoder / decoder / head in words."""
    args = spec.network.args
    builder = spec.network.builder
    if builder == "dense":
        return f"encoder `{args['encoder']}`, decoder `{args['decoder']}`, head `{args['head']}`"
    if builder == "smp":
        return (
            f"encoder `{args['encoder']}`, decoder `{args['architecture']}` "
            f"(segmentation-models-pytorch), densepred head `{args['head']}`"
        )
    if builder == "smp_native":
        init = args["init_args"]
        return (
            f"segmentation-models-pytorch `{args['model_class']}` on encoder "
            f"`{init.get('encoder_name')}` (smp's own head)"
        )
    if builder == "classifier":
        return f"classifier `{args['encoder']}` (timm), {args['num_classes']} classes"
    return f"`{builder}` ({json.dumps(args, sort_keys=True)})"


def _input_line(spec: ModelSpec) -> str:
    inp = spec.input
    size = "each image's own size" if inp.size is None else f"{inp.size[0]}x{inp.size[1]}"
    if inp.kind == "image":
        return (
            f"RGB, resized to {size} (`cv2.INTER_AREA`), `(x / 255 - mean) / std` with mean "
            f"{list(inp.mean)}, std {list(inp.std)}; {inp.layout} float32"
        )
    if inp.kind == "latent":
        return f"noise vectors of length {inp.latent_dim} (standard normal)"
    encodings = {
        "rgb": "RGB as `x / 127.5 - 1`",
        "depth": f"depth in metres as `2 * clip(d / {inp.max_depth}, 0, 1) - 1`",
        "mask": "class ids drawn in the palette of config.json, then `x / 127.5 - 1`",
    }
    return f"{encodings[inp.kind]}, resized to {size}; {inp.layout} float32"


def _output_line(spec: ModelSpec) -> str:
    out = spec.output
    if out.kind == "depth":
        return (
            f"depth in metres ({out.min_depth:g} to {out.max_depth:g}), 1 channel; "
            f"`densepred predict` writes uint16 PNGs of `depth * {out.depth_scale:g}`"
        )
    if out.kind == "segmentation":
        how = "one logit, sigmoid (class 1)" if out.mode == "binary" else "softmax"
        return f"{out.channels} class logit(s) per pixel ({how})"
    if out.kind == "classification":
        return f"{out.channels} class logits (softmax)"
    if out.kind == "depth_image":
        return f"depth in [-1, 1] for 0 to {out.max_depth:g} m"
    return f"{out.channels}-channel image in [-1, 1] (tanh)"


def _metrics_section(training: dict[str, Any]) -> list[str]:
    metrics = training.get("metrics") or {}
    if not metrics:
        return [
            "No validation metrics are stored for these weights"
            + (f": {training['metrics_note']}" if training.get("metrics_note") else ".")
        ]
    initial = training.get("initial_metrics") or {}
    lines = [
        f"From `{training.get('metrics_file', 'metrics.json')}`, the validation of exactly these "
        f"weights after {training.get('epochs', '?')} epoch(s), step {training.get('global_step', '?')}.",
        "",
        f"Protocol: {training.get('protocol', 'not recorded')}. Metric definitions: densepred's "
        "docs/metrics.md.",
        "",
        "| metric | value | before training |" if initial else "| metric | value |",
        "|---|---|---|" if initial else "|---|---|",
    ]
    for key in sorted(metrics):
        cells = [f"{metrics[key]:.4f}" if metrics[key] is not None else "n/a"]
        if initial:
            value = initial.get(key)
            cells.append("" if value is None else f"{value:.4f}")
        lines.append(f"| {key} | " + " | ".join(cells) + " |")
    return lines


def _loading_section(spec: ModelSpec) -> list[str]:
    lines = [
        "```python",
        "import densepred",
        "",
        'model = densepred.from_pretrained("<this folder or repo id>")  # torch.nn.Module, eval mode',
    ]
    if spec.input.kind == "latent":
        lines += ["images = model.postprocess(model(model.noise(4, seed=0)))  # 4 uint8 images"]
    else:
        lines += [
            "answers = model.predict([rgb])  # numpy HxWx3 uint8 in, one answer per image",
            "x = model.preprocess([rgb]); y = model(x); model.postprocess(y, [rgb.shape[:2]])",
        ]
    lines += [
        "```",
        "",
        "Command line: `python tools/predict.py <folder> images/ --out preds/` "
        "(`--batch-size`, `--device auto`, `--format png|npy|both`).",
    ]
    if spec.network.builder == "smp_native":
        lines += [
            "",
            "This folder is also a segmentation-models-pytorch model folder (same weights, same "
            "outputs; sides must be multiples of the encoder's output stride "
            f"{spec.input.pad_multiple}, normalise inputs as above):",
            "",
            "```python",
            "import segmentation_models_pytorch as smp",
            "",
            'model = smp.from_pretrained("<this folder>")',
            "```",
        ]
    return lines


def model_card(spec: ModelSpec, network: nn.Module | None = None, **_: Any) -> ModelCard:
    """The model card of a folder.

    Args:
        spec: The folder's spec (its ``training`` entry holds the provenance).
        network: The loaded model, for the parameter count when the spec has none.
    """
    training = spec.training
    params = training.get("parameters")
    if params is None and network is not None:
        params = sum(p.numel() for p in network.parameters())
    macs = training.get("macs")
    macs_at = "x".join(str(s) for s in training.get("macs_input", []))
    out = spec.output
    rows = [
        ("task", TASK_TITLES.get(spec.task, spec.task)),
        ("network", _network_line(spec)),
        ("parameters", f"{params / 1e6:.2f} M" if params else "n/a"),
        ("MACs", f"{macs / 1e9:.3f} G per image at {macs_at}" if macs else "n/a"),
        ("input", _input_line(spec)),
        ("output", _output_line(spec)),
    ]
    if out.classes:
        rows.append(("classes", ", ".join(f"{i}: {c}" for i, c in enumerate(out.classes))))
    smp_note = training.get("smp")
    if smp_note:
        rows.append(("segmentation-models-pytorch", smp_note))
    title = training.get("name") or f"densepred {spec.task} model"
    body = [
        f"# {title}",
        "",
        f"A {TASK_TITLES.get(spec.task, spec.task)} model trained with densepred "
        f"{spec.densepred_version} (model folder format {spec.format_version}).",
        "",
        "| | |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in rows),
        "",
        "## Validation metrics",
        "",
        *_metrics_section(training),
        "",
        "## Data",
        "",
        training.get("data", "Not recorded."),
        "",
        "## Training",
        "",
        f"Weights from `{training.get('source', 'an in-memory task')}`.",
    ]
    if training.get("command"):
        body += ["", f"Command: `{training['command']}`, with this resolved config:"]
    if training.get("config"):
        body += ["", "```yaml", yaml.safe_dump(training["config"], sort_keys=False).rstrip(), "```"]
    body += ["", "## How to load", "", *_loading_section(spec), ""]
    data = ModelCardData(
        library_name="densepred",
        pipeline_tag=PIPELINE_TAGS.get(spec.task),
        tags=[
            "densepred",
            spec.task,
            *(["segmentation-models-pytorch"] if spec.network.builder == "smp_native" else []),
        ],
    )
    return ModelCard(f"---\n{data.to_yaml()}\n---\n" + "\n".join(body))
