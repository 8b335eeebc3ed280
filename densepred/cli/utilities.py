"""``densepred convert-weights | visualize-features | prepare-synthetic | real-photos |
prepare-real-dev | dev-scores | depth-cues``."""

from __future__ import annotations

import argparse
import time

from densepred.cli.command import register


def _convert_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("src", help="weights file of another library (.pth/.pt/.bin/.safetensors)")
    parser.add_argument("encoder", help="friendly or timm name of the target model")
    parser.add_argument("out", help="output .safetensors file")


def _convert(args: argparse.Namespace) -> None:
    from densepred.encoders.convert import convert_file

    print(convert_file(args.src, args.encoder, args.out))


register(
    "convert-weights",
    "convert a weights file to a timm model's key names by tensor order (e.g. EfficientNet-Lite0)",
    _convert_arguments,
    _convert,
)


def _features_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("encoder", help="friendly or timm encoder name")
    parser.add_argument("image", help="image file")
    parser.add_argument(
        "--weights", default=None, help="weights file of the timm classifier (default: random init)"
    )
    parser.add_argument("--num", type=int, default=16, help="channels shown per stage")
    parser.add_argument(
        "--size", nargs=2, type=int, default=None, metavar=("H", "W"), help="resize the image first"
    )
    parser.add_argument("--out", default="feature_maps", help="output folder")


def _features(args: argparse.Namespace) -> None:
    from densepred.encoders import create_encoder
    from densepred.viz.features import visualize_features

    encoder = create_encoder(args.encoder, pretrained=args.weights or False)
    for path in visualize_features(encoder, args.image, args.out, num=args.num, size=args.size):
        print(path)


register(
    "visualize-features",
    "save feature-map grids of every encoder stage for one image",
    _features_arguments,
    _features,
)


def _synthetic_arguments(parser: argparse.ArgumentParser) -> None:
    from densepred.data.synthetic.dataset import (
        DEFAULT_NUM_TRAIN,
        DEFAULT_NUM_VAL,
        DEFAULT_OBJECT_DISTANCE,
        DEFAULT_SEED,
        DEFAULT_SIZE,
    )

    parser.add_argument(
        "--root", default="datasets/synthetic", help="parent folder of generated sets"
    )
    parser.add_argument("--num-train", type=int, default=DEFAULT_NUM_TRAIN, help="training images")
    parser.add_argument("--num-val", type=int, default=DEFAULT_NUM_VAL, help="validation images")
    parser.add_argument(
        "--size", type=int, nargs=2, default=DEFAULT_SIZE, metavar=("H", "W"), help="image size"
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="dataset seed")
    parser.add_argument(
        "--object-distance",
        type=float,
        nargs=2,
        default=DEFAULT_OBJECT_DISTANCE,
        metavar=("NEAR", "FAR"),
        help="metres from the camera to the object it is aimed at (nearer: larger objects)",
    )
    parser.add_argument(
        "--workers", type=int, default=None, help="rendering processes (default: CPUs, max 8)"
    )


def _synthetic(args: argparse.Namespace) -> None:
    from densepred.data.synthetic.dataset import ensure_synthetic

    start = time.perf_counter()
    folder = ensure_synthetic(
        args.root,
        args.num_train,
        args.num_val,
        tuple(args.size),
        args.seed,
        args.workers,
        tuple(args.object_distance),
    )
    print(f"synthetic set ready in {folder} ({time.perf_counter() - start:.1f} s)")


register(
    "prepare-synthetic",
    "render the embedded synthetic scenes into a folder (training does it on first use)",
    _synthetic_arguments,
    _synthetic,
)


def _real_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("checkpoint", help="depth checkpoint written by densepred train")
    parser.add_argument("--root", default="../shared/real_rgbd_dev", help="MAI-layout folder")
    parser.add_argument("--split", default="val", help="split subfolder (default: val)")
    parser.add_argument("--image", default=None, help="image name to draw (default: the first)")
    parser.add_argument("--out", default=None, help="PNG to write, e.g. docs/depth_real_photo.png")


def _real(args: argparse.Namespace) -> None:
    from densepred.app.real_photos import markdown_scores, score_real_photos

    rows = score_real_photos(args.checkpoint, args.root, args.split, args.image, args.out)
    print(markdown_scores(rows), end="")


register(
    "real-photos",
    "score a depth checkpoint on real RGB-D photos (MAI layout) beside the oracle constant, "
    "and draw one",
    _real_arguments,
    _real,
)


def _real_dev_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--root", default="datasets/real_dev", help="dev folder to write")


def _real_dev(args: argparse.Namespace) -> None:
    from densepred.data.packaged_rgbd import write_packaged_rgbd

    for path in write_packaged_rgbd(args.root):
        print(path)


register(
    "prepare-real-dev",
    "write the real RGB-D pairs that packages ship (scikit-image's Middlebury Motorcycle) as a "
    "dev folder, for evaluation only",
    _real_dev_arguments,
    _real_dev,
)


def _dev_scores_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--roots", nargs="+", default=["../shared/real_rgbd_dev"], help="MAI-layout dev folders"
    )
    parser.add_argument(
        "--group",
        nargs=2,
        action="append",
        required=True,
        metavar=("NAME", "GLOB"),
        help="a group of run folders (one per seed), e.g. --group main 'runs/main-s*'",
    )
    parser.add_argument("--reference", default=None, help="group the others are judged against")
    parser.add_argument(
        "--scenes", nargs="+", default=None, help="judge on these scenes only (default: all)"
    )
    parser.add_argument("--out", default=None, help="JSON file for every score")


def _dev_scores(args: argparse.Namespace) -> None:
    from densepred.app.devscores import report, score_groups
    from densepred.core.errors import DataError
    from densepred.core.fileio import atomic_write_json

    groups = score_groups(args.group, args.roots, args.scenes)
    if args.reference is not None and args.reference not in groups:
        raise DataError(f"--reference '{args.reference}' is not a group ({', '.join(groups)}).")
    print(report(groups, args.reference))
    if args.out:
        atomic_write_json(args.out, {"roots": args.roots, "groups": groups})


register(
    "dev-scores",
    "real dev scenes per scene and seed for groups of runs, with leave-one-scene-out verdicts "
    "against a reference group",
    _dev_scores_arguments,
    _dev_scores,
)


def _cues_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("checkpoint", help="depth checkpoint written by densepred train")
    parser.add_argument(
        "--roots", nargs="*", default=["../shared/real_rgbd_dev"], help="MAI-layout dev folders"
    )
    parser.add_argument(
        "--synthetic", type=int, default=24, help="synthetic validation images to probe (0: none)"
    )
    parser.add_argument("--out", default=None, help="JSON file for every measurement")


def _cues(args: argparse.Namespace) -> None:
    from densepred.app.cues import probe_checkpoint, report
    from densepred.core.fileio import atomic_write_json

    summary, images = probe_checkpoint(args.checkpoint, args.roots, args.synthetic)
    print(report(summary))
    if args.out:
        atomic_write_json(
            args.out, {"checkpoint": str(args.checkpoint), "summary": summary, "images": images}
        )


register(
    "depth-cues",
    "what a depth checkpoint reads depth from: predictions on edited inputs and cue correlations "
    "per real scene and on synthetic validation images",
    _cues_arguments,
    _cues,
)
