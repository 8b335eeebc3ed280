"""Vectorised ray casting (numpy, all pixels at once) against the room and its objects.

Ray directions are scaled so that their component along the optical axis is 1: the ray
parameter ``t`` of a hit is then its z-depth in metres (the depth a Kinect or ZED reports).
Intersection functions accept one origin (3,) or one origin per ray (N, 3) and return
``t = inf`` where a ray misses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np

from densepred.data.synthetic.scene import Camera, Scene, Shape

EPS = 1e-6
_XZ = np.array([1.0, 0.0, 1.0])
_dot = partial(np.einsum, "ij,ij->i")
_ROOM_SURFACE = np.array([[2, 3], [0, 1], [4, 5]])
"""Room surface index by (hit axis, direction > 0): x -> walls, y -> floor/ceiling, z -> walls."""


@dataclass(frozen=True)
class Rays:
    """Primary rays of a camera.

    Attributes:
        origin: Camera centre (3,).
        dirs: (N, 3) directions, row-major over the image, with unit z-component in camera space.
        right: Camera right vector (3,) per pixel step of ``1 / focal``.
        down: Camera down vector (3,), the direction of increasing image rows.
        focal: Focal length in pixels.
    """

    origin: np.ndarray
    dirs: np.ndarray
    right: np.ndarray
    down: np.ndarray
    focal: float


@dataclass(frozen=True)
class Hits:
    """The first surface hit by each ray.

    Attributes:
        t: (N,) ray parameter of the hit, equal to z-depth for primary rays.
        normal: (N, 3) unit surface normals facing the ray origin.
        surface: (N,) surface index: 0..5 room surfaces, 6 + k for the k-th of the scene's
            objects followed by its furniture (:func:`solids`).
    """

    t: np.ndarray
    normal: np.ndarray
    surface: np.ndarray


def camera_rays(camera: Camera, size: tuple[int, int]) -> Rays:
    """One ray through the centre of every pixel of an image of ``size`` (H, W)."""
    height, width = size
    focal = (width / 2) / np.tan(camera.hfov / 2)
    right, up, forward = camera.basis()
    cols = (np.arange(width) + 0.5 - width / 2) / focal
    rows = (np.arange(height) + 0.5 - height / 2) / focal
    dirs = forward + cols[None, :, None] * right - rows[:, None, None] * up  # H, W, 3
    return Rays(camera.position, dirs.reshape(-1, 3), right, -up, float(focal))


def _safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` with ``inf`` where ``den`` is zero."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den != 0, num / np.where(den != 0, den, 1.0), np.inf)


def intersect_room(room: np.ndarray, origin: np.ndarray, dirs: np.ndarray) -> Hits:
    """Where rays from inside the room leave it through a wall, the floor or the ceiling."""
    lo, hi = (
        np.array([-room[0] / 2, 0.0, -room[2] / 2]),
        np.array([room[0] / 2, room[1], room[2] / 2]),
    )
    t_axes = _safe_div(np.where(dirs > 0, hi, lo) - origin, dirs)  # N, 3
    axis = np.argmin(t_axes, axis=1)
    rows = np.arange(len(dirs))
    positive = dirs[rows, axis] > 0
    normal = np.zeros_like(dirs)
    normal[rows, axis] = np.where(positive, -1.0, 1.0)
    return Hits(t_axes[rows, axis], normal, _ROOM_SURFACE[axis, positive.astype(int)])


def _yaw_matrix(yaw: float) -> np.ndarray:
    """Rotation about the vertical axis mapping object coordinates to world coordinates."""
    c, s = np.cos(yaw), np.sin(yaw)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def _quadratic_near(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Smaller root of ``a t^2 + 2 b t + c = 0`` where it is real and positive, else ``inf``."""
    disc = b * b - a * c
    t = _safe_div(-b - np.sqrt(np.maximum(disc, 0.0)), a)
    return np.where((disc >= 0) & (t > EPS), t, np.inf)


