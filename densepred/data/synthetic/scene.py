"""Random indoor scenes: a box-shaped room, furniture, a few objects of one kind, a camera, lights.

World coordinates are metres with ``y`` up; the floor is ``y = 0`` and the room spans
``x in [-w/2, w/2]``, ``z in [-d/2, d/2]``. Every random draw comes from the generator that is
passed in, so a scene is a pure function of its seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from densepred.core.errors import ConfigError
from densepred.data.synthetic.furniture import TextureFn, on_top, place_furniture
from densepred.data.synthetic.materials import Texture, sample_material, v3_texture
from densepred.data.synthetic.realism import ALL_CUES, Realism
from densepred.data.synthetic.sensor import Sensor, sample_sensor

MASK_CLASSES = ("floor", "wall", "ceiling", "box", "sphere", "cylinder", "furniture")
"""Per-pixel class ids of the synthetic masks (index = id)."""

LABEL_CLASSES = ("box", "sphere", "cylinder")
"""Image-level labels: every object of a scene is of this one kind (index = label)."""

ROOM_CLASSES = (0, 2, 1, 1, 1, 1)
"""Mask class of the room surfaces in :data:`ROOM_SURFACES` order."""

DEFAULT_OBJECT_DISTANCE = (1.5, 5.0)
"""Range in metres of the in-view object's distance from the camera."""

V3_FOG_DENSITY, V3_FOG_COLOR = 0.2, np.array([0.55, 0.57, 0.6])
"""Generator v3's haze: extinction per metre and linear-RGB colour (a light blue-grey)."""

MAX_VIEW_DRAWS = 1000
"""Camera and object draws per scene before :func:`sample_scene` gives up."""

ROOM_SURFACES = ("floor", "ceiling", "wall -x", "wall +x", "wall -z", "wall +z")


@dataclass(frozen=True)
class Shape:
    """An object standing on the floor or resting on furniture, or a piece of furniture.

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
class Lights:
    """The scene's light sources.

    Attributes:
        positions: (L, 3) point light positions.
        colors: (L, 3) linear-RGB intensity of each light (irradiance at 1 m, facing it).
        ambient: Linear-RGB ambient (bounce) light.
        softness: Penumbra width of the shadows in pixels at 256 px wide (0 = hard shadows).
    """

    positions: np.ndarray
    colors: np.ndarray
    ambient: np.ndarray
    softness: float


@dataclass(frozen=True)
class Atmosphere:
    """Haze between the camera and the surfaces.

    Attributes:
        density: Extinction per metre (fraction of surface light kept: ``exp(-density * d)``).
        color: Linear-RGB colour the haze blends towards.
    """

    density: float
    color: np.ndarray


@dataclass(frozen=True)
class Scene:
    """Everything the renderer needs for one image.

    Attributes:
        room: Room size (width x, height y, depth z) in metres.
        room_textures: One texture per surface of :data:`ROOM_SURFACES`.
        shapes: The objects, all of kind ``LABEL_CLASSES[label]``.
        label: Image-level class index.
        camera: The camera.
        lights: The light sources.
        atmosphere: The haze.
        window: Optional glass pane on a wall.
        holes: Sensor dropouts, rows of (row, col, radius) in pixels, depth 0 there.
        furniture: Furniture-like boxes (mask class ``furniture``), empty in v3-structured scenes.
        sensor: Camera settings (v4), or ``None`` for v3's ideal camera.
    """

    room: np.ndarray
    room_textures: tuple[Texture, ...]
    shapes: tuple[Shape, ...]
    label: int
    camera: Camera
    lights: Lights
    atmosphere: Atmosphere
    window: Window | None
    holes: np.ndarray
    furniture: tuple[Shape, ...] = ()
    sensor: Sensor | None = None


def _free_distance(room: np.ndarray, xz: np.ndarray, heading: float) -> float:
    """Horizontal distance from ``xz`` to the wall in direction ``heading``."""
    direction = np.array([np.sin(heading), np.cos(heading)])
    bound = np.where(direction > 0, room[[0, 2]] / 2, -room[[0, 2]] / 2)
    with np.errstate(divide="ignore"):
        return float(np.min(np.where(direction != 0, (bound - xz) / direction, np.inf)))


CAMERA_RANGES = {
    False: {"height": (0.7, 1.9), "pitch": (-30, 12), "roll": (-6, 6), "hfov": (50, 70)},
    True: {"height": (0.5, 1.8), "pitch": (-35, 10), "roll": (-5, 5), "hfov": (45, 75)},
}
"""Camera height (m), pitch, roll and horizontal field of view (degrees): v3, and v4 structure."""


def sample_camera(
    rng: np.random.Generator, room: np.ndarray, min_free: float = 2.0, structure: bool = False
) -> Camera:
    """A camera inside ``room`` with random position, heading, tilt, roll and field of view.

    The heading is redrawn until at least ``min_free`` metres of floor lie ahead, so the camera
    does not stare at a wall from up close. ``structure`` selects v4's wider ranges
    (:data:`CAMERA_RANGES`).
    """
    ranges = CAMERA_RANGES[structure]
    half_w, half_d = room[0] / 2 - 0.4, room[2] / 2 - 0.4
    height = rng.uniform(ranges["height"][0], min(ranges["height"][1], room[1] - 0.4))
    position = np.array([rng.uniform(-half_w, half_w), height, rng.uniform(-half_d, half_d)])
    headings = rng.uniform(0, 2 * np.pi, size=16)
    free = [_free_distance(room, position[[0, 2]], h) for h in headings]
    ok = np.flatnonzero(np.array(free) >= min_free)
    yaw = headings[ok[0]] if len(ok) else headings[int(np.argmax(free))]
    return Camera(
        position=position,
        yaw=float(yaw),
        pitch=float(np.radians(rng.uniform(*ranges["pitch"]))),
        roll=float(np.radians(rng.uniform(*ranges["roll"]))),
        hfov=float(np.radians(rng.uniform(*ranges["hfov"]))),
    )


HALF_EXTENTS = {
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
    texture: TextureFn,
) -> Shape | None:
    """A random ``kind`` object on the floor, clear of the walls and the camera (None: no room).

    With ``in_view`` it stands in front of the camera, ``object_distance`` metres away.
    """
    half = HALF_EXTENTS[kind](rng, rng.uniform(0.2, 0.55))
    distance = object_distance if in_view else None
    radius = footprint_radius(kind, half)
    xz = _place(rng, room, camera, radius, distance, camera_clearance(object_distance))
    if xz is None:
        return None
    center = np.array([xz[0], half[1], xz[1]])
    return Shape(kind, center, half, float(rng.uniform(0, np.pi)), texture(rng, "object", False))


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


V3_TEXTURE_SCALES = {
    "floor": (0.4, 0.9),
    "ceiling": (0.4, 0.9),
    "wall": (0.25, 0.8),
    "object": (0.12, 0.3),
    "furniture": (0.25, 0.8),
}
"""Pattern periods in metres of generator v3's textures per surface role."""


