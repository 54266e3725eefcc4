"""Click through the demo in headless Chromium and keep screenshots.

Pages are awaited to "load", not "networkidle": the Edit tab keeps per-session state, so Gradio
holds a heartbeat stream open to the (loopback) server for as long as the page is open.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

TABS = {"SVG": "SVG from text", "Motion": "Two-person motion", "Edit": "Mask-free editing"}


def open_tab(browser, server: str, label: str, height: int = 1600):
    """A new page on the demo with tab ``label`` shown; returns it and the list its page errors go to."""
    page = browser.new_page(viewport={"width": 1280, "height": height})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(server, wait_until="load", timeout=60_000)
    page.get_by_role("tab", name=label).click()
    page.get_by_role("heading", name=TABS[label]).wait_for(state="visible", timeout=15_000)
    return page, errors


def test_demo_tabs_in_a_real_browser(browser, demo_server, test_output_dir):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto(demo_server, wait_until="load", timeout=60_000)
    page.get_by_role("tab", name="SVG").wait_for(timeout=30_000)
    for label, heading in TABS.items():
        page.get_by_role("tab", name=label).click()
        page.get_by_role("heading", name=heading).wait_for(state="visible", timeout=15_000)
        path = test_output_dir / "browser" / f"demo-{label.lower()}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 5_000
    assert not errors, errors
    off_machine = [url for url in requests if not url.startswith(("http://127.0.0.1", "data:", "blob:"))]
    assert not off_machine, f"the page reached beyond loopback: {off_machine[:5]}"
    page.close()


def test_svg_tab_checks_and_repairs_in_a_real_browser(browser, demo_server, test_output_dir):
    page = browser.new_page(viewport={"width": 1280, "height": 1400})
    page.goto(demo_server, wait_until="load", timeout=60_000)
    page.get_by_role("tab", name="SVG").click()
    page.get_by_role("button", name="Check and repair").click()
    repaired = page.get_by_label("Repaired SVG")
    page.wait_for_function(
        "() => [...document.querySelectorAll('textarea')].some(t => t.value.startsWith('<svg xmlns'))", timeout=30_000
    )
    assert "<circle" in repaired.input_value() and 'fill="#e11d48"' in repaired.input_value()
    page.get_by_text('"valid_after_repair": true').first.wait_for(timeout=15_000)
    path = test_output_dir / "browser" / "svg-check-and-repair.png"
    page.screenshot(path=str(path), full_page=True)
    page.close()


def test_motion_tab_generates_from_a_typed_and_a_drawn_path(browser, demo_server, test_output_dir):
    page, errors = open_tab(browser, demo_server, "Motion")
    page.get_by_label("Leader path: [x, z] waypoints in metres (JSON)").fill("[[0, 0], [1, 0.5], [2, 2]]")
    page.get_by_role("button", name="Generate motion").click()
    page.get_by_text('"typed"').first.wait_for(timeout=120_000)
    page.get_by_text("leader_path").first.wait_for(timeout=15_000)
    page.locator("img[src*='preview']").first.wait_for(timeout=30_000)
    path = test_output_dir / "browser" / "motion-typed-path.png"
    page.screenshot(path=str(path), full_page=True)

    page.get_by_role("button", name="Brush").click()  # the sketchpad draws once its brush is picked
    canvas = page.locator("canvas").first
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box is not None, "no drawing canvas on the Motion tab"
    centre_x, centre_y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(centre_x - 100, centre_y + 100)  # a diagonal stroke, lower left to upper right
    page.mouse.down()
    for step in range(1, 21):
        page.mouse.move(centre_x - 100 + 10 * step, centre_y + 100 - 10 * step, steps=2)
    page.mouse.up()
    page.get_by_role("button", name="Generate motion").click()
    page.get_by_text('"drawn"').first.wait_for(timeout=120_000)
    page.screenshot(path=str(test_output_dir / "browser" / "motion-drawn-path.png"), full_page=True)
    assert not errors, errors
    page.close()


def test_edit_tab_plans_edits_and_undoes_in_a_real_browser(browser, demo_server, test_output_dir):
    page, errors = open_tab(browser, demo_server, "Edit")
    page.get_by_label("Instruction").fill("make all red circles blue")
    page.get_by_role("button", name="Edit", exact=True).click()
    page.get_by_text('"recolor"').first.wait_for(timeout=120_000)
    page.get_by_text("1 edit(s) in this session").wait_for(timeout=15_000)
    page.get_by_text("becomes blue, keeping its shading").first.wait_for(timeout=15_000)  # found both circles
    page.get_by_text('"outside_band_exact"').first.wait_for(timeout=15_000)
    page.screenshot(path=str(test_output_dir / "browser" / "edit-recolor.png"), full_page=True)
    page.get_by_label("Instruction").fill("remove the dog")
    page.get_by_role("button", name="Edit", exact=True).click()
    page.get_by_text("the image is unchanged").first.wait_for(timeout=60_000)
    page.get_by_text("2 edit(s) in this session").wait_for(timeout=15_000)
    page.get_by_role("button", name="Undo").click()
    page.get_by_text("1 edit(s) in this session").wait_for(timeout=15_000)
    page.screenshot(path=str(test_output_dir / "browser" / "edit-undo.png"), full_page=True)
    assert not errors, errors
    page.close()
