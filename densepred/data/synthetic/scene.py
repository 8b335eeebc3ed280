"""Random indoor scenes: a box-shaped room, a few objects of one kind, a camera and a light.

World coordinates are metres with ``y`` up; the floor is ``y = 0`` and the room spans
``x in [-w/2, w/2]``, ``z in [-d/2, d/2]``. Every random draw comes from the generator that is
passed in, so a scene is a pure function of its seed.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

import numpy as np

from densepred.errors import ConfigError

MASK_CLASSES = ("floor", "wall", "ceiling", "box", "sphere", "cylinder")
"""Per-pixel class ids of the synthetic masks (index = id)."""

LABEL_CLASSES = ("box", "sphere", "cylinder")
"""Image-level labels: every object of a scene is of this one kind (index = label)."""

ROOM_CLASSES = (0, 2, 1, 1, 1, 1)
"""Mask class of the room surfaces in :data:`ROOM_SURFACES` order."""

DEFAULT_OBJECT_DISTANCE = (1.5, 5.0)
"""Range in metres of the in-view object's distance from the camera."""

MAX_VIEW_DRAWS = 1000
"""Camera and object draws per scene before :func:`sample_scene` gives up."""

ROOM_SURFACES = ("floor", "ceiling", "wall -x", "wall +x", "wall -z", "wall +z")
TEXTURE_KINDS = ("checker", "stripes", "noise")


@dataclass(frozen=True)
class Texture:
    """A procedural texture evaluated at world positions.

    Attributes:
        kind: One of :data:`TEXTURE_KINDS`.
        colors: 2x3 linear-RGB albedos blended by the pattern.
        scale: Pattern period in metres (tile, stripe or noise cell size).
        axis: Unit vector across the stripes (``stripes`` only).
        offset: Shift of the pattern, in periods, so tile edges do not line up across surfaces.
    """

    kind: str
    colors: np.ndarray
    scale: float
    axis: np.ndarray
    offset: np.ndarray


@dataclass(frozen=True)
class Shape:
    """An object standing on the floor.

    Attributes:
        kind: One of :data:`LABEL_CLASSES`.
        center: Geometric centre (x, y, z) in metres.
        half: Half extents (x, y, z); spheres use (r, r, r), cylinders (r, h/2, r).
        yaw: Rotation about the vertical axis in radians (visible on boxes only).
        texture: Surface texture.
    """

    kind: str
    center: np.ndarray
    half: np.ndarray
    yaw: float
    texture: Texture


