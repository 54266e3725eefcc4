"""The ctrlgen demo: a Gradio Blocks app with one tab per generator.

Each tab lives in its own module exposing ``build_demo(pipe=None) -> gr.Blocks`` so it can be
built (and tested) alone; this module renders them side by side and serves them.
"""

from __future__ import annotations

import os
from typing import Any

TITLE = "ctrlgen — controllable generators"


def _import_gradio():
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    try:
        import gradio as gr
    except ImportError as err:
        raise ImportError("the demo needs Gradio: pip install 'ctrlgen[demo]'") from err
    return gr


def build_app(svg_pipe: Any = None, motion_pipe: Any = None, edit_pipe: Any = None):
    """All tabs in one ``gr.Blocks``; pass pipelines to override the embedded defaults."""
    gr = _import_gradio()
    from . import edit_tab, motion_tab, svg_tab

    # Tabs are built outside the app's context: a Blocks created inside another is rendered there
    # already, and render() would show it a second time.
    tabs = {
        "SVG": svg_tab.build_demo(svg_pipe),
        "Motion": motion_tab.build_demo(motion_pipe),
        "Edit": edit_tab.build_demo(edit_pipe),
    }
    with gr.Blocks(title=TITLE, analytics_enabled=False) as app:
        gr.Markdown(f"# {TITLE}")
        with gr.Tabs():
            for label, tab in tabs.items():
                with gr.Tab(label, id=label.lower()):
                    tab.render()
    return app


def launch(host: str = "127.0.0.1", port: int = 7860, *, block: bool = True, **pipes: Any):
    """Serve the app on ``host:port`` (loopback by default, never a public share link)."""
    app = build_app(**pipes)
    app.queue(default_concurrency_limit=1)
    app.launch(server_name=host, server_port=port, share=False, prevent_thread_lock=not block, quiet=False)
    return app