def _box(shape: Shape, o: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Slab test; ``o`` and ``d`` are in object coordinates (centre at 0, axes aligned)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t1, t2 = (-shape.half - o) / d, (shape.half - o) / d
    t_in, t_out = np.fmin(t1, t2).max(axis=1), np.fmax(t1, t2).min(axis=1)
    return np.where((t_in <= t_out) & (t_in > EPS), t_in, np.inf)


def _sphere_terms(
    o: np.ndarray, d: np.ndarray, radius: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coefficients (a, b, c) of ``a t^2 + 2 b t + c = 0`` for rays against a sphere at the origin.

    ``o`` is one origin (3,) or one per ray (N, 3).
    """
    if o.ndim == 1:
        return _dot(d, d), d @ o, o @ o - radius**2
    return _dot(d, d), _dot(o, d), _dot(o, o) - radius**2


def _sphere(shape: Shape, o: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Nearest root of the ray-sphere quadratic (object coordinates)."""
    return _quadratic_near(*_sphere_terms(o, d, shape.half[0]))


def _cylinder(shape: Shape, o: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Vertical cylinder (object coordinates): the curved side and the cap facing the origin."""
    radius, half_h = shape.half[0], shape.half[1]
    o_xz, d_xz = o * _XZ, d * _XZ
    a, b, c = _sphere_terms(o_xz, d_xz, radius)  # the circle in the floor plane
    t_side = _quadratic_near(a, b, c)
    with np.errstate(invalid="ignore"):
        t_side[np.abs(o[..., 1] + t_side * d[:, 1]) > half_h] = np.inf
        t_cap = _safe_div(np.where(o[..., 1] > 0, half_h, -half_h) - o[..., 1], d[:, 1])
        on_cap = _dot(*(2 * [o_xz + t_cap[:, None] * d_xz])) <= radius**2
    return np.minimum(t_side, np.where((t_cap > EPS) & on_cap, t_cap, np.inf))


def _box_normal(shape: Shape, p: np.ndarray) -> np.ndarray:
    """Normal of the face nearest to each point (object coordinates)."""
    axis = np.argmax(np.abs(p) - shape.half, axis=1)
    normal = np.zeros_like(p)
    normal[np.arange(len(p)), axis] = np.sign(p[np.arange(len(p)), axis])
    return normal


def _sphere_normal(shape: Shape, p: np.ndarray) -> np.ndarray:
    return p / shape.half[0]


def _cylinder_normal(shape: Shape, p: np.ndarray) -> np.ndarray:
    """Radial normal on the side, vertical on the caps (whichever surface is nearer)."""
    radial = np.hypot(p[:, 0], p[:, 2])
    on_cap = np.abs(np.abs(p[:, 1]) - shape.half[1]) < np.abs(radial - shape.half[0])
    side = p * np.array([1.0, 0.0, 1.0]) / np.maximum(radial, EPS)[:, None]
    cap = np.stack([np.zeros(len(p)), np.sign(p[:, 1]), np.zeros(len(p))], axis=1)
    return np.where(on_cap[:, None], cap, side)


Intersect = Callable[[Shape, np.ndarray, np.ndarray], np.ndarray]
Normal = Callable[[Shape, np.ndarray], np.ndarray]
KINDS: dict[str, tuple[Intersect, Normal]] = {
    "box": (_box, _box_normal),
    "sphere": (_sphere, _sphere_normal),
    "cylinder": (_cylinder, _cylinder_normal),
}
"""Per object kind: ``intersect(shape, o, d) -> t`` and ``normal(shape, points) -> unit normals``,
both in object coordinates."""


def intersect_shape(shape: Shape, origin: np.ndarray, dirs: np.ndarray) -> np.ndarray:
    """(N,) ray parameter of the first hit with one object, ``inf`` on a miss.

    Only rays that pass through the object's bounding sphere are tested exactly.
    """
    o = origin - shape.center
    a, b, c = _sphere_terms(o, dirs, float(np.linalg.norm(shape.half)))
    disc = b * b - a * c
    near = np.flatnonzero((disc >= 0) & (-b + np.sqrt(np.maximum(disc, 0.0)) > 0))  # far root ahead
    rot = _yaw_matrix(shape.yaw)
    t = np.full(len(dirs), np.inf)
    t[near] = KINDS[shape.kind][0](shape, (o if o.ndim == 1 else o[near]) @ rot, dirs[near] @ rot)
    return t


def shape_normal(shape: Shape, points: np.ndarray) -> np.ndarray:
    """(N, 3) outward unit normals of ``shape`` at world ``points`` on its surface."""
    rot = _yaw_matrix(shape.yaw)
    return KINDS[shape.kind][1](shape, (points - shape.center) @ rot) @ rot.T


def solids(scene: Scene) -> tuple[Shape, ...]:
    """The scene's objects, then its furniture: the order of surface indices 6, 7, ..."""
    return (*scene.shapes, *scene.furniture)


def cast(scene: Scene, origin: np.ndarray, dirs: np.ndarray) -> Hits:
    """First hit of every ray among the room surfaces, the scene's objects and its furniture."""
    room = intersect_room(scene.room, origin, dirs)
    ts = np.stack([room.t, *(intersect_shape(shape, origin, dirs) for shape in solids(scene))])
    nearest = np.argmin(ts, axis=0)  # 0 = room, k + 1 = k-th solid
    t = ts[nearest, np.arange(len(dirs))]
    normal = room.normal.copy()
    for k, shape in enumerate(solids(scene)):
        sel = nearest == k + 1
        normal[sel] = shape_normal(shape, origin + t[sel, None] * dirs[sel])
    return Hits(t, normal, np.where(nearest == 0, room.surface, nearest + 5))


def occluded(scene: Scene, points: np.ndarray, to_light: np.ndarray) -> np.ndarray:
    """Whether an object or furniture blocks the segment from each point to ``points + to_light``."""
    blocked = np.zeros(len(points), dtype=bool)
    for shape in solids(scene):
        blocked |= intersect_shape(shape, points, to_light) < 1.0
    return blocked
