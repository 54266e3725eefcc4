"""The render sandbox: correct pixels, blank detection, and hostile files that cannot hang us."""

from __future__ import annotations

import socket

import numpy as np
import pytest
from hostile import INK, svg, use_bomb

from svg import RenderError, render_svg
from svg.render import Renderer, is_blank


def test_renders_colour_and_alpha():
    rendered = render_svg(svg(INK), 100)
    assert rendered.rgba.shape == (100, 100, 4)
    np.testing.assert_array_equal(rendered.rgba[50, 50], [0x25, 0x63, 0xEB, 255])
    assert rendered.rgba[2, 2, 3] == 0 and not rendered.is_blank
    assert rendered.to_pil().getpixel((2, 2)) == (255, 255, 255)


def test_matches_plain_cairosvg():
    import io

    import cairosvg
    from PIL import Image

    document = svg('<circle cx="50" cy="50" r="30" fill="#16a34a" stroke="#000" stroke-width="4"/>')
    ours = render_svg(document, 64).rgba
    plain = np.asarray(Image.open(io.BytesIO(cairosvg.svg2png(bytestring=document.encode(), output_width=64, output_height=64))).convert("RGBA"))
    assert np.abs(ours.astype(int) - plain.astype(int)).max() <= 1  # premultiplication rounding only


def test_blank_detection():
    assert render_svg(svg(""), 32).is_blank
    assert render_svg(svg('<rect width="100" height="100" fill="#fff"/>'), 32).is_blank  # one flat colour
    white_on_transparent = svg('<circle cx="50" cy="50" r="30" fill="#fff"/>')
    assert not render_svg(white_on_transparent, 32).is_blank
    assert is_blank(np.zeros((8, 8, 4), dtype=np.uint8))


@pytest.mark.timeout(60)
def test_a_use_bomb_times_out_and_the_sandbox_recovers():
    renderer = Renderer(timeout=1.0)
    with pytest.raises(RenderError) as caught:
        renderer.render(use_bomb(levels=8), 64)
    assert caught.value.code == "timeout"
    assert not renderer.render(svg(INK), 32).is_blank
    renderer.close()


def test_renderer_never_fetches(tmp_path):
    from PIL import Image

    red = tmp_path / "red.png"
    Image.new("RGB", (4, 4), (255, 0, 0)).save(red)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(0.5)
        port = listener.getsockname()[1]
        document = svg(
            f'<image href="file://{red}" width="100" height="100"/>'
            f'<image href="http://127.0.0.1:{port}/x.png" width="100" height="100"/>'
        )
        rendered = render_svg(document, 16)
        with pytest.raises(TimeoutError):
            listener.accept()
    assert rendered.rgba[..., 0].max() == 0 or rendered.is_blank  # the red file was never drawn


def test_argument_errors():
    with pytest.raises(ValueError, match="size must be an int"):
        render_svg(svg(INK), 0)
    with pytest.raises(TypeError, match="svg must be str or bytes"):
        render_svg(123, 16)
    with pytest.raises(RenderError) as caught:
        render_svg("<not svg", 16)
    assert caught.value.code == "invalid"