CORRIDOR_PROB = 0.15
"""Chance that a v4 room is a corridor: narrow and long."""


def _room(rng: np.random.Generator, structure: bool) -> np.ndarray:
    """Room size (x, y, z): v3 3-7.5 m square-ish rooms; v4 3-9 m rooms and some corridors."""
    if structure and rng.uniform() < CORRIDOR_PROB:
        return np.array([rng.uniform(1.8, 2.8), rng.uniform(2.4, 3.2), rng.uniform(7, 12)])
    side = 9 if structure else 7.5
    return np.array([rng.uniform(3, side), rng.uniform(2.4, 3.5), rng.uniform(3, side)])


def texture_sampler(realism: Realism) -> TextureFn:
    """``texture(rng, role, vertical)``: v4 materials or v3 patterns, as ``realism`` says."""
    if realism.textures:
        return sample_material
    return lambda rng, role, vertical: v3_texture(rng, V3_TEXTURE_SCALES[role])


def sample_lights(rng: np.random.Generator, room: np.ndarray, realism: Realism) -> Lights:
    """v4: one to three ceiling or lamp lights of random colour and softness; v3: one white light."""
    if not realism.lighting:
        position = [
            rng.uniform(-room[0], room[0]) / 3,
            room[1] - 0.15,
            rng.uniform(-room[2], room[2]) / 3,
        ]
        power, ambient = rng.uniform(3.0, 5.0), rng.uniform(0.12, 0.22)
        return Lights(np.array([position]), np.full((1, 3), power), np.full(3, ambient), 0.0)
    count = int(rng.integers(1, 4))
    positions = np.stack(
        [
            rng.uniform(-0.45, 0.45, count) * room[0],
            np.where(rng.uniform(size=count) < 0.75, room[1] - 0.1, rng.uniform(0.5, 1.8, count)),
            rng.uniform(-0.45, 0.45, count) * room[2],
        ],
        axis=1,
    )
    kelvin_tint = np.array([1.0, 0.85, 0.65]) ** rng.uniform(-0.3, 1.0, (count, 1))  # cool..warm
    colors = kelvin_tint * rng.uniform(1.5, 5.0, (count, 1)) / np.sqrt(count)
    ambient = rng.uniform(0.04, 0.25) * np.array([1.0, 0.95, 0.9]) ** rng.uniform(-1, 1)
    return Lights(positions, colors, ambient, float(rng.uniform(1.0, 4.0)))


