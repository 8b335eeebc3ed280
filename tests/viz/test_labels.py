"""Label placement without collisions, on plain boxes."""

from __future__ import annotations

import pytest

from densepred.viz.labels import overlap, place_boxes


def test_overlap_is_the_shared_area() -> None:
    assert overlap((0, 0, 2, 2), (1, 1, 3, 3)) == 1.0
    assert overlap((0, 0, 1, 1), (1, 0, 2, 1)) == 0.0  # touching is not overlapping
    assert overlap((0, 0, 4, 4), (1, 1, 2, 2)) == 1.0


def test_labels_of_one_spot_fan_out_without_overlap() -> None:
    """Eight labels anchored at one point (the worst case) all find free spots in the bounds."""
    anchors = [(200.0, 150.0)] * 8
    sizes = [(60.0, 10.0)] * 8
    bounds = (0.0, 0.0, 400.0, 300.0)
    boxes = place_boxes(anchors, sizes, obstacles=[(196, 146, 204, 154)], bounds=bounds)
    for i, a in enumerate(boxes):
        assert a[2] - a[0] == pytest.approx(60.0) and a[3] - a[1] == pytest.approx(10.0)
        assert overlap(a, (196, 146, 204, 154)) == 0.0
        assert overlap(a, bounds) == pytest.approx(600.0)  # inside the bounds
        for b in boxes[i + 1 :]:
            assert overlap(a, b) == 0.0, (a, b)


def test_a_free_label_stays_next_to_its_point() -> None:
    (box,) = place_boxes([(10.0, 10.0)], [(20.0, 5.0)], bounds=(0, 0, 100, 100), gap=3.0)
    assert box == (13.0, 13.0, 33.0, 18.0)  # upper right, the first spot tried


def test_an_edge_point_labels_inwards() -> None:
    (box,) = place_boxes([(98.0, 98.0)], [(20.0, 5.0)], bounds=(0, 0, 100, 100))
    assert box[2] <= 100 and box[3] <= 100
