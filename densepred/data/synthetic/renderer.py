"""Render a scene into an RGB image, a metric z-depth map and a class mask."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from densepred.data.synthetic import shading
from densepred.data.synthetic.raycast import Hits, Rays, camera_rays, cast, occluded
from densepred.data.synthetic.scene import MASK_CLASSES, ROOM_CLASSES, Scene

MAX_DEPTH = 10.0
"""Sensor range in metres: farther surfaces get depth 0 (invalid), like a real depth camera."""

NOISE_STD = 1.5
"""Standard deviation of the image noise in 8-bit levels."""


@dataclass(frozen=True)
class View:
    """One rendered sample.

    Attributes:
        rgb: HxWx3 uint8 image.
        depth: HxW float32 z-depth in metres, 0 = invalid (window, sensor hole, out of range).
        mask: HxW uint8 class ids (:data:`MASK_CLASSES`).
    """

    rgb: np.ndarray
    depth: np.ndarray
    mask: np.ndarray


def _surface_classes(scene: Scene) -> np.ndarray:
    """Mask class id of every surface index used by :class:`Hits`."""
    return np.array([*ROOM_CLASSES, *(MASK_CLASSES.index(s.kind) for s in scene.shapes)], np.uint8)


def _albedo(scene: Scene, rays: Rays, hits: Hits, points: np.ndarray) -> np.ndarray:
    """(N, 3) albedo of every hit, each surface textured in world coordinates."""
    du, dv = shading.footprint(hits.t, hits.normal, rays.dirs, rays.right, rays.down, rays.focal)
    textures = [*scene.room_textures, *(s.texture for s in scene.shapes)]
    order = np.argsort(hits.surface, kind="stable")
    surfaces, starts = np.unique(hits.surface[order], return_index=True)
    p, du, dv = points[order], du[order], dv[order]
    out = np.empty_like(points)
    for index, lo, hi in zip(surfaces, starts, [*starts[1:], len(order)], strict=True):
        out[order[lo:hi]] = shading.albedo(textures[index], p[lo:hi], du[lo:hi], dv[lo:hi])
    return out


def _window_pixels(scene: Scene, hits: Hits, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pixels that see the window pane, and their relative height within it."""
    if scene.window is None:
        return np.zeros(len(points), bool), np.zeros(len(points))
    win = scene.window
    horizontal = points[:, 2] if win.wall in (2, 3) else points[:, 0]
    uv = np.stack([horizontal, points[:, 1]], axis=1)
    inside = (hits.surface == win.wall) & np.all((uv >= win.lo) & (uv <= win.hi), axis=1)
    return inside, (uv[:, 1] - win.lo[1]) / (win.hi[1] - win.lo[1])


def _holes(scene: Scene, size: tuple[int, int]) -> np.ndarray:
    """HxW boolean map of the sensor dropouts."""
    holes = np.zeros(size, np.uint8)
    for row, col, radius in scene.holes:
        cv2.circle(holes, (int(col), int(row)), max(1, round(radius)), 1, thickness=-1)
    return holes.astype(bool)


def render(scene: Scene, size: tuple[int, int], rng: np.random.Generator) -> View:
    """Ray cast ``scene`` at ``size`` (H, W).

    Args:
        scene: The scene to draw.
        size: Image size (H, W) in pixels.
        rng: Source of the image noise.
    """
    rays = camera_rays(scene.camera, size)
    hits = cast(scene, rays.origin, rays.dirs)
    points = rays.origin + hits.t[:, None] * rays.dirs
    lifted = points + 1e-3 * hits.normal
    shadow = occluded(scene, lifted, scene.light - lifted)
    light = shading.irradiance(points, hits.normal, scene.light, scene.light_power, shadow)
    radiance = _albedo(scene, rays, hits, points) * (scene.ambient + light)[:, None]
    window, window_height = _window_pixels(scene, hits, points)
    radiance[window] = shading.sky(window_height[window])
    distance = hits.t * np.linalg.norm(rays.dirs, axis=1)
    linear = shading.fog(radiance, distance).reshape(*size, 3)
    srgb = 255 * np.clip(linear, 0, 1) ** (1 / 2.2) + rng.normal(0, NOISE_STD, linear.shape)
    depth = hits.t.reshape(size).astype(np.float32)
    depth[window.reshape(size) | _holes(scene, size) | (depth > MAX_DEPTH)] = 0.0
    mask = _surface_classes(scene)[hits.surface].reshape(size)
    return View(np.clip(np.rint(srgb), 0, 255).astype(np.uint8), depth, mask)
