"""The camera between the scene's light and the 8-bit image: exposure, optics, noise, JPEG.

Generator v3 wrote the scene's radiance straight to sRGB with faint noise, so the image's
brightness was the scene's (far rooms dark, near objects bright). A real camera meters the scene
(auto-exposure), tints it (white balance), darkens its corners (vignetting), blurs (defocus),
adds signal-dependent noise and compresses to JPEG: :func:`expose` does the same, with
parameters drawn per image by :func:`sample_sensor`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

V3_NOISE_STD = 1.5
"""Generator v3's image noise in 8-bit levels (its only camera effect)."""

REFERENCE_WIDTH = 256
"""Image width at which the blur radius is drawn (it scales with the image)."""


@dataclass(frozen=True)
class Sensor:
    """Camera settings of one image.

    Attributes:
        key: Mid-grey target of the auto-exposure (the scene's log-mean luminance maps to it).
        white_balance: Per-channel gains (an imperfect white balance tints the image).
        vignette: Fraction of light lost in the image corners.
        blur: Gaussian defocus sigma in pixels at :data:`REFERENCE_WIDTH`.
        read_noise: Signal-independent noise std (linear units).
        shot_noise: Signal-dependent noise: std = ``shot_noise * sqrt(value)``.
        jpeg_quality: JPEG quality 30..95, or 0 = stored losslessly.
        gamma: Display gamma (about 2.2).
        tone: Strength of the S-shaped tone curve a camera's processing applies (0 = none).
        sharpen: Unsharp-mask amount of the camera's processing (0 = none).
        sharpen_sigma: Unsharp-mask radius in pixels at :data:`REFERENCE_WIDTH`.
    """

    key: float
    white_balance: np.ndarray
    vignette: float
    blur: float
    read_noise: float
    shot_noise: float
    jpeg_quality: int
    gamma: float
    tone: float = 0.0
    sharpen: float = 0.0
    sharpen_sigma: float = 1.0


def sample_sensor(rng: np.random.Generator, isp: bool = False) -> Sensor:
    """Random camera settings in the range of phone and RGB-D cameras; with ``isp`` also the
    tone curve and sharpening of a camera's image processing (drawn after the others)."""
    sensor = Sensor(
        key=float(0.18 * 2 ** rng.uniform(-0.8, 0.8)),
        white_balance=np.exp(rng.normal(0, 0.07, 3)),
        vignette=float(rng.uniform(0, 0.35)),
        blur=float(rng.uniform(0, 1.2) if rng.uniform() < 0.7 else 0.0),
        read_noise=float(rng.uniform(0.001, 0.01)),
        shot_noise=float(rng.uniform(0.005, 0.03)),
        jpeg_quality=int(rng.integers(30, 96)) if rng.uniform() < 0.7 else 0,
        gamma=float(rng.uniform(1.9, 2.5)),
    )
    if not isp:
        return sensor
    return replace(
        sensor,
        tone=float(rng.uniform(0.0, 0.6)),
        sharpen=float(rng.uniform(0.3, 1.5) if rng.uniform() < 0.8 else 0.0),
        sharpen_sigma=float(rng.uniform(0.6, 1.4)),
    )


def process(display: np.ndarray, sensor: Sensor) -> np.ndarray:
    """A camera's processing of the HxWx3 display-referred image in [0, 1]: an S-shaped tone
    curve (more mid-tone contrast) and unsharp masking (crisper edges and texture), as phone and
    RGB-D cameras apply before JPEG."""
    out = (1 - sensor.tone) * display + sensor.tone * display * display * (3 - 2 * display)
    if sensor.sharpen > 0:
        sigma = sensor.sharpen_sigma * display.shape[1] / REFERENCE_WIDTH
        out = out + sensor.sharpen * (out - cv2.GaussianBlur(out, (0, 0), sigma))
    return np.clip(out, 0, 1)


def _vignette(size: tuple[int, int], strength: float) -> np.ndarray:
    """HxW gain falling from 1 in the centre to ``1 - strength`` in the corners (cos^4-like)."""
    rows = np.linspace(-1, 1, size[0])[:, None] * size[0] / size[1]
    cols = np.linspace(-1, 1, size[1])[None, :]
    r2 = (rows**2 + cols**2) / (1 + (size[0] / size[1]) ** 2)
    return 1 - strength * r2


def _jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    """Round-trip an HxWx3 uint8 RGB image through JPEG at ``quality``."""
    ok, data = cv2.imencode(".jpg", image[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:  # pragma: no cover - OpenCV always encodes a uint8 image
        raise RuntimeError("OpenCV failed to encode a JPEG")
    return cv2.imdecode(data, cv2.IMREAD_COLOR)[..., ::-1]


def expose(linear: np.ndarray, sensor: Sensor, rng: np.random.Generator) -> np.ndarray:
    """Turn HxWx3 linear radiance into an 8-bit image as the camera ``sensor`` would.

    Args:
        linear: HxWx3 linear RGB radiance.
        sensor: Camera settings.
        rng: Source of the noise.
    """
    luminance = linear @ np.array([0.2126, 0.7152, 0.0722])
    log_mean = np.exp(np.mean(np.log(np.maximum(luminance, 1e-4))))
    image = linear * (sensor.key / log_mean) * sensor.white_balance
    image *= _vignette(linear.shape[:2], sensor.vignette)[..., None]
    if sensor.blur > 0:
        sigma = sensor.blur * linear.shape[1] / REFERENCE_WIDTH
        image = cv2.GaussianBlur(image, (0, 0), sigma)
    noise = rng.normal(size=image.shape)
    image = image + noise * np.sqrt(
        sensor.read_noise**2 + sensor.shot_noise**2 * np.clip(image, 0, None)
    )
    image = image / (1 + image / 4)  # soft shoulder: highlights compress instead of clipping hard
    display = np.clip(image * 1.25, 0, 1) ** (1 / sensor.gamma)
    if sensor.tone > 0 or sensor.sharpen > 0:
        display = process(display, sensor)
    srgb = np.clip(np.rint(255 * display), 0, 255).astype(np.uint8)
    return _jpeg(srgb, sensor.jpeg_quality) if sensor.jpeg_quality else srgb


def v3_expose(linear: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Generator v3's ideal camera: linear radiance to sRGB gamma plus faint noise."""
    srgb = 255 * np.clip(linear, 0, 1) ** (1 / 2.2) + rng.normal(0, V3_NOISE_STD, linear.shape)
    return np.clip(np.rint(srgb), 0, 255).astype(np.uint8)
