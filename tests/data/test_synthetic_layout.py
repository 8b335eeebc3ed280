"""The clutter and framing cues: off by default (v4 unchanged), deterministic, and doing what they
say: things off the floor, views aimed at furniture with the label still in view."""

from __future__ import annotations

import numpy as np
import pytest

from densepred.data.synthetic import render_sample, sample_scene
from densepred.data.synthetic.dataset import dataset_key, parse_realism
from densepred.data.synthetic.layout import arrange
from densepred.data.synthetic.realism import Realism

SIZE = (48, 64)


def scenes(realism: Realism, count: int = 12):
    for i in range(count):
        rng = np.random.default_rng([0, 1, i])
        scene = sample_scene(rng, i % 3, SIZE, realism=realism)
        yield scene, arrange(rng, scene, SIZE, realism)


def test_added_cues_are_off_by_default_and_name_their_folder() -> None:
    assert parse_realism(None) == Realism() and not Realism().clutter and not Realism().framing
    assert dataset_key(600, 100, (192, 256), 0) == "v4_n600-100_192x256_s0"
    both = Realism(clutter=True, framing=True)
    assert dataset_key(600, 100, (192, 256), 0, realism=both).endswith("_s0_clu_fra")
    assert Realism(camera=False, framing=True).key() == "_ratm-str-tex-lig_fra"


def test_with_both_off_arrange_draws_nothing() -> None:
    for scene, arranged in scenes(Realism(), 3):
        assert arranged is scene


def test_clutter_puts_things_on_walls_and_shelves_off_the_floor() -> None:
    lifted = 0
    for scene, arranged in scenes(Realism(clutter=True)):
        new = arranged.furniture[len(scene.furniture) :]
        assert arranged.camera == scene.camera
        for shape in new:
            bottom = shape.center[1] - shape.half[1]
            lifted += bottom > 0.4
            assert np.all(np.abs(shape.center[[0, 2]]) <= scene.room[[0, 2]] / 2 + 1e-6)
        kinds = {s.kind for s in arranged.shapes}
        assert len(kinds) == 1  # objects on shelves are of the scene's kind: the label holds
    assert lifted > 20


def test_framing_turns_some_cameras_and_keeps_an_object_in_view() -> None:
    turned = 0
    for scene, arranged in scenes(Realism(framing=True), 24):
        np.testing.assert_array_equal(arranged.camera.position, scene.camera.position)
        if arranged.camera != scene.camera:
            turned += 1
            assert any(arranged.camera.sees(s.center, SIZE) for s in arranged.shapes)
    assert 3 <= turned <= 20


@pytest.mark.parametrize("switches", [{"clutter": True}, {"framing": True}])
def test_render_is_deterministic_with_added_cues(switches: dict) -> None:
    realism = Realism(**switches)
    first, again = (render_sample(1, "train", 4, SIZE, realism=realism)[0] for _ in range(2))
    assert np.array_equal(first.rgb, again.rgb) and np.array_equal(first.depth, again.depth)


def test_isp_sharpens_and_is_off_by_default() -> None:
    from densepred.data.synthetic.sensor import process, sample_sensor

    assert Realism(isp=True).key() == "_isp"
    rng = np.random.default_rng(0)
    plain = sample_sensor(rng)
    assert plain.tone == 0 and plain.sharpen == 0
    sensor = sample_sensor(np.random.default_rng(0), isp=True)
    assert sensor.key == plain.key  # the v4 draws come first and are unchanged
    edge = np.full((16, 256, 3), 0.3)  # the radius is in pixels at 256 wide
    edge[:, 128:] = 0.6
    from dataclasses import replace

    out = process(edge, replace(sensor, tone=0.0, sharpen=1.0, sharpen_sigma=1.0))
    assert out[:, 128].mean() > 0.6 and out[:, 127].mean() < 0.3  # overshoot on both sides of the edge
    assert np.allclose(out[:, 0], 0.3) and np.allclose(out[:, 255], 0.6)  # flat areas unchanged
