"""The demo app builds without launching, and serves its tabs on loopback."""

from __future__ import annotations

import json
import urllib.request

import numpy as np
import pytest

gr = pytest.importorskip("gradio")

from demos import build_app, edit_tab, launch, motion_tab, svg_tab  # noqa: E402  # noqa: E402


def tab_labels(config: dict) -> list[str]:
    return [c["props"]["label"] for c in config["components"] if c["type"] == "tabitem"]


def test_each_tab_builds_alone():
    for module in (svg_tab, motion_tab, edit_tab):
        assert isinstance(module.build_demo(), gr.Blocks)


def test_edit_tab_examples_and_overlay():
    for name in (edit_tab.EXAMPLE_SCENE, *edit_tab.PHOTOS):
        image = edit_tab.example_image(name)
        assert image.ndim == 3 and image.shape[2] == 3 and image.dtype == np.uint8
    image = edit_tab.example_image(edit_tab.EXAMPLE_SCENE)
    mask = np.zeros(image.shape[:2], dtype=bool)
    mask[100:140, 60:120] = True
    shown = edit_tab.overlay(image, mask)
    assert (shown[~mask] <= image[~mask]).all() and (shown[120, 90] == image[120, 90]).all()
    assert edit_tab.overlay(image, None) is image


def test_app_has_one_tab_per_generator():
    assert tab_labels(build_app().get_config_file()) == ["SVG", "Motion", "Edit"]


def test_launch_serves_on_loopback(free_port):
    app = launch("127.0.0.1", free_port, block=False)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{free_port}/config", timeout=30) as response:
            config = json.load(response)
        assert tab_labels(config) == ["SVG", "Motion", "Edit"]
    finally:
        app.close()


def test_each_tab_is_rendered_once():
    config = build_app().get_config_file()
    headings = [c["props"].get("value", "") for c in config["components"] if c["type"] == "markdown"]
    for title in ("SVG from text", "Two-person motion", "Mask-free editing"):
        assert sum(title in h for h in headings) == 1, headings


def test_a_drawn_stroke_becomes_an_ordered_path():
    canvas = np.zeros((400, 400, 4), dtype=np.uint8)
    # an L drawn from the lower left: up 2 m, then right 2 m (50 px per metre)
    canvas[100:350, 48:53, 3] = 255
    canvas[98:103, 48:250, 3] = 255
    path = np.array(motion_tab.path_from_sketch(canvas))
    np.testing.assert_allclose(path[0], [0.0, 0.0])
    assert path[-1] == pytest.approx([4.0, 5.0], abs=0.15)  # (250 - 50) px right, (350 - 100) px up
    assert np.all(np.diff(path[:, 0]) >= -0.05)  # walked in order: x never goes back
    assert motion_tab.path_from_sketch(np.zeros((400, 400, 4), dtype=np.uint8)) is None
    assert motion_tab.path_from_sketch(None) is None
