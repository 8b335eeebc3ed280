"""Furniture-like boxes of many sizes and proportions, and things resting on top of them.

Real rooms are full of cabinets, tables, sofas, shelves and beds: large boxes against the walls
or standing free, which occlude each other and the floor, and carry smaller things on top. They
give the near depths (down to 0.3 m) and the depth edges that real photos have.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from densepred.data.synthetic.materials import Texture

FURNITURE_SIZES = {
    "cabinet": ((0.4, 1.2), (0.7, 2.0), (0.35, 0.6)),
    "table": ((0.7, 1.8), (0.45, 0.8), (0.5, 1.0)),
    "sofa": ((1.2, 2.2), (0.4, 0.9), (0.7, 1.0)),
    "shelf": ((0.5, 1.2), (1.0, 2.2), (0.25, 0.4)),
    "bed": ((1.0, 1.8), (0.35, 0.6), (1.8, 2.1)),
    "crate": ((0.25, 0.7), (0.2, 0.6), (0.25, 0.7)),
}
"""Full width (x), height (y) and depth (z) ranges in metres of each furniture kind."""

FURNITURE_CLEARANCE = 0.45
"""Least horizontal gap in metres between the camera and a piece of furniture."""

WALL_PROB = 0.6
"""Chance that a piece of furniture stands against a wall (aligned with it)."""

TextureFn = Callable[[np.random.Generator, str, bool], Texture]
"""``texture(rng, role, vertical)``: a material for a surface of ``role``."""


def box_gap(center: np.ndarray, half: np.ndarray, yaw: float, xz: np.ndarray) -> float:
    """Horizontal distance from point ``xz`` to a yawed box's footprint (0 inside)."""
    c, s = np.cos(yaw), np.sin(yaw)
    rel = xz - center[[0, 2]]
    local = np.array([c * rel[0] - s * rel[1], s * rel[0] + c * rel[1]])
    return float(np.linalg.norm(np.maximum(np.abs(local) - half[[0, 2]], 0)))


def _segment_distance(point: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """Distance from ``point`` to the segment ``a``-``b`` (2D)."""
    ab = b - a
    t = np.clip((point - a) @ ab / max(ab @ ab, 1e-9), 0, 1)
    return float(np.linalg.norm(point - (a + t * ab)))


def wall_xz(wall: int, u: float, v: float) -> np.ndarray:
    """Floor position (x, z) of a point ``u`` metres along wall ``wall`` (0..3) and ``v`` from the
    room's centre line towards it (``v = -across / 2`` is on the wall); a box there with yaw
    ``wall * pi / 2`` has its local x along the wall and local +z facing into the room."""
    yaw = wall * np.pi / 2
    c, s = np.cos(yaw), np.sin(yaw)
    return np.array([c * u + s * v, -s * u + c * v])


def _pose(
    rng: np.random.Generator, room: np.ndarray, half: np.ndarray
) -> tuple[np.ndarray, float] | None:
    """Floor position (x, z) and yaw: against a random wall, or free-standing (None: no fit)."""
    if rng.uniform() < WALL_PROB:
        wall = int(rng.integers(4))
        yaw = wall * np.pi / 2  # the box's local +z faces into the room
        along = room[0] if wall % 2 == 0 else room[2]
        across = room[2] if wall % 2 == 0 else room[0]
        if 2 * half[0] > along - 0.1:
            return None
        u = rng.uniform(-along / 2 + half[0] + 0.02, along / 2 - half[0] - 0.02)
        return wall_xz(wall, u, -across / 2 + half[2] + 0.02), float(yaw)
    radius = float(np.hypot(half[0], half[2]))
    limit = room[[0, 2]] / 2 - radius - 0.02
    if np.any(limit <= 0):
        return None
    return rng.uniform(-limit, limit), float(rng.uniform(0, np.pi))


def place_furniture(
    rng: np.random.Generator,
    room: np.ndarray,
    camera_xz: np.ndarray,
    keep_clear: list[tuple[np.ndarray, float]],
    sight_line: tuple[np.ndarray, np.ndarray, float],
    texture: TextureFn,
    count: int,
) -> list[tuple[np.ndarray, np.ndarray, float, Texture]]:
    """Up to ``count`` pieces of furniture on the floor, as (center, half, yaw, texture).

    Args:
        rng: Source of randomness.
        room: Room size (x, y, z).
        camera_xz: Camera floor position; furniture keeps :data:`FURNITURE_CLEARANCE` from it.
        keep_clear: Floor circles (xz, radius) the furniture must not overlap (the objects).
        sight_line: (camera xz, aimed object xz, object radius): furniture stays off this line, so
            the object the camera is aimed at stays in view.
        texture: Material sampler.
        count: Pieces to try to place.
    """
    kinds = tuple(FURNITURE_SIZES)
    placed: list[tuple[np.ndarray, np.ndarray, float, Texture]] = []
    circles = list(keep_clear)
    for _ in range(count):
        kind = kinds[int(rng.integers(len(kinds)))]
        half = np.array([rng.uniform(*r) for r in FURNITURE_SIZES[kind]]) / 2
        for _attempt in range(12):
            pose = _pose(rng, room, half)
            if pose is None:
                continue
            xz, yaw = pose
            center = np.array([xz[0], half[1], xz[1]])
            radius = 0.8 * float(np.hypot(half[0], half[2]))
            if box_gap(center, half, yaw, camera_xz) < FURNITURE_CLEARANCE:
                continue
            if any(np.linalg.norm(xz - c) < radius + r for c, r in circles):
                continue
            if _segment_distance(xz, sight_line[0], sight_line[1]) < radius + sight_line[2]:
                continue
            placed.append((center, half, yaw, texture(rng, "furniture", True)))
            circles.append((xz, radius))
            break
    return placed


def on_top(
    rng: np.random.Generator,
    center: np.ndarray,
    half: np.ndarray,
    yaw: float,
    item_half: np.ndarray,
) -> np.ndarray | None:
    """Centre of an item of half extents ``item_half`` resting at a random spot on a box's top."""
    room_x, room_z = half[0] - item_half[0], half[2] - item_half[2]
    if room_x <= 0 or room_z <= 0:
        return None
    local = np.array([rng.uniform(-room_x, room_x), rng.uniform(-room_z, room_z)])
    c, s = np.cos(yaw), np.sin(yaw)
    xz = center[[0, 2]] + np.array([c * local[0] + s * local[1], -s * local[0] + c * local[1]])
    return np.array([xz[0], 2 * half[1] + item_half[1], xz[1]])
