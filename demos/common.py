"""Pieces shared by the demo tabs."""

from __future__ import annotations


def unavailable_tab(title: str, what: str, pipe) -> object:
    """A tab for a generator this build does not ship yet: says what it will do and what to use now."""
    from .app import _import_gradio

    gr = _import_gradio()
    if pipe is not None:
        raise ValueError(f"the {title} tab cannot run a pipeline in this build; got {type(pipe).__name__}")
    with gr.Blocks() as block:
        gr.Markdown(f"## {title}\n\n{what}\n\n*This generator is not part of this build yet.*", elem_classes=["ctrlgen-unavailable"])
    return block
