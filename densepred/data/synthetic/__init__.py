"""Procedural indoor scenes rendered by numpy ray casting: the embedded default dataset.

Generator v4: rooms and corridors with floor, walls and ceiling in natural materials, furniture
of many sizes with things resting on it, and one to four objects (all boxes, all spheres or all
cylinders), lit by one to three lights with soft shadows and highlights, seen by a randomly
placed pinhole camera with exposure, white balance, blur, noise and JPEG artefacts. Each sample
has an RGB image, a metric z-depth map (0 = invalid: windows, sensor holes, outside 0.3-10 m), a
class mask and an image-level label (the kind of its objects). Depth is carried by the cues real
photos have (perspective, texture gradients, occlusion, shading, object size), not by pixel
position, brightness or colour (see :mod:`~densepred.data.synthetic.realism`).
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
from densepred.data.synthetic.realism import ALL_CUES, Realism
from densepred.data.synthetic.renderer import MAX_DEPTH, MIN_DEPTH, View, render
from densepred.data.synthetic.scene import (
    DEFAULT_OBJECT_DISTANCE,
    LABEL_CLASSES,
    MASK_CLASSES,
    Scene,
    sample_scene,
)

__all__ = [
    "ALL_CUES",
    "DEFAULT_NUM_TRAIN",
    "DEFAULT_NUM_VAL",
    "DEFAULT_OBJECT_DISTANCE",
    "DEFAULT_SEED",
    "DEFAULT_SIZE",
    "GENERATOR_VERSION",
    "LABEL_CLASSES",
    "MASK_CLASSES",
    "MAX_DEPTH",
    "MIN_DEPTH",
    "Realism",
    "Scene",
    "View",
    "dataset_key",
    "ensure_synthetic",
    "render",
    "render_sample",
    "sample_scene",
    "synthetic_layout",
]
