"""Procedural textures in world coordinates, lighting and haze.

Textures are fixed to the world, so their planks, tiles and weave shrink and compress with
distance and slant (texture gradients); they are filtered over each pixel's footprint (ray
differentials), so far-away detail fades to its mean instead of aliasing. Light comes from
point lights with inverse-square falloff, Lambertian diffuse and Blinn-Phong specular terms,
plus ambient light. Generator v3's dense grey haze made brightness and saturation a read-out of
distance (a shortcut absent from real rooms); v4 keeps at most a faint haze of random tint.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from densepred.data.synthetic.materials import Texture
from densepred.data.synthetic.scene import Atmosphere, Lights

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


def _hash(cells: np.ndarray) -> np.ndarray:
    """A value in [0, 1) per integer lattice cell (N, 3)."""
    keys = cells.astype(np.int64) * _HASH_PRIMES
    return _NOISE_TABLE[(keys[:, 0] ^ keys[:, 1] ^ keys[:, 2]) & (len(_NOISE_TABLE) - 1)]


def _pulses(x: np.ndarray, width: float, window: np.ndarray) -> np.ndarray:
    """Box-filtered pulse train: fraction of ``[x - window/2, x + window/2]`` within ``width``
    of an integer (lines of relative width ``width`` once per unit)."""
    window = np.maximum(window, 1e-4)

    def integral(v: np.ndarray) -> np.ndarray:
        return np.floor(v) * width + np.minimum(v - np.floor(v), width)

    return (integral(x + window / 2) - integral(x - window / 2)) / window


def _fade(frequency_footprint: np.ndarray) -> np.ndarray:
    """Contrast kept by detail whose period spans ``1 / frequency_footprint`` pixels."""
    return np.clip(1 - frequency_footprint, 0, 1) ** 2


def _widths(tex: Texture, du: np.ndarray, dv: np.ndarray) -> np.ndarray:
    """(N, 3) footprint of a pixel along each world axis, in pattern periods."""
    return (np.abs(du) + np.abs(dv)) / tex.scale


def _fbm(q: np.ndarray, blur: np.ndarray, octaves: int) -> np.ndarray:
    """Fractal value noise around 0 (about -0.5..0.5), each octave faded by its footprint."""
    out, amplitude = np.zeros(len(q)), 1.0
    for octave in range(octaves):
        f = 2.0**octave
        out += amplitude * (value_noise(f * q + 7.3 * octave) - 0.5) * _fade(f * blur)
        amplitude *= 0.55
    return out


def _wood(tex: Texture, p: np.ndarray, du: np.ndarray, dv: np.ndarray) -> np.ndarray:
    """Planks along ``axis``: seams, a shade per plank and a streaky grain."""
    across = np.cross(tex.axis, [0.0, 1.0, 0.0])
    norm = np.linalg.norm(across)
    across = across / norm if norm > 0.1 else np.array([1.0, 0.0, 0.0])
    u = p @ across / tex.scale + tex.offset[0]
    along = p @ tex.axis / tex.scale
    footprint = np.linalg.norm(_widths(tex, du, dv), axis=1)
    plank = np.floor(u)
    board = np.floor(along / 8 + tex.offset[1] + plank * 0.37)  # board ends, staggered
    shade = _hash(np.stack([plank, board, np.zeros_like(plank)], axis=1))
    grain_q = np.stack([along * 0.6, (u - plank) * 12 + plank * 3.1, plank], axis=1)
    grain = (value_noise(grain_q) - 0.5) * _fade(footprint * 12) + 0.5 * _fbm(
        np.stack([along * 0.3, u * 2, plank], 1), footprint * 2, 2
    )
    seam = _pulses(u, 0.04, footprint)
    return np.clip(0.25 + 0.45 * shade + 0.6 * grain + 0.8 * seam, 0, 1)


def _tile(tex: Texture, p: np.ndarray, du: np.ndarray, dv: np.ndarray) -> np.ndarray:
    """Square tiles with grout lines along the axes the surface spans, a shade per tile."""
    q = p / tex.scale + tex.offset
    widths = _widths(tex, du, dv)
    spans = (np.abs(du) + np.abs(dv)) > 1e-9
    grout = 1 - np.prod(np.where(spans, 1 - _pulses(q, 0.05, widths), 1.0), axis=1)
    shade = (_hash(np.floor(q) * spans) - 0.5) * 0.3 * _fade(widths.max(axis=1) / 2)
    return np.clip(0.1 + shade + 0.9 * grout + 0.15 * _fbm(q * 4, widths.max(axis=1) * 4, 2), 0, 1)


def _fabric(tex: Texture, p: np.ndarray, du: np.ndarray, dv: np.ndarray) -> np.ndarray:
    """A fine weave (visible only up close) over large, soft blotches."""
    q = p / tex.scale + tex.offset
    widths = _widths(tex, du, dv)
    weave = np.prod(np.cos(np.pi * q) * np.exp(-(widths**2)), axis=1)
    blotch = _fbm(q / 40, widths.max(axis=1) / 40, 3)
    return np.clip(0.5 + 0.35 * weave + 0.8 * blotch, 0, 1)


def _plaster(tex: Texture, p: np.ndarray, du: np.ndarray, dv: np.ndarray) -> np.ndarray:
    """Fractal noise of a few octaves: plaster, concrete, stone."""
    q = p / tex.scale + tex.offset * 17
    return np.clip(0.5 + 1.4 * _fbm(q, _widths(tex, du, dv).max(axis=1), 4), 0, 1)


def _plain(tex: Texture, p: np.ndarray, du: np.ndarray, dv: np.ndarray) -> np.ndarray:
    """Almost uniform paint with faint, large mottling."""
    q = p / tex.scale + tex.offset * 17
    return np.clip(0.15 + 0.35 * _fbm(q, _widths(tex, du, dv).max(axis=1), 2), 0, 1)


def _noise(tex: Texture, p: np.ndarray, du: np.ndarray, dv: np.ndarray) -> np.ndarray:
    q = p / tex.scale + tex.offset * 17
    signal = 0.65 * value_noise(q) + 0.35 * value_noise(2.1 * q)
    blur = np.maximum(np.linalg.norm(du, axis=1), np.linalg.norm(dv, axis=1)) / tex.scale
    return np.clip(0.5 + 2.2 * (signal - 0.5) * np.clip(1 - blur, 0, 1), 0, 1)


PATTERNS: dict[str, Callable[[Texture, np.ndarray, np.ndarray, np.ndarray], np.ndarray]] = {
    "checker": _checker,
    "stripes": _stripes,
    "noise": _noise,
    "wood": _wood,
    "tile": _tile,
    "fabric": _fabric,
    "plaster": _plaster,
    "plain": _plain,
}
"""Texture kind -> ``fn(texture, points, du, dv) -> blend factor in [0, 1]`` between its two colours."""


def albedo(tex: Texture, p: np.ndarray, du: np.ndarray, dv: np.ndarray) -> np.ndarray:
    """(N, 3) linear-RGB albedo of ``tex`` at world points ``p`` with pixel footprints ``du``, ``dv``."""
    mix = PATTERNS[tex.kind](tex, p, du, dv)[:, None]
    return tex.colors[0] * (1 - mix) + tex.colors[1] * mix


def lighting(
    points: np.ndarray,
    normal: np.ndarray,
    view: np.ndarray,
    lights: Lights,
    visible: np.ndarray,
    specular: np.ndarray,
    shininess: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Diffuse irradiance and specular radiance from point lights with inverse-square falloff.

    Args:
        points: (N, 3) surface points.
        normal: (N, 3) unit normals (facing the camera).
        view: (N, 3) unit vectors from the points towards the camera.
        lights: The light sources.
        visible: (L, N) fraction of each light that reaches each point (0 = in shadow).
        specular: (N,) highlight strength of each point's material.
        shininess: (N,) Blinn-Phong exponent of each point's material.

    Returns:
        (N, 3) diffuse irradiance (ambient included; multiply by albedo) and (N, 3) specular
        radiance (added on top).
    """
    diffuse = np.broadcast_to(lights.ambient, points.shape).copy()
    highlight = np.zeros_like(points)
    for position, color, vis in zip(lights.positions, lights.colors, visible, strict=True):
        to_light = position - points
        dist2 = np.maximum(np.einsum("ij,ij->i", to_light, to_light), 0.3)
        to_light = to_light / np.sqrt(dist2)[:, None]
        cos = np.clip(np.einsum("ij,ij->i", normal, to_light), 0, None)
        falloff = vis / dist2
        diffuse += (falloff * cos)[:, None] * color
        if np.any(specular > 0):
            half = to_light + view
            half /= np.maximum(np.linalg.norm(half, axis=1), 1e-9)[:, None]
            n_dot_h = np.clip(np.einsum("ij,ij->i", normal, half), 0, 1)
            lobe = specular * (shininess + 8) / 8 * n_dot_h**shininess * (cos > 0)
            highlight += (falloff * lobe)[:, None] * color
    return diffuse, highlight


def fog(radiance: np.ndarray, distance: np.ndarray, atmosphere: Atmosphere) -> np.ndarray:
    """Blend (N, 3) radiance towards the haze colour with the distance from the camera."""
    keep = np.exp(-atmosphere.density * distance)[:, None]
    return radiance * keep + atmosphere.color * (1 - keep)


def sky(height: np.ndarray) -> np.ndarray:
    """(N, 3) sky colour seen through a window at relative heights in [0, 1]."""
    h = np.clip(height, 0, 1)[:, None]
    return SKY_LOW * (1 - h) + SKY_HIGH * h
