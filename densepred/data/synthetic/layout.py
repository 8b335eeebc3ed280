"""Where things are in lived-in rooms, and where photographers point the camera.

Two optional cues (``data.args.realism``), both against the shortcut the main job was found to
use (docs/depth.md, "What the main model reads depth from"): it reads depth off the image row,
because in generator v4 every object stands on the floor and every view looks across open floor,
where a lower pixel is a nearer one. Real photos break that rule in two physical ways:

- ``clutter``: lived-in rooms keep most small things off the floor, on wall shelves and on the
  furniture, and hang pictures on the walls. An object's height in the image then says little
  about its distance (:func:`wall_things`).
- ``framing``: people photograph things: a shelf, a desk, a cabinet or what stands on it, from
  one to a few metres, so a vertical surface often fills much of the frame and depth changes
  little from the bottom row to the top (:func:`aim_at_furniture`).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from densepred.data.synthetic.furniture import FURNITURE_CLEARANCE, TextureFn, box_gap, wall_xz
from densepred.data.synthetic.realism import Realism
from densepred.data.synthetic.scene import (
    HALF_EXTENTS,
    LABEL_CLASSES,
    Camera,
    Scene,
    Shape,
    texture_sampler,
)

PICTURES, WALL_SHELVES = (1, 7), (1, 5)
"""Ranges (low inclusive, high exclusive) of the number of pictures and of shelf units per room."""

SHELF_LEVELS, SHELF_SPACING = (1, 5), (0.3, 0.45)
"""Range of the number of shelves of a unit, and of the gap in metres between them."""

SHELF_ITEMS = (2, 7)
"""Range of the number of things on a wall shelf."""

FRAMING_PROB = 0.5
"""Chance that a view with ``framing`` is aimed at a piece of furniture or a thing on it."""

FRAMING_DISTANCE = (0.8, 4.5)
"""Horizontal distance range in metres of the furniture a framed view is aimed at."""

PITCH_LIMITS = np.radians([-50.0, 20.0])
"""Pitch range of a framed view (looking down at a desk top, up at a high shelf)."""


def _wall_box(
    rng: np.random.Generator, room: np.ndarray, half: np.ndarray, height: float
) -> tuple[np.ndarray, float] | None:
    """Centre and yaw of a box of half extents ``half`` on a random wall, its centre ``height``
    metres up (None: the wall is too narrow)."""
    wall = int(rng.integers(4))
    along = room[0] if wall % 2 == 0 else room[2]
    across = room[2] if wall % 2 == 0 else room[0]
    if 2 * half[0] > along - 0.2:
        return None
    u = rng.uniform(-along / 2 + half[0] + 0.05, along / 2 - half[0] - 0.05)
    xz = wall_xz(wall, u, -across / 2 + half[2] + 0.005)
    return np.array([xz[0], height, xz[1]]), float(wall * np.pi / 2)


def _clear_of_camera(center: np.ndarray, half: np.ndarray, yaw: float, camera: Camera) -> bool:
    return box_gap(center, half, yaw, camera.position[[0, 2]]) >= FURNITURE_CLEARANCE


def wall_things(
    rng: np.random.Generator,
    room: np.ndarray,
    camera: Camera,
    kind: str,
    texture: TextureFn,
) -> tuple[list[Shape], list[Shape]]:
    """Pictures and wall shelves with things on them.

    Args:
        rng: Source of randomness.
        room: Room size (x, y, z).
        camera: The camera (everything keeps :data:`FURNITURE_CLEARANCE` from it).
        kind: The scene's object kind (half of the things on shelves are of it).
        texture: Material sampler.

    Returns:
        The furniture-class boxes (pictures, shelves, small boxes on the shelves) and the objects
        of ``kind`` resting on the shelves.
    """
    boxes: list[Shape] = []
    objects: list[Shape] = []
    for _ in range(int(rng.integers(*PICTURES))):
        half = np.array([rng.uniform(0.15, 0.6), rng.uniform(0.12, 0.45), 0.012])
        height = min(rng.uniform(1.1, 1.9), room[1] - half[1] - 0.1)
        pose = _wall_box(rng, room, half, height)
        if pose is not None and _clear_of_camera(*pose[:1], half, pose[1], camera):
            boxes.append(Shape("box", pose[0], half, pose[1], texture(rng, "object", True)))
    for _ in range(int(rng.integers(*WALL_SHELVES))):
        half = np.array([rng.uniform(0.3, 0.8), rng.uniform(0.012, 0.025), rng.uniform(0.1, 0.18)])
        pose = _wall_box(rng, room, half, rng.uniform(0.5, 1.4))
        if pose is None or not _clear_of_camera(pose[0], half, pose[1], camera):
            continue
        center, yaw = pose
        spacing = rng.uniform(*SHELF_SPACING)
        material = texture(rng, "furniture", False)
        for level in range(int(rng.integers(*SHELF_LEVELS))):
            shelf = center + np.array([0.0, level * spacing, 0.0])
            if shelf[1] > room[1] - 0.3:
                break
            boxes.append(Shape("box", shelf, half, yaw, material))
            small, things = _shelf_items(rng, shelf, half, yaw, kind, texture)
            boxes += small
            objects += things
    return boxes, objects


def _shelf_items(
    rng: np.random.Generator,
    shelf: np.ndarray,
    half: np.ndarray,
    yaw: float,
    kind: str,
    texture: TextureFn,
) -> tuple[list[Shape], list[Shape]]:
    """Small boxes (books, boxes) and objects of ``kind`` standing on a shelf board."""
    boxes, objects = [], []
    c, s = np.cos(yaw), np.sin(yaw)
    for _ in range(int(rng.integers(*SHELF_ITEMS))):
        small = rng.uniform() < 0.6
        item = (
            np.array([rng.uniform(0.02, 0.12), rng.uniform(0.04, 0.13), rng.uniform(0.03, 0.09)])
            if small
            else HALF_EXTENTS[kind](rng, rng.uniform(0.04, 0.08))
        )
        radius = float(np.hypot(item[0], item[2]))
        if radius >= min(half[0], half[2]):
            continue
        u = rng.uniform(-half[0] + radius, half[0] - radius)
        v = rng.uniform(-half[2] + radius, half[2] - radius)
        xz = shelf[[0, 2]] + np.array([c * u + s * v, -s * u + c * v])
        top = np.array([xz[0], shelf[1] + half[1] + item[1], xz[1]])
        shape = Shape(
            "box" if small else kind,
            top,
            item,
            float(rng.uniform(0, np.pi)),
            texture(rng, "object", False),
        )
        (boxes if small else objects).append(shape)
    return boxes, objects


def _look_at(camera: Camera, target: np.ndarray, yaw_jitter: float, pitch_jitter: float) -> Camera:
    """``camera`` turned towards ``target``, off by the given angles (radians)."""
    rel = target - camera.position
    yaw = float(np.arctan2(rel[0], rel[2])) + yaw_jitter
    pitch = float(np.arctan2(rel[1], np.hypot(rel[0], rel[2]))) + pitch_jitter
    return replace(camera, yaw=yaw, pitch=float(np.clip(pitch, *PITCH_LIMITS)))


def aim_at_furniture(
    rng: np.random.Generator,
    camera: Camera,
    furniture: list[Shape],
    objects: list[Shape],
    size: tuple[int, int],
) -> Camera:
    """With :data:`FRAMING_PROB`, the camera turned towards a piece of furniture (or a thing on
    it) :data:`FRAMING_DISTANCE` away, so that one of ``objects`` stays in view (the scene's
    label stays visible); else, or when no such aim is found in 8 tries, ``camera`` unchanged.
    """
    if rng.uniform() >= FRAMING_PROB:
        return camera
    cam_xz = camera.position[[0, 2]]
    near, far = FRAMING_DISTANCE
    targets = [s for s in furniture if near <= np.linalg.norm(s.center[[0, 2]] - cam_xz) <= far]
    vfov = camera.hfov * size[0] / size[1]
    for _ in range(8 if targets else 0):
        target = targets[int(rng.integers(len(targets)))]
        point = target.center + np.array([0.0, target.half[1] * rng.uniform(-0.5, 1.0), 0.0])
        aimed = _look_at(
            camera,
            point,
            rng.uniform(-0.25, 0.25) * camera.hfov,
            rng.uniform(-0.2, 0.2) * vfov,
        )
        if any(aimed.sees(s.center, size) for s in objects):
            return aimed
    return camera


def arrange(
    rng: np.random.Generator, scene: Scene, size: tuple[int, int], realism: Realism
) -> Scene:
    """``scene`` with the ``clutter`` and ``framing`` cues that ``realism`` turns on (both need
    ``structure``'s furniture); draws nothing from ``rng`` when both are off."""
    if not realism.structure or not (realism.clutter or realism.framing):
        return scene
    furniture, shapes, camera = list(scene.furniture), list(scene.shapes), scene.camera
    if realism.clutter:
        kind = LABEL_CLASSES[scene.label]
        boxes, objects = wall_things(rng, scene.room, camera, kind, texture_sampler(realism))
        furniture, shapes = furniture + boxes, shapes + objects
    if realism.framing:
        camera = aim_at_furniture(rng, camera, furniture, shapes, size)
    return replace(scene, furniture=tuple(furniture), shapes=tuple(shapes), camera=camera)