@dataclass(frozen=True)
class Camera:
    """A pinhole camera.

    Attributes:
        position: Optical centre in world coordinates.
        yaw: Heading about the vertical axis in radians.
        pitch: Elevation of the optical axis in radians (negative = looking down).
        roll: Rotation about the optical axis in radians.
        hfov: Horizontal field of view in radians.
    """

    position: np.ndarray
    yaw: float
    pitch: float
    roll: float
    hfov: float

    def basis(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Unit vectors (right, up, forward) of the camera in world coordinates."""
        cy, sy, cp, sp = np.cos(self.yaw), np.sin(self.yaw), np.cos(self.pitch), np.sin(self.pitch)
        forward = np.array([sy * cp, sp, cy * cp])
        right = np.array([cy, 0.0, -sy])
        up = np.cross(forward, right)
        cr, sr = np.cos(self.roll), np.sin(self.roll)
        return cr * right + sr * up, cr * up - sr * right, forward

    def sees(self, point: np.ndarray, size: tuple[int, int], margin: float = 0.1) -> bool:
        """Whether ``point`` projects into the image of ``size`` (H, W), ``margin`` inside its border."""
        right, up, forward = self.basis()
        rel = point - self.position
        depth = rel @ forward
        if depth <= 0:
            return False
        half_w = np.tan(self.hfov / 2)
        half_h = half_w * size[0] / size[1]
        x, y = rel @ right / depth, rel @ up / depth
        return bool(abs(x) <= (1 - margin) * half_w and abs(y) <= (1 - margin) * half_h)


@dataclass(frozen=True)
class Window:
    """A glass pane on a wall: rendered as bright sky, depth invalid (0) like a real sensor.

    Attributes:
        wall: Index into :data:`ROOM_SURFACES` (2..5).
        lo: Lower corner (horizontal, vertical) in wall coordinates, metres.
        hi: Upper corner (horizontal, vertical) in wall coordinates, metres.
    """

    wall: int
    lo: np.ndarray
    hi: np.ndarray


@dataclass(frozen=True)
class Scene:
    """Everything the renderer needs for one image.

    Attributes:
        room: Room size (width x, height y, depth z) in metres.
        room_textures: One texture per surface of :data:`ROOM_SURFACES`.
        shapes: The objects, all of kind ``LABEL_CLASSES[label]``.
        label: Image-level class index.
        camera: The camera.
        light: Point light position.
        light_power: Point light intensity (irradiance at 1 m, facing the light).
        ambient: Ambient light level.
        window: Optional glass pane on a wall.
        holes: Sensor dropouts, rows of (row, col, radius) in pixels, depth 0 there.
    """

    room: np.ndarray
    room_textures: tuple[Texture, ...]
    shapes: tuple[Shape, ...]
    label: int
    camera: Camera
    light: np.ndarray
    light_power: float
    ambient: float
    window: Window | None
    holes: np.ndarray


def _color_pair(rng: np.random.Generator) -> np.ndarray:
    """Two clearly different linear-RGB albedos (a base colour and a darker/shifted partner)."""
    hue, sat, val = rng.uniform(0, 1), rng.uniform(0.15, 0.7), rng.uniform(0.55, 0.95)
    base = colorsys.hsv_to_rgb(hue, sat, val)
    hue2 = (hue + rng.uniform(-0.15, 0.15)) % 1.0
    partner = colorsys.hsv_to_rgb(hue2, min(1.0, sat + 0.1), val * rng.uniform(0.3, 0.55))
    return np.array([base, partner]) ** 2.2


def sample_texture(rng: np.random.Generator, scale_range: tuple[float, float]) -> Texture:
    """A random texture whose period lies in ``scale_range`` metres."""
    axis = rng.normal(size=3)
    return Texture(
        kind=str(rng.choice(TEXTURE_KINDS)),
        colors=_color_pair(rng),
        scale=float(rng.uniform(*scale_range)),
        axis=axis / np.linalg.norm(axis),
        offset=rng.uniform(0, 1, size=3),
    )


def _free_distance(room: np.ndarray, xz: np.ndarray, heading: float) -> float:
    """Horizontal distance from ``xz`` to the wall in direction ``heading``."""
    direction = np.array([np.sin(heading), np.cos(heading)])
    bound = np.where(direction > 0, room[[0, 2]] / 2, -room[[0, 2]] / 2)
    with np.errstate(divide="ignore"):
        return float(np.min(np.where(direction != 0, (bound - xz) / direction, np.inf)))


def sample_camera(rng: np.random.Generator, room: np.ndarray, min_free: float = 2.0) -> Camera:
    """A camera inside ``room`` with random position, heading, tilt, roll and field of view.

    The heading is redrawn until at least ``min_free`` metres of floor lie ahead, so the camera
    does not stare at a wall from up close.
    """
    half_w, half_d = room[0] / 2 - 0.4, room[2] / 2 - 0.4
    height = rng.uniform(0.7, min(1.9, room[1] - 0.4))
    position = np.array([rng.uniform(-half_w, half_w), height, rng.uniform(-half_d, half_d)])
    headings = rng.uniform(0, 2 * np.pi, size=16)
    free = [_free_distance(room, position[[0, 2]], h) for h in headings]
    ok = np.flatnonzero(np.array(free) >= min_free)
    yaw = headings[ok[0]] if len(ok) else headings[int(np.argmax(free))]
    return Camera(
        position=position,
        yaw=float(yaw),
        pitch=float(np.radians(rng.uniform(-30, 12))),
        roll=float(np.radians(rng.uniform(-6, 6))),
        hfov=float(np.radians(rng.uniform(50, 70))),
    )


_HALF_EXTENTS = {
    "box": lambda rng, s: np.array([s, s * rng.uniform(0.5, 1.6), s * rng.uniform(0.6, 1.4)]),
    "sphere": lambda rng, s: np.full(3, s),
    "cylinder": lambda rng, s: np.array([0.8 * s, s * rng.uniform(0.9, 2.0), 0.8 * s]),
}
"""Half extents (x, y, z) of each object kind for a characteristic size ``s`` in metres."""


def footprint_radius(kind: str, half: np.ndarray) -> float:
    """Radius of the circle that holds an object's footprint on the floor."""
    return float(np.hypot(half[0], half[2]) if kind == "box" else half[0])


def _shape(
    rng: np.random.Generator,
    kind: str,
    room: np.ndarray,
    camera: Camera,
    in_view: bool,
    object_distance: tuple[float, float],
) -> Shape | None:
    """A random ``kind`` object on the floor, clear of the walls and the camera (None: no room).

    With ``in_view`` it stands in front of the camera, ``object_distance`` metres away.
    """
    half = _HALF_EXTENTS[kind](rng, rng.uniform(0.2, 0.55))
    distance = object_distance if in_view else None
    radius = footprint_radius(kind, half)
    xz = _place(rng, room, camera, radius, distance, camera_clearance(object_distance))
    if xz is None:
        return None
    center = np.array([xz[0], half[1], xz[1]])
    return Shape(kind, center, half, float(rng.uniform(0, np.pi)), sample_texture(rng, (0.12, 0.3)))


def camera_clearance(object_distance: tuple[float, float]) -> float:
    """Least gap in metres between the camera and an object's footprint circle.

    1 m, or less when ``object_distance`` starts nearer than 1.5 m, so close-ups can be placed.
    """
    return min(1.0, object_distance[0] - 0.5)


def _place(
    rng: np.random.Generator,
    room: np.ndarray,
    camera: Camera,
    radius: float,
    distance: tuple[float, float] | None,
    clearance: float,
) -> np.ndarray | None:
    """Floor position (x, z) for an object of footprint ``radius``, clear of walls and camera.

    With a ``distance`` range the object is put that far in front of the camera, so every
    image shows one. ``None`` when 50 draws found no place ``clearance`` metres from the
    camera (the object is left out rather than put on the camera, which would fill the image
    with near-zero depths).
    """
    limit = room[[0, 2]] / 2 - radius - 0.05
    cam = camera.position[[0, 2]]
    for _ in range(50):
        if distance is not None:
            heading = camera.yaw + rng.uniform(-0.35, 0.35) * camera.hfov
            dist = rng.uniform(*distance)
            xz = cam + dist * np.array([np.sin(heading), np.cos(heading)])
        else:
            xz = rng.uniform(-limit, limit)
        if np.all(np.abs(xz) <= limit) and np.linalg.norm(xz - cam) > radius + clearance:
            return xz
    return None


def _window(rng: np.random.Generator, room: np.ndarray) -> Window:
    """A glass pane on a random wall."""
    wall = int(rng.integers(2, 6))
    span = room[2] if wall in (2, 3) else room[0]
    width, height = rng.uniform(0.8, min(1.8, span - 0.4)), rng.uniform(0.7, 1.3)
    u0 = rng.uniform(-span / 2 + 0.2, span / 2 - 0.2 - width)
    v0 = rng.uniform(0.7, max(0.75, room[1] - height - 0.25))
    return Window(wall, np.array([u0, v0]), np.array([u0 + width, v0 + height]))


def _holes(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    """A few small sensor dropouts as rows of (row, col, radius) in pixels."""
    count = int(rng.integers(3, 9))
    scale = min(size) / 48
    return np.stack(
        [
            rng.uniform(0, size[0], count),
            rng.uniform(0, size[1], count),
            rng.uniform(1, 3, count) * scale,
        ],
        axis=1,
    )


def sample_scene(
    rng: np.random.Generator,
    label: int,
    size: tuple[int, int],
    window_prob: float = 0.3,
    holes_prob: float = 0.2,
    object_distance: tuple[float, float] = DEFAULT_OBJECT_DISTANCE,
) -> Scene:
    """Draw a random scene whose objects are all of kind ``LABEL_CLASSES[label]``.

    Args:
        rng: Source of randomness.
        label: Index into :data:`LABEL_CLASSES`.
        size: Image size (H, W) in pixels (scales the sensor holes).
        window_prob: Chance of a window (invalid depth) on one wall.
        holes_prob: Chance of a few small sensor dropouts (invalid depth).
        object_distance: Range in metres of the in-view object's distance from the camera
            (nearer objects fill more of the image).

    Raises:
        ConfigError: No view with an object that far fits in the room (``object_distance``
            beyond what the room allows).
    """
    room = np.array([rng.uniform(3, 7.5), rng.uniform(2.4, 3.5), rng.uniform(3, 7.5)])
    kind = LABEL_CLASSES[label]
    for _ in range(MAX_VIEW_DRAWS):  # redraw until the first object is in view: label visible
        camera = sample_camera(rng, room)
        drawn = [
            _shape(rng, kind, room, camera, i == 0, object_distance)
            for i in range(int(rng.integers(1, 5)))
        ]
        shapes = [shape for shape in drawn if shape is not None]
        if drawn[0] is not None and camera.sees(shapes[0].center, size):
            break
    else:
        raise ConfigError(
            f"synthetic data: no view in a {room[0]:.1f} x {room[2]:.1f} m room shows an object "
            f"{object_distance[0]}-{object_distance[1]} m away after {MAX_VIEW_DRAWS} draws; "
            f"use a nearer data.args.object_distance (default {list(DEFAULT_OBJECT_DISTANCE)})."
        )
    light = np.array(
        [rng.uniform(-room[0], room[0]) / 3, room[1] - 0.15, rng.uniform(-room[2], room[2]) / 3]
    )
    return Scene(
        room=room,
        room_textures=tuple(
            sample_texture(rng, (0.4, 0.9) if i < 2 else (0.25, 0.8))
            for i in range(len(ROOM_SURFACES))
        ),
        shapes=tuple(shapes),
        label=label,
        camera=camera,
        light=light,
        light_power=float(rng.uniform(3.0, 5.0)),
        ambient=float(rng.uniform(0.12, 0.22)),
        window=_window(rng, room) if rng.uniform() < window_prob else None,
        holes=_holes(rng, size) if rng.uniform() < holes_prob else np.zeros((0, 3)),
    )
