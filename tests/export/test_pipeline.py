"""Export options: bad values fail with the valid choices before anything is loaded."""

from __future__ import annotations

import pytest

from densepred.core.errors import ConfigError
from densepred.export.pipeline import ExportOptions


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"format": "tflit"}, "Did you mean 'tflite'"),
        ({"units": "inch"}, "mm, cm, m"),
        ({"mai_resize": "cubic"}, "area, bilinear"),
        ({"int8": "half"}, "dynamic, full"),
        ({"parity_images": 0}, "parity_images must be at least 1"),
        ({"calibration": 0}, "calibration must be at least 1"),
    ],
)
def test_bad_options_name_the_valid_values(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ExportOptions(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"format": "onnx"}, "best.onnx"),
        ({"format": "tflite", "mai": True}, "best.mai.tflite"),
        ({"format": "tflite", "mai": True, "mai_resize": "bilinear"}, "best.mai-bilinear.tflite"),
        ({"format": "onnx", "nhwc": True, "int8": "full"}, "best.nhwc.int8-full.onnx"),
    ],
)
def test_default_file_names_say_what_is_inside(kwargs: dict, name: str) -> None:
    assert ExportOptions(**kwargs).file_name("best") == name
