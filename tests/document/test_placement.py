"""The geometry of pictures: text widths, segments through boxes, labels placed clear."""
from __future__ import annotations

from symprop.document import placement
from symprop.document.placement import Box, Segment


def test_text_is_measured_wider_for_more_and_wider_characters():
    assert placement.text_width("0.0004386") > placement.text_width("0.15") > 0
    assert placement.text_width("가중치") > placement.text_width("abc")
    # a script is smaller than its base, and a subscript under a superscript takes no extra room
    assert placement.tex_width("w_{1}") < placement.tex_width("w1")
    assert placement.tex_width("w^{1}_{21}") == placement.tex_width("w^{21}")
    assert placement.tex_width(r"\mathrm{net}_{h1}") == placement.tex_width("net_{h1}")


def test_a_segment_meets_a_box_only_where_it_passes_through_it():
    square = Box(0, 0, 1, 1)
    assert placement.segment_meets_box((-3, 0), (3, 0), square)
    assert placement.segment_meets_box((-3, -3), (3, 3), square)
    assert not placement.segment_meets_box((-3, 2), (3, 2), square)
    assert not placement.segment_meets_box((2, -3), (2, 3), square)
    assert not placement.segment_meets_box((-3, 0), (-2, 0), square)  # ends before it


def test_labels_avoid_each_other_the_obstacles_and_other_edges():
    segments = [Segment((0, 0), (4, 0)), Segment((0, 0.2), (4, 0.2)), Segment((2, -2), (2, 2))]
    obstacles = [Box(0, 0, 0.3, 0.3), Box(4, 0, 0.3, 0.3)]
    boxes, crossing, far = placement.place_labels([(0, 0.4, 0.15), (1, 0.4, 0.15)], segments, obstacles)
    assert all(b is not None for b in boxes)
    assert not boxes[0].meets(boxes[1])
    assert not any(b.meets(o) for b in boxes for o in obstacles)
    # the vertical edge is crossed by no label; the two close parallel edges force one over the other
    assert not any(placement.segment_meets_box(segments[2].p, segments[2].q, b) for b in boxes)
    assert len(crossing) <= 1 and far == set()  # both stay on or beside their own edges


def test_a_label_with_no_free_place_is_left_out():
    segments = [Segment((0, 0), (1, 0))]
    boxes, _, _ = placement.place_labels([(0, 0.4, 0.2)], segments, [Box(0.5, 0, 2, 2)])
    assert boxes == [None]


def test_a_line_leaves_a_circle_at_its_radius_and_a_box_at_its_border():
    assert placement.border_point((0, 0), (10, 0), "circle", 1, 1) == (1, 0)
    x, y = placement.border_point((0, 0), (10, 5), "bias", 2, 0.5)
    assert (round(x, 9), round(y, 9)) == (1, 0.5)
