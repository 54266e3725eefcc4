"""The Edit tab: mask-free image editing from an instruction, turn by turn, with undo."""

from __future__ import annotations

import numpy as np

from .app import _import_gradio
from .common import pipeline_loader

EXAMPLE_SCENE = "generated flat-design scene"
PHOTOS = ("astronaut", "coffee", "chelsea", "rocket")  # bundled with scikit-image


def example_image(name: str) -> np.ndarray:
    """A generated flat-design scene or one of scikit-image's bundled photos."""
    if name == EXAMPLE_SCENE:
        from editing import compose

        return compose((512, 384), (245, 238, 220), [
            ("circle", "red", (90, 120), 30), ("circle", "red", (380, 110), 55), ("square", "blue", (250, 270), 50),
            ("star", "yellow", (240, 90), 45), ("triangle", "green", (420, 290), 45), ("hexagon", "purple", (90, 290), 40),
        ]).image
    if name in PHOTOS:
        from skimage import data

        return np.ascontiguousarray(getattr(data, name)()[..., :3])
    raise ValueError(f"unknown example {name!r}")


def overlay(image: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """The image dimmed outside ``mask``, with the mask's outline in magenta."""
    if mask is None or not mask.any():
        return image
    from scipy import ndimage

    shown = (image.astype(np.float32) * np.where(mask[..., None], 1.0, 0.35)).astype(np.uint8)
    edge = mask & ~ndimage.binary_erosion(mask, iterations=2)
    shown[edge] = (236, 72, 153)
    return shown


def build_demo(pipe=None):
    gr = _import_gradio()

    def pipeline_class():
        from editing import EditPipeline

        return EditPipeline

    load = pipeline_loader(pipe, pipeline_class)

    def edit(image, instruction, history):
        if image is None:
            raise gr.Error("Upload an image or pick an example first.")
        if not instruction or not instruction.strip():
            raise gr.Error("Say what to change, e.g. 'remove the smaller red circle on the left'.")
        from editing import PlanError

        current = history[-1] if history else np.asarray(image)[..., :3]
        try:
            out = load("embedded")(current, instruction)
        except (PlanError, ValueError, TypeError) as err:
            raise gr.Error(str(err)) from None
        plan, report = out.plans[0], out.reports[0]
        result = np.asarray(out.images[0])
        history = [*(history or [current]), result]
        note = report.get("message") or f"**{plan.category}** — {plan.rationale}"
        summary = {k: v for k, v in report.items() if k != "instances"}
        return result, overlay(current, out.masks[0]), plan.to_dict(), note, summary, history, _turns(history)

    def undo(history):
        if not history or len(history) < 2:
            raise gr.Error("Nothing to undo.")
        history = history[:-1]
        return history[-1], None, None, "Undone: back to the previous image.", None, history, _turns(history)

    def _turns(history):
        return f"{len(history) - 1} edit(s) in this session" if history else ""

    def pick(name):
        return example_image(name), [], None, None, None, "", None, ""

    with gr.Blocks() as block:
        gr.Markdown(
            "## Mask-free editing\nUpload an image or pick an example and give an instruction such as 'remove the smaller "
            "red circle on the left'. The plan, its rationale and the target mask are shown; everything outside the "
            "edit band stays bit-exact. Each instruction edits the last result, and 'it' means the last edited object."
        )
        history = gr.State([])
        with gr.Row():
            with gr.Column():
                example = gr.Dropdown([EXAMPLE_SCENE, *PHOTOS], value=EXAMPLE_SCENE, label="Example")
                image = gr.Image(value=example_image(EXAMPLE_SCENE), type="numpy", label="Input image", image_mode="RGB", height=320,
                                 format="png")  # lossless: webp would blur flat colours into photo noise
                instruction = gr.Textbox(label="Instruction", value="remove the smaller red circle on the left")
                with gr.Row():
                    run = gr.Button("Edit", variant="primary")
                    back = gr.Button("Undo")
                turns = gr.Markdown("")
            with gr.Column():
                result = gr.Image(type="numpy", label="Result", height=320, interactive=False, format="png")
                target = gr.Image(type="numpy", label="Target mask", height=240, interactive=False, format="png")
        rationale = gr.Markdown("")
        with gr.Row():
            plan = gr.JSON(label="Plan")
            report = gr.JSON(label="Report")
        example.change(pick, [example], [image, history, result, target, plan, rationale, report, turns])
        image.upload(lambda: ([], ""), None, [history, turns])
        run.click(edit, [image, instruction, history], [result, target, plan, rationale, report, history, turns])
        back.click(undo, [history], [result, target, plan, rationale, report, history, turns])
    return block
