"""Which of generator v4's transfer cues a render uses: all by default, fewer for ablations.

Generator v3 taught the main job shortcuts that do not exist in real photos (a strong uniform
haze, checker and stripe textures, one light, a perfect camera). Each switch below replaces one
of those with its v4 counterpart; with a switch off the renderer falls back to the v3 cue, on
v4's room and object sampler. ``data.args.realism`` (e.g. ``{camera: false}``) selects them, so an
ablation trains one model per step (docs/depth.md).
"""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class Realism:
    """Switches of the v4 cues (``True`` = the v4 cue, ``False`` = the v3 one).

    Attributes:
        atmosphere: A mild haze of random density (often none) and tint, instead of a fixed
            dense grey haze that made brightness a depth read-out.
        structure: Furniture-like boxes of many sizes against the walls and free-standing,
            objects resting on them, and cameras from 0.5 m high and 0.45 m from furniture
            (depth down to the sensor's 0.3 m minimum).
        textures: Wood, tile, fabric, plaster and plain materials with plausible colours,
            instead of checker and stripe patterns.
        lighting: One to three lights of random colour with soft shadows, specular highlights
            and ambient bounce light, instead of one white point light with hard shadows.
        camera: Auto-exposure, white balance, vignetting, defocus blur, signal-dependent noise
            and JPEG artefacts, instead of an ideal camera with faint noise.
        clutter: Off by default (issue 27): pictures and wall shelves with things on them, so
            that objects are not only on the floor (:mod:`~densepred.data.synthetic.layout`).
        framing: Off by default (issue 27): half the views aimed at a piece of furniture or a
            thing on it, 0.8-4.5 m away, as photographs are.
        isp: Off by default (issue 27): the camera's processing, an S-shaped tone curve and
            unsharp masking before JPEG (needs ``camera``), as phone and RGB-D cameras apply.
    """

    atmosphere: bool = True
    structure: bool = True
    textures: bool = True
    lighting: bool = True
    camera: bool = True
    clutter: bool = False
    framing: bool = False
    isp: bool = False

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The switch names in ablation order."""
        return tuple(f.name for f in fields(cls))

    def key(self) -> str:
        """Short folder-name suffix: ``""`` for the default; else the v4 cues that are on (when
        not all are) and then each added cue that is on (``_clu``, ``_fra``, ``_isp``)."""
        on = [name for name in V4_CUES if getattr(self, name)]
        key = "" if len(on) == len(V4_CUES) else "_r" + ("-".join(n[:3] for n in on) or "none")
        return key + "".join(f"_{name[:3]}" for name in ADDED_CUES if getattr(self, name))


V4_CUES = ("atmosphere", "structure", "textures", "lighting", "camera")
"""Generator v4's cues, on by default (off: the v3 cue)."""

ADDED_CUES = ("clutter", "framing", "isp")
"""Cues added after v4 (issue 27), off by default."""

ALL_CUES = Realism()
"""The default: every v4 cue on, the added cues off."""
