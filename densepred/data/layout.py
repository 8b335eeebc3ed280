"""The data-layout contract every task shares: sample records, the ``FORMATS`` registry, image extensions.

A layout (``data.format``) is a name in :data:`FORMATS`; it holds one reader per target it can
provide (``depth``, ``mask``, ``label`` or ``pair``). A reader is called as
``reader(root, split, *task_values, **data.args)`` and returns :class:`Sample` records; the task
values are the data keys a task passes on (classification: ``classes``; GAN: ``condition``,
``target``), none for depth and segmentation. Registering a layout is one decorated function::

    @register_format("my_layout", "depth")
    def my_reader(root: Path, split: str, suffix: str = ".png") -> list[Sample]: ...

``data.args`` are the reader's parameters with a default value (here ``suffix``).
:func:`read_samples` calls the reader with checked ``data.args``; :func:`check_targets` fails on
records whose target file is missing, with one message shape for every layout.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import TypeAdapter, ValidationError

from densepred.core.errors import ConfigError, DataError, unknown_name_message
from densepred.core.registry import Registry

IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
"""Image file extensions every layout and ``predict`` accept (lower case; matching ignores case)."""

T = TypeVar("T")
Target = Literal["depth", "mask", "label", "pair"]
TARGET_NAMES: dict[str, str] = {"depth": "depth map", "mask": "mask", "pair": "target image"}
"""How messages name a missing target file of each kind."""


@dataclass(frozen=True)
class Sample:
    """One record of a split.

    Attributes:
        image: Input image file (GAN pairs: the condition; unconditional GAN data: the target).
        target: Dense target file (depth map, mask, or the target of a pair), ``None`` if none.
        label: Class index of the image (classification), ``None`` if none.
    """

    image: Path
    target: Path | None = None
    label: int | None = None


Reader = Callable[..., list[Sample]]
ClassNames = Callable[[Path, str], list[str]]


@dataclass(frozen=True)
class FormatReader:
    """A layout's reader of one target and the class metadata that goes with it.

    Attributes:
        read: ``read(root, split, *task_values, **args) -> list[Sample]``.
        classes: Default class names, index = label value; or ``classes(root, train_split)``
            for layouts whose classes are found on disk; empty: ``data.classes`` is required.
        void_value: Default label value of void mask pixels (``None``: the layout has none).
    """

    read: Reader
    classes: tuple[str, ...] | ClassNames = ()
    void_value: int | None = None

    def class_names(self, root: Path, train_split: str) -> list[str]:
        """The layout's default class names for a dataset at ``root``."""
        return list(self.classes(root, train_split) if callable(self.classes) else self.classes)


@dataclass
class Layout:
    """One ``data.format`` name and its reader for each target it provides."""

    name: str
    readers: dict[str, FormatReader] = field(default_factory=dict)

    @property
    def provides(self) -> tuple[str, ...]:
        """The targets this layout can read, sorted."""
        return tuple(sorted(self.readers))


FORMATS: Registry[Layout] = Registry("data format")


def register_format(
    name: str,
    target: Target,
    classes: tuple[str, ...] | ClassNames = (),
    void_value: int | None = None,
) -> Callable[[Reader], Reader]:
    """Decorator: register ``reader`` as layout ``name``'s reader of ``target``.

    Args:
        name: The ``data.format`` value.
        target: What the reader's records hold: ``depth``, ``mask``, ``label`` or ``pair``.
        classes: Default class names (or a function of ``(root, train_split)``), for ``mask``
            and ``label`` readers.
        void_value: Default void label of ``mask`` readers.
    """

    def deco(reader: Reader) -> Reader:
        layout = FORMATS.get(name) if name in FORMATS else FORMATS.add(name, Layout(name))
        if target in layout.readers:
            raise ValueError(f"data format '{name}' registers a {target} reader twice")
        layout.readers[target] = FormatReader(reader, classes, void_value)
        return reader

    return deco


def formats_providing(target: str) -> list[str]:
    """Names of the layouts that can read ``target``, sorted."""
    return [name for name in FORMATS if target in FORMATS.get(name).readers]


def format_reader(name: str, target: str) -> FormatReader:
    """Layout ``name``'s reader of ``target``; ``ConfigError`` naming the layouts that have one."""
    layout = FORMATS.get(name)
    if target not in layout.readers:
        raise ConfigError(
            f"data.format '{name}' provides {', '.join(layout.provides)} targets, not {target}; "
            f"formats with {target} targets: {', '.join(formats_providing(target))}."
        )
    return layout.readers[target]


