"""Surface materials: a procedural pattern, its colours and its shine.

Generator v3 drew checker, stripe or value-noise patterns in two random colours
(:func:`v3_texture`). Generator v4 (:func:`sample_material`) draws the materials of real rooms
for each kind of surface (wood, tile and carpet floors, plaster and wallpaper walls, wood and
fabric furniture), with plausible colours, and sometimes (domain randomisation) any pattern in any
colour, so no single colour or pattern marks a surface class or a distance.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

import numpy as np

TEXTURE_KINDS = ("checker", "stripes", "noise", "wood", "tile", "fabric", "plaster", "plain")
"""Pattern names (see :data:`densepred.data.synthetic.shading.PATTERNS`); v3 uses the first three."""

V3_KINDS = TEXTURE_KINDS[:3]

SURFACE_MATERIALS = {
    "floor": ("wood", "wood", "tile", "fabric", "plaster"),
    "wall": ("plaster", "plaster", "plain", "plain", "stripes", "tile"),
    "ceiling": ("plain", "plaster"),
    "furniture": ("wood", "wood", "fabric", "plain", "plaster"),
    "object": ("wood", "fabric", "plain", "plaster", "tile", "noise", "checker", "stripes"),
}
"""Patterns a surface of each role draws from (repeats weight the draw)."""

PALETTES = {
    "wood": ((0.05, 0.11), (0.35, 0.75), (0.25, 0.75)),
    "tile": ((0.0, 1.0), (0.0, 0.25), (0.45, 0.95)),
    "fabric": ((0.0, 1.0), (0.1, 0.6), (0.2, 0.8)),
    "plaster": ((0.05, 0.6), (0.0, 0.15), (0.6, 0.95)),
    "plain": ((0.0, 1.0), (0.0, 0.35), (0.35, 0.95)),
}
"""HSV ranges of the base colour per pattern (others use the ``fabric`` range)."""

RANDOM_MATERIAL_PROB = 0.15
"""Chance that a surface gets any pattern in any colour (domain randomisation)."""


@dataclass(frozen=True)
class Texture:
    """A procedural texture evaluated at world positions.

    Attributes:
        kind: One of :data:`TEXTURE_KINDS`.
        colors: 2x3 linear-RGB albedos blended by the pattern.
        scale: Pattern period in metres (tile, stripe, plank or noise cell size).
        axis: Unit vector across the stripes, along the wood grain.
        offset: Shift of the pattern, in periods, so tile edges do not line up across surfaces.
        specular: Strength of the specular highlight (0 = matte).
        shininess: Blinn-Phong exponent of the highlight (higher = smaller, sharper).
    """

    kind: str
    colors: np.ndarray
    scale: float
    axis: np.ndarray
    offset: np.ndarray
    specular: float = 0.0
    shininess: float = 16.0


def _color_pair(rng: np.random.Generator) -> np.ndarray:
    """Two clearly different linear-RGB albedos (a base colour and a darker/shifted partner)."""
    hue, sat, val = rng.uniform(0, 1), rng.uniform(0.15, 0.7), rng.uniform(0.55, 0.95)
    base = colorsys.hsv_to_rgb(hue, sat, val)
    hue2 = (hue + rng.uniform(-0.15, 0.15)) % 1.0
    partner = colorsys.hsv_to_rgb(hue2, min(1.0, sat + 0.1), val * rng.uniform(0.3, 0.55))
    return np.array([base, partner]) ** 2.2


def _unit(rng: np.random.Generator) -> np.ndarray:
    axis = rng.normal(size=3)
    return axis / np.linalg.norm(axis)


def v3_texture(rng: np.random.Generator, scale_range: tuple[float, float]) -> Texture:
    """Generator v3's texture: checker, stripes or noise in two random colours."""
    return Texture(
        kind=str(rng.choice(V3_KINDS)),
        colors=_color_pair(rng),
        scale=float(rng.uniform(*scale_range)),
        axis=_unit(rng),
        offset=rng.uniform(0, 1, size=3),
    )


def _palette_pair(rng: np.random.Generator, kind: str) -> np.ndarray:
    """Base colour from the pattern's palette and a partner of similar hue, lighter or darker."""
    (h0, h1), (s0, s1), (v0, v1) = PALETTES.get(kind, PALETTES["fabric"])
    hue, sat, val = rng.uniform(h0, h1), rng.uniform(s0, s1), rng.uniform(v0, v1)
    base = colorsys.hsv_to_rgb(hue, sat, val)
    contrast = rng.uniform(0.45, 0.9) if kind in ("tile", "stripes") else rng.uniform(0.7, 0.95)
    partner = colorsys.hsv_to_rgb(
        (hue + rng.uniform(-0.04, 0.04)) % 1.0,
        min(1.0, sat * rng.uniform(0.8, 1.3)),
        val * contrast,
    )
    return np.array([base, partner]) ** 2.2


SCALES = {
    "wood": (0.08, 0.25),
    "tile": (0.2, 0.6),
    "fabric": (0.004, 0.015),
    "plaster": (0.15, 0.8),
    "plain": (0.3, 1.0),
    "noise": (0.1, 0.4),
    "checker": (0.1, 0.5),
    "stripes": (0.05, 0.3),
}
"""Pattern period ranges in metres (plank width, tile size, weave pitch, ...)."""


def sample_material(rng: np.random.Generator, role: str, vertical: bool = False) -> Texture:
    """A v4 material for a surface of ``role`` (a key of :data:`SURFACE_MATERIALS`).

    Args:
        rng: Source of randomness.
        role: ``floor``, ``wall``, ``ceiling``, ``furniture`` or ``object``.
        vertical: Whether the surface is upright: its wood grain and stripes then run vertically
            more often.
    """
    randomised = rng.uniform() < RANDOM_MATERIAL_PROB
    kind = str(rng.choice(TEXTURE_KINDS if randomised else SURFACE_MATERIALS[role]))
    colors = _color_pair(rng) if randomised else _palette_pair(rng, kind)
    axis = _unit(rng)
    if not randomised and kind in ("wood", "stripes"):
        axis = np.array([0.0, 1.0, 0.0]) if vertical and kind == "stripes" else axis * [1, 0.1, 1]
        axis /= np.linalg.norm(axis)
    glossy = kind in ("tile", "wood", "plain") and rng.uniform() < 0.6
    return Texture(
        kind=kind,
        colors=colors,
        scale=float(rng.uniform(*SCALES[kind])),
        axis=axis,
        offset=rng.uniform(0, 1, size=3),
        specular=float(rng.uniform(0.1, 0.6) if glossy else rng.uniform(0.0, 0.06)),
        shininess=float(np.exp(rng.uniform(np.log(8), np.log(120)))),
    )
