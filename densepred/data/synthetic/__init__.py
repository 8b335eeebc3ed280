"""Procedural indoor scenes rendered by numpy ray casting: the embedded default dataset.

Rooms with textured floor, walls and ceiling and one to four objects (all boxes, all spheres or
all cylinders), seen by a randomly placed and oriented pinhole camera. Each sample has an RGB
image, a metric z-depth map (0 = invalid: windows, sensor holes, beyond 10 m), a class mask and
an image-level label (the kind of its objects). Depth is carried by image cues (world-fixed
texture scale and slant, inverse-square lighting, fog), not by pixel position.
"""

from densepred.data.synthetic.dataset import (
    DEFAULT_NUM_TRAIN,
    DEFAULT_NUM_VAL,
    DEFAULT_SEED,
    DEFAULT_SIZE,
    GENERATOR_VERSION,
    dataset_key,
    ensure_synthetic,
    render_sample,
    synthetic_layout,
)
from densepred.data.synthetic.renderer import MAX_DEPTH, View, render
from densepred.data.synthetic.scene import (
    DEFAULT_OBJECT_DISTANCE,
    LABEL_CLASSES,
    MASK_CLASSES,
    Scene,
    sample_scene,
)

__all__ = [
    "DEFAULT_NUM_TRAIN",
    "DEFAULT_NUM_VAL",
    "DEFAULT_OBJECT_DISTANCE",
    "DEFAULT_SEED",
    "DEFAULT_SIZE",
    "GENERATOR_VERSION",
    "LABEL_CLASSES",
    "MASK_CLASSES",
    "MAX_DEPTH",
    "Scene",
    "View",
    "dataset_key",
    "ensure_synthetic",
    "render",
    "render_sample",
    "sample_scene",
    "synthetic_layout",
]