def sample_atmosphere(rng: np.random.Generator, realism: Realism) -> Atmosphere:
    """v4: no haze in half the scenes, else a faint one of random tint; v3: dense fixed grey."""
    if not realism.atmosphere:
        return Atmosphere(V3_FOG_DENSITY, V3_FOG_COLOR)
    density = rng.uniform(0.0, 0.04) if rng.uniform() < 0.5 else 0.0
    return Atmosphere(float(density), rng.uniform(0.2, 0.8) * np.exp(rng.normal(0, 0.1, 3)))


def _furnish(
    rng: np.random.Generator,
    room: np.ndarray,
    camera: Camera,
    shapes: list[Shape],
    texture: TextureFn,
) -> tuple[list[Shape], list[Shape]]:
    """Furniture around the objects, small crates and objects of the same kind on top of it.

    Returns:
        The furniture (with the crates) and the objects resting on it.
    """
    aimed = shapes[0]
    placed = place_furniture(
        rng,
        room,
        camera.position[[0, 2]],
        [(s.center[[0, 2]], footprint_radius(s.kind, s.half)) for s in shapes],
        (camera.position[[0, 2]], aimed.center[[0, 2]], footprint_radius(aimed.kind, aimed.half)),
        texture,
        int(rng.integers(2, 9)),
    )
    furniture = [Shape("box", c, h, y, t) for c, h, y, t in placed]
    resting = []
    for center, half, yaw, _ in placed:
        if 2 * half[1] > 1.6 or rng.uniform() < 0.4:
            continue
        for small in rng.uniform(size=int(rng.integers(1, 4))) < 0.5:
            kind = "box" if small else aimed.kind
            item = (
                np.array([rng.uniform(0.05, 0.25), rng.uniform(0.03, 0.2), rng.uniform(0.05, 0.25)])
                if small
                else HALF_EXTENTS[kind](rng, rng.uniform(0.06, 0.18))
            )
            top = on_top(rng, center, half, yaw, np.full(3, np.hypot(item[0], item[2])))
            if top is None:
                continue
            top[1] = 2 * half[1] + item[1]
            shape = Shape(
                kind, top, item, float(rng.uniform(0, np.pi)), texture(rng, "object", False)
            )
            (furniture if small else resting).append(shape)
    return furniture, resting


def sample_scene(
    rng: np.random.Generator,
    label: int,
    size: tuple[int, int],
    window_prob: float = 0.3,
    holes_prob: float = 0.2,
    object_distance: tuple[float, float] = DEFAULT_OBJECT_DISTANCE,
    realism: Realism = ALL_CUES,
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
        realism: Which v4 cues to draw (the others are v3's).

    Raises:
        ConfigError: No view with an object that far fits in the room (``object_distance``
            beyond what the room allows).
    """
    big = realism.structure
    room = _room(rng, big)
    kind = LABEL_CLASSES[label]
    texture = texture_sampler(realism)
    for _ in range(MAX_VIEW_DRAWS):  # redraw until the first object is in view: label visible
        camera = sample_camera(rng, room, structure=big)
        drawn = [
            _shape(rng, kind, room, camera, i == 0, object_distance, texture)
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
    furniture: list[Shape] = []
    if big:
        furniture, resting = _furnish(rng, room, camera, shapes, texture)
        shapes += resting
    roles = ("floor", "ceiling", "wall", "wall", "wall", "wall")
    return Scene(
        room=room,
        room_textures=tuple(texture(rng, role, role == "wall") for role in roles),
        shapes=tuple(shapes),
        label=label,
        camera=camera,
        lights=sample_lights(rng, room, realism),
        atmosphere=sample_atmosphere(rng, realism),
        window=_window(rng, room) if rng.uniform() < window_prob else None,
        holes=_holes(rng, size) if rng.uniform() < holes_prob else np.zeros((0, 3)),
        furniture=tuple(furniture),
        sensor=sample_sensor(rng, realism.isp) if realism.camera else None,
    )
