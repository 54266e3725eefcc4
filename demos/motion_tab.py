"""The Motion tab: two-person motion from text plus a leader path the user draws or types."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np

from .app import _import_gradio
from .common import pipeline_loader

CANVAS_PIXELS = 400
CANVAS_METRES = 8.0  # the sketch covers 8 m x 8 m of floor, +x to the right and +z up the page
PRESETS = {
    "straight, 3 m": [[0, 0], [0, 3]],
    "gentle arc": [[0, 0], [0.5, 1.5], [1.5, 2.5], [3, 3]],
    "zig-zag": [[0, 0], [1, 1], [0, 2], [1, 3]],
    "circle, 1 m radius": [[round(np.sin(a), 3), round(1 - np.cos(a), 3)] for a in np.linspace(0, 2 * np.pi, 13)],
}


def path_from_sketch(image, metres: float = CANVAS_METRES, max_points: int = 40) -> list[list[float]] | None:
    """Waypoints [x, z] (metres, starting at the origin) along one stroke drawn on a canvas, or None.

    The stroke is thinned to a one-pixel skeleton and walked from its end nearest the canvas's
    lower left, always to the nearest unvisited pixel; so a simple stroke comes back in order.
    """
    from skimage.morphology import skeletonize

    if image is None:
        return None
    pixels = np.asarray(image)
    if pixels.ndim == 3 and pixels.shape[-1] == 4:
        ink = pixels[..., 3] > 0
    elif pixels.ndim == 3:
        ink = pixels[..., :3].min(-1) < 128
    else:
        ink = pixels < 128
    if ink.sum() < 2:
        return None
    rows, cols = np.nonzero(skeletonize(ink))
    if len(rows) < 2:
        return None
    points = np.stack([cols, ink.shape[0] - 1 - rows], axis=1).astype(np.float64)  # x right, z up
    neighbours = (np.abs(points[:, None] - points[None]).max(-1) == 1).sum(1)
    ends = np.flatnonzero(neighbours == 1)
    candidates = ends if len(ends) else np.arange(len(points))
    current = candidates[np.argmin(points[candidates].sum(1))]
    order, left = [current], np.ones(len(points), bool)
    left[current] = False
    while left.any():
        distance = np.where(left, np.linalg.norm(points - points[current], axis=1), np.inf)
        current = int(np.argmin(distance))
        if distance[current] > 10:  # another stroke: keep the first
            break
        order.append(current)
        left[current] = False
    path = points[order] * (metres / ink.shape[0])
    path = path[np.linspace(0, len(path) - 1, min(max_points, len(path))).round().astype(int)]
    return (path - path[0]).round(3).tolist()


def _sketch_layer(sketch):
    """The drawn strokes of a gr.Sketchpad value (composite or first layer), or None."""
    if sketch is None:
        return None
    if isinstance(sketch, dict):
        layers = [layer for layer in (sketch.get("layers") or []) if layer is not None]
        return layers[0] if layers else sketch.get("composite")
    return sketch


def build_demo(pipe=None):
    gr = _import_gradio()

    def pipeline_class():
        from motion import LeadFollowPipeline

        return LeadFollowPipeline

    load = pipeline_loader(pipe, pipeline_class)

    def generate(prompt, typed, sketch, frames, seed, leader, use_pace, use_adapter, model, progress=gr.Progress()):  # noqa: B008 (Gradio finds progress by this default)
        import torch

        if not prompt or not prompt.strip():
            raise gr.Error("Describe what the two people do.")
        drawn = path_from_sketch(_sketch_layer(sketch))
        if drawn is not None:
            trajectory, source = drawn, "drawn"
        elif typed and typed.strip():
            try:
                trajectory, source = json.loads(typed), "typed"
            except json.JSONDecodeError as err:
                raise gr.Error(f"The path must be JSON like [[0, 0], [1.5, 0], [3, 0.5]]: {err}") from None
        else:
            trajectory, source = None, "none"
        try:
            pipeline = load(model.strip() or "embedded")
        except Exception as err:  # a missing model is a message, not a traceback
            raise gr.Error(f"Could not load model {model!r}: {err}") from None
        directory = Path(tempfile.mkdtemp(prefix="ctrlgen-motion-"))
        steps = pipeline.config["num_inference_steps"]

        def report_progress(_pipe, step, _timestep, tensors):
            progress((step + 1) / steps, desc="denoising")
            return tensors

        try:
            out = pipeline(prompt, leader_trajectory=trajectory, leader=leader, num_frames=int(frames),
                           generator=torch.Generator().manual_seed(int(seed)),
                           use_pace_controller=bool(use_pace), use_adapter=bool(use_adapter),
                           output_dir=directory, callback_on_step_end=report_progress)
        except (ValueError, TypeError) as err:
            raise gr.Error(str(err)) from None
        report = {"path_source": source, "path": trajectory, **out.reports[0]}
        (directory / "report.json").write_text(json.dumps(report, indent=1))
        files = out.files[0]
        downloads = [str(files[k]) for k in ("npz", "bvh_a", "bvh_b")] + [str(directory / "report.json")]
        return str(files["preview"]), report, downloads

    with gr.Blocks() as block:
        gr.Markdown(
            "## Two-person motion\nDescribe an interaction and draw or type the leader's path; the follower adapts to the "
            "leader and collision checks keep the two bodies apart. You get an animated preview, the report, and NPZ "
            "and BVH files (BVH loads in Blender)."
        )
        with gr.Row():
            with gr.Column():
                prompt = gr.Textbox(label="Prompt", value="two people walk side by side")
                preset = gr.Dropdown(list(PRESETS), label="Path preset", value="gentle arc")
                typed = gr.Textbox(label="Leader path: [x, z] waypoints in metres (JSON)", value=json.dumps(PRESETS["gentle arc"]))
                sketch = gr.Sketchpad(label=f"...or draw it ({CANVAS_METRES:g} m across; a drawing wins over the typed path)",
                                      canvas_size=(CANVAS_PIXELS, CANVAS_PIXELS), type="numpy", height=CANVAS_PIXELS + 80)
                with gr.Row():
                    frames = gr.Slider(30, 300, value=120, step=10, label="Frames (30 fps)")
                    seed = gr.Number(value=0, precision=0, label="Seed")
                leader = gr.Radio(["random", "a", "b"], value="a", label="Leader")
                with gr.Row():
                    use_pace = gr.Checkbox(value=True, label="Pace Controller (leader on the path)")
                    use_adapter = gr.Checkbox(value=True, label="Follower adapter (collisions)")
                model = gr.Textbox(label="Model (embedded, a local directory or a hub id)", value="embedded")
                run = gr.Button("Generate motion", variant="primary")
            with gr.Column():
                preview = gr.Image(label="Preview (top and side views)", type="filepath", height=360)
                downloads = gr.File(label="motion.npz, person_a.bvh, person_b.bvh, report.json", file_count="multiple")
        report = gr.JSON(label="Report: path error, collisions, foot skating")
        preset.change(lambda name: json.dumps(PRESETS[name]), [preset], [typed])
        run.click(generate, [prompt, typed, sketch, frames, seed, leader, use_pace, use_adapter, model], [preview, report, downloads])
    return block
