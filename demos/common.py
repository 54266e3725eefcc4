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


def pipeline_loader(pipe, load_class):
    """``load(model)``: ``pipe`` when the app was given one, else ``load_class().from_pretrained(model)``,
    loaded once per model name, progress bars off. ``load_class`` imports lazily so tabs build fast."""
    loaded: dict[str, object] = {}

    def load(model: str):
        if pipe is not None:
            return pipe
        if model not in loaded:
            loaded[model] = load_class().from_pretrained(model)
            loaded[model].set_progress_bar_config(disable=True)
        return loaded[model]

    return load