def read_samples(
    format: str,
    target: str,
    root: str | Path,
    split: str,
    task_values: Sequence[Any] = (),
    args: dict[str, Any] | None = None,
) -> list[Sample]:
    """List the records of one split with layout ``format``'s reader of ``target``.

    Target files are not checked here (see :func:`check_targets`).

    Args:
        format: Name in :data:`FORMATS`.
        target: ``depth``, ``mask``, ``label`` or ``pair``.
        root: Dataset folder.
        split: Split name or subfolder.
        task_values: The task's values the reader takes after ``split`` (e.g. the class list).
        args: Reader keyword arguments (``data.args``), checked against the reader's signature.
    """
    reader = format_reader(format, target).read
    return reader(Path(root), split, *task_values, **validate_reader_args(reader, args))


def _type_name(annotation: Any) -> str:
    """``int`` for classes, ``tuple[int, int]`` for generic aliases."""
    return annotation.__name__ if isinstance(annotation, type) else str(annotation)


def validate_reader_args(
    reader: Callable[..., Any], args: Mapping[str, Any] | None, where: str = "data.args"
) -> dict[str, Any]:
    """Check reader keyword arguments against the reader's signature and convert them to its types.

    The options a reader takes from ``data.args`` are its parameters with a default value
    (``root``, ``split`` and the task values have none, so they are never offered); each value
    is validated by pydantic against its parameter's annotation (a YAML list becomes a tuple,
    ``"abc"`` for an ``int`` fails).

    Args:
        reader: The layout's reader.
        args: Its keyword arguments (``data.args``).
        where: Config key of ``args``, used in messages.

    Returns:
        The arguments converted to the types of the reader's annotations.
    """
    args = dict(args or {})
    params = inspect.signature(reader, eval_str=True).parameters
    options = [name for name, p in params.items() if p.default is not inspect.Parameter.empty]
    hint = (
        " (after changing data.format, set data.args to that layout's options, e.g. data.args={})"
    )
    for key in args:
        if key not in options:
            if not options:
                raise ConfigError(
                    f"{where}: Unknown key '{key}': this layout takes no options{hint}."
                )
            raise ConfigError(
                f"{where}: " + unknown_name_message("key", key, options)[:-1] + hint + "."
            )
    converted = {}
    for key, value in args.items():
        annotation = params[key].annotation if key in params else inspect.Parameter.empty
        if annotation is inspect.Parameter.empty:
            converted[key] = value
            continue
        try:
            converted[key] = TypeAdapter(annotation).validate_python(value)
        except ValidationError as exc:
            raise ConfigError(
                f"{where}.{key}: expected {_type_name(annotation)}, got {value!r} "
                f"({exc.errors()[0]['msg']})"
            ) from None
    return converted


def missing_targets(samples: Sequence[Sample], target: str) -> list[Sample]:
    """Records of a dense ``target`` kind whose target file is not named or does not exist."""
    if target not in TARGET_NAMES:
        return []
    return [s for s in samples if s.target is None or not s.target.is_file()]


def check_targets(samples: list[Sample], target: str) -> list[Sample]:
    """Return ``samples`` if every record's target file exists, else raise ``DataError``.

    The message gives the count, the first image and where its target was expected.
    """
    missing = missing_targets(samples, target)
    if missing:
        first, noun = missing[0], TARGET_NAMES[target]
        word = noun.split()[0]
        expected = (
            f"expected its {word} at '{first.target}'"
            if first.target
            else f"its list entry names no {word} file"
        )
        raise DataError(
            f"{len(missing)} of {len(samples)} images have no {noun}; the first is '{first.image}' "
            f"({expected}). Add the missing {word} files or remove those images."
        )
    return samples


def spread(samples: Sequence[T], count: int | None) -> list[T]:
    """``count`` records (or other items) spread evenly over ``samples`` (all for ``None``)."""
    if count is None or count >= len(samples):
        return list(samples)
    return [samples[i * len(samples) // count] for i in range(count)]


def split_dir(root: Path, split: str, layout: str) -> Path:
    """``root/split``, or ``DataError`` describing the expected layout if it does not exist."""
    folder = root / split
    if not folder.is_dir():
        raise DataError(f"data folder '{folder}' does not exist. Expected layout: {layout}")
    return folder


def image_files(folder: Path, exts: Sequence[str] = IMAGE_EXTS) -> list[Path]:
    """The files of ``folder`` with one of ``exts`` (case-insensitive), sorted."""
    wanted = {e.lower() for e in exts}
    return sorted(p for p in folder.glob("*") if p.is_file() and p.suffix.lower() in wanted)
