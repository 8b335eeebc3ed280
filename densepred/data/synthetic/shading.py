"""Procedural textures in world coordinates, Lambertian lighting and atmospheric fog.

The image cues for depth come from here: textures are fixed to the world, so their tiles shrink
and compress with distance and slant; they are box-filtered over each pixel's footprint (ray
differentials), so far-away patterns fade to their mean instead of aliasing; a point light falls
off with the squared distance; and a bright haze of fixed density and colour blends every surface
towards grey with its distance from the camera. The haze is the strongest cue: a dark haze
(distance fading to black) was measured to be much harder to learn, as darkness is confounded
with dark albedo and shading, while a fixed bright grey is not.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from densepred.data.synthetic.scene import Texture

FOG_DENSITY = 0.2
"""Extinction per metre of the fog (fraction of surface colour kept: ``exp(-0.2 * distance)``)."""

FOG_COLOR = np.array([0.55, 0.57, 0.6])
"""Linear RGB colour of the fog (a light blue-grey)."""

SKY_LOW, SKY_HIGH = np.array([0.9, 0.9, 0.85]), np.array([0.45, 0.65, 1.0])
"""Linear RGB of a window's sky at its bottom and top edge."""

_NOISE_TABLE = np.random.default_rng(20240601).uniform(0, 1, 4096)
"""Lattice values of the value noise (fixed, so the noise is the same in every process)."""

_HASH_PRIMES = np.array([73856093, 19349663, 83492791])


def footprint(
    t: np.ndarray,
    normal: np.ndarray,
    dirs: np.ndarray,
    right: np.ndarray,
    down: np.ndarray,
    focal: float,
) -> tuple[np.ndarray, np.ndarray]:
    """World-space offsets of the hit point for a one-pixel step right and down (ray differentials).

    Args:
        t: (N,) ray parameters of the hits.
        normal: (N, 3) surface normals.
        dirs: (N, 3) ray directions.
        right: Camera right vector.
        down: Camera down vector.
        focal: Focal length in pixels.

    Returns:
        Two (N, 3) arrays: the hit point's change per pixel column and per pixel row.
    """
    n_dot_d = np.einsum("ij,ij->i", normal, dirs)
    n_dot_d = np.where(n_dot_d < 0, np.minimum(n_dot_d, -0.02), np.maximum(n_dot_d, 0.02))
    scale = (t / focal)[:, None]
    steps = []
    for axis in (right, down):
        along = (normal @ axis) / n_dot_d
        steps.append(scale * (axis - along[:, None] * dirs))
    return steps[0], steps[1]


def _square_wave(x: np.ndarray, width: np.ndarray) -> np.ndarray:
    """Box-filtered square wave of period 2 (+1 on [0, 1), -1 on [1, 2)) over a window ``width``."""
    width = np.maximum(width, 1e-4)

    def tri(v: np.ndarray) -> np.ndarray:
        return np.abs(v / 2 - np.floor(v / 2) - 0.5)

    return 2 * (tri(x - width / 2) - tri(x + width / 2)) / width


def _checker(tex: Texture, p: np.ndarray, du: np.ndarray, dv: np.ndarray) -> np.ndarray:
    q, width = p / tex.scale + tex.offset, (np.abs(du) + np.abs(dv)) / tex.scale
    return 0.5 - 0.5 * np.prod(_square_wave(q, width), axis=1)


def _stripes(tex: Texture, p: np.ndarray, du: np.ndarray, dv: np.ndarray) -> np.ndarray:
    x = p @ tex.axis / tex.scale + tex.offset[0]
    width = (np.abs(du @ tex.axis) + np.abs(dv @ tex.axis)) / tex.scale
    return 0.5 - 0.5 * _square_wave(x, width)


def value_noise(p: np.ndarray) -> np.ndarray:
    """Smooth 3D value noise in [0, 1] with one lattice cell per unit of ``p`` (N, 3)."""
    cell = np.floor(p)
    frac = p - cell
    smooth = frac * frac * (3 - 2 * frac)
    keys = cell.astype(np.int64) * _HASH_PRIMES  # N, 3
    corners = [
        [(keys[:, a], 1 - smooth[:, a]), (keys[:, a] + _HASH_PRIMES[a], smooth[:, a])]
        for a in range(3)
    ]
    out = np.zeros(len(p))
    for kx, wx in corners[0]:
        for ky, wy in corners[1]:
            kxy, wxy = kx ^ ky, wx * wy
            for kz, wz in corners[2]:
                out += wxy * wz * _NOISE_TABLE[(kxy ^ kz) & (len(_NOISE_TABLE) - 1)]
    return out


def _noise(tex: Texture, p: np.ndarray, du: np.ndarray, dv: np.ndarray) -> np.ndarray:
    q = p / tex.scale + tex.offset * 17
    signal = 0.65 * value_noise(q) + 0.35 * value_noise(2.1 * q)
    blur = np.maximum(np.linalg.norm(du, axis=1), np.linalg.norm(dv, axis=1)) / tex.scale
    return np.clip(0.5 + 2.2 * (signal - 0.5) * np.clip(1 - blur, 0, 1), 0, 1)


PATTERNS: dict[str, Callable[[Texture, np.ndarray, np.ndarray, np.ndarray], np.ndarray]] = {
    "checker": _checker,
    "stripes": _stripes,
    "noise": _noise,
}
"""Texture kind -> ``fn(texture, points, du, dv) -> blend factor in [0, 1]`` between its two colours."""


def albedo(tex: Texture, p: np.ndarray, du: np.ndarray, dv: np.ndarray) -> np.ndarray:
    """(N, 3) linear-RGB albedo of ``tex`` at world points ``p`` with pixel footprints ``du``, ``dv``."""
    mix = PATTERNS[tex.kind](tex, p, du, dv)[:, None]
    return tex.colors[0] * (1 - mix) + tex.colors[1] * mix


def irradiance(
    points: np.ndarray,
    normal: np.ndarray,
    light: np.ndarray,
    power: float,
    shadow: np.ndarray | None = None,
) -> np.ndarray:
    """(N,) Lambertian irradiance from a point light with inverse-square falloff.

    Args:
        points: (N, 3) surface points.
        normal: (N, 3) unit normals.
        light: Light position (3,).
        power: Irradiance at 1 m facing the light.
        shadow: (N,) True where the light is blocked; ``None`` = nothing is.
    """
    to_light = light - points
    dist2 = np.einsum("ij,ij->i", to_light, to_light)
    cos = np.einsum("ij,ij->i", normal, to_light) / np.sqrt(dist2)
    lit = power * np.clip(cos, 0, None) / np.maximum(dist2, 0.3)
    return lit if shadow is None else np.where(shadow, 0.0, lit)


def fog(radiance: np.ndarray, distance: np.ndarray) -> np.ndarray:
    """Blend (N, 3) radiance towards :data:`FOG_COLOR` with the distance from the camera."""
    keep = np.exp(-FOG_DENSITY * distance)[:, None]
    return radiance * keep + FOG_COLOR * (1 - keep)


def sky(height: np.ndarray) -> np.ndarray:
    """(N, 3) sky colour seen through a window at relative heights in [0, 1]."""
    h = np.clip(height, 0, 1)[:, None]
    return SKY_LOW * (1 - h) + SKY_HIGH * h
