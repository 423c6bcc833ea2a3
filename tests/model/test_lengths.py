"""Lengths in a script: a unit is required; `px` is a device pixel at the panel's
dpi (unlike a theme's `px`, a CSS pixel), the others are fixed sizes in points."""

from __future__ import annotations

import pytest

from comicc.model.ir import Length
from comicc.model.values import parse_length
from comicc.units import POINTS_PER_UNIT, split_length, split_size, to_points


def test_the_one_table_of_units():
    assert POINTS_PER_UNIT == pytest.approx(
        {"pt": 1.0, "in": 72.0, "mm": 72 / 25.4, "cm": 720 / 25.4, "css_px": 0.75}
    )
    assert to_points(800, "css_px") == 600


def test_written_lengths_and_sizes():
    assert split_length(" 3.5mm ") == (3.5, "mm")
    assert split_length("12") == (12.0, "")
    assert split_length(".5IN") == (0.5, "in")
    assert split_length("3 mm x") is None and split_length("-3mm") is None
    assert split_size("6.625x10.25in") == ((6.625, "in"), (10.25, "in"))
    assert split_size("128mm × 182mm") == ((128.0, "mm"), (182.0, "mm"))
    assert split_size("210x297") is None


@pytest.mark.parametrize(
    "text, length",
    [("24px", Length(24, "px")), ("2 mm", Length(2, "mm")), ("0.5in", Length(0.5, "in"))],
)
def test_script_lengths(text, length):
    assert parse_length(text) == length


@pytest.mark.parametrize("text", ["24", "24ft", "px", "", "2mm 3mm"])
def test_script_lengths_need_a_known_unit(text):
    assert parse_length(text) is None


def test_device_pixels_need_the_dpi():
    assert Length(24, "px").to_pt(dpi=144) == 12
    assert Length(24, "px").to_px(dpi=144) == 24
    assert Length(1, "in").to_px(dpi=300) == pytest.approx(300)
    assert Length(2.54, "cm").to_pt() == pytest.approx(72)
