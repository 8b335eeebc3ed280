"""Render a scene into an RGB image, a metric z-depth map and a class mask."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from densepred.data.synthetic import sensor, shading
from densepred.data.synthetic.materials import Texture
from densepred.data.synthetic.raycast import Hits, Rays, camera_rays, cast, occluded, solids
from densepred.data.synthetic.scene import MASK_CLASSES, ROOM_CLASSES, Scene

MIN_DEPTH, MAX_DEPTH = 0.3, 10.0
"""Sensor range in metres: nearer or farther surfaces get depth 0 (invalid), like a depth camera."""

SHADOW_STRIDE = 2
"""Soft shadows are traced at every ``SHADOW_STRIDE``-th pixel, then upsampled and blurred."""


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
    objects = [MASK_CLASSES.index(s.kind) for s in scene.shapes]
    furniture = [MASK_CLASSES.index("furniture")] * len(scene.furniture)
    return np.array([*ROOM_CLASSES, *objects, *furniture], np.uint8)


def _textures(scene: Scene) -> list[Texture]:
    """The texture of every surface index used by :class:`Hits`."""
    return [*scene.room_textures, *(s.texture for s in solids(scene))]


def _albedo(scene: Scene, rays: Rays, hits: Hits, points: np.ndarray) -> np.ndarray:
    """(N, 3) albedo of every hit, each surface textured in world coordinates."""
    du, dv = shading.footprint(hits.t, hits.normal, rays.dirs, rays.right, rays.down, rays.focal)
    textures = _textures(scene)
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


def _visibility(scene: Scene, points: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(L, N) fraction of each light reaching each point: hard shadows, or soft ones.

    Soft shadows (``lights.softness > 0``) are traced on a coarser pixel grid, upsampled and
    blurred in the image by the penumbra width; hard ones are traced at every pixel.
    """
    softness = scene.lights.softness * size[1] / sensor.REFERENCE_WIDTH
    grid = points.reshape(*size, 3)
    if softness > 0:
        grid = grid[::SHADOW_STRIDE, ::SHADOW_STRIDE]
    coarse = grid.reshape(-1, 3)
    out = []
    for light in scene.lights.positions:
        lit = ~occluded(scene, coarse, light - coarse)
        if softness > 0:
            small = lit.reshape(grid.shape[:2]).astype(np.float32)
            full = cv2.resize(small, (size[1], size[0]), interpolation=cv2.INTER_LINEAR)
            lit = cv2.GaussianBlur(full, (0, 0), softness).reshape(-1)
        out.append(lit.astype(np.float64))
    return np.stack(out)


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
    visible = _visibility(scene, points + 1e-3 * hits.normal, size)
    textures = _textures(scene)
    specular = np.array([t.specular for t in textures])[hits.surface]
    shininess = np.array([t.shininess for t in textures])[hits.surface]
    distance = hits.t * np.linalg.norm(rays.dirs, axis=1)
    view = -rays.dirs / np.linalg.norm(rays.dirs, axis=1, keepdims=True)
    diffuse, highlight = shading.lighting(
        points, hits.normal, view, scene.lights, visible, specular, shininess
    )
    radiance = _albedo(scene, rays, hits, points) * diffuse + highlight
    window, window_height = _window_pixels(scene, hits, points)
    radiance[window] = shading.sky(window_height[window])
    linear = shading.fog(radiance, distance, scene.atmosphere).reshape(*size, 3)
    if scene.sensor is None:
        rgb = sensor.v3_expose(linear, rng)
    else:
        rgb = sensor.expose(linear, scene.sensor, rng)
    depth = hits.t.reshape(size).astype(np.float32)
    out_of_range = (depth > MAX_DEPTH) | (depth < MIN_DEPTH)
    depth[window.reshape(size) | _holes(scene, size) | out_of_range] = 0.0
    mask = _surface_classes(scene)[hits.surface].reshape(size)
    return View(rgb, depth, mask)
