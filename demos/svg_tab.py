"""The SVG tab: generate ranked candidates from a prompt, or check and repair any SVG."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from .app import _import_gradio
from .common import pipeline_loader

EXAMPLE_BROKEN = (
    'Here is your icon:\n```svg\n<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 200">'
    '<circel cx=100 cy="100" r="80" fil="#e11d48"/>\n<path d="M60 100 L100 140 L150 60" stroke="#fff" stroke-width="16" fill="none"\n```'
)


def build_demo(pipe=None):
    gr = _import_gradio()

    def pipeline_class():
        from svg import SVGPipeline

        return SVGPipeline

    load = pipeline_loader(pipe, pipeline_class)

    def generate(prompt, num_samples, seed, model):
        import torch

        if not prompt or not prompt.strip():
            raise gr.Error("Write a prompt first.")
        try:
            pipeline = load(model.strip() or "embedded")
        except Exception as err:  # a missing model is a message, not a traceback
            raise gr.Error(f"Could not load model {model!r}: {err}") from None
        out = pipeline(prompt, num_samples=int(num_samples), generator=torch.Generator().manual_seed(int(seed)))
        if not out.svgs:
            raise gr.Error(f"None of the {len(out.texts)} candidates could be made a valid, non-blank SVG.")
        directory = Path(tempfile.mkdtemp(prefix="ctrlgen-svg-"))
        files = []
        for index, svg_text in enumerate(out.svgs):
            path = directory / f"{index}.svg"
            path.write_text(svg_text)
            files.append(str(path))
        gallery = [(image, f"#{i} score {score:.3f}") for i, (image, score) in enumerate(zip(out.images, out.scores, strict=True))]
        reports = [{k: v for k, v in r.items() if k != "raw_text"} for r in out.reports]
        return gallery, reports, files

    def check(text):
        from svg import render_svg, repair_svg

        if not text or not text.strip():
            raise gr.Error("Paste an SVG (or an LLM answer holding one).")
        result = repair_svg(text)
        image = render_svg(result.svg, 256).to_pil() if result.ok else None
        summary = {
            "valid_after_repair": result.ok,
            "repairs": [{"code": r.code, "message": r.message} for r in result.repairs],
            "report": result.report.to_dict(),
        }
        return result.svg, image, json.dumps(summary, indent=2)

    with gr.Blocks() as block:
        gr.Markdown(
            "## SVG from text\nEvery candidate is repaired, validated (well-formed, sanitized, renders, not blank) "
            "and ranked; only valid SVGs are shown."
        )
        with gr.Row():
            with gr.Column():
                prompt = gr.Textbox(label="Prompt", value="a red heart with a white outline")
                with gr.Row():
                    num_samples = gr.Slider(1, 8, value=4, step=1, label="Samples")
                    seed = gr.Number(value=0, precision=0, label="Seed")
                model = gr.Textbox(label="Model (embedded, a local directory or a hub id)", value="embedded")
                run = gr.Button("Generate", variant="primary")
            with gr.Column():
                gallery = gr.Gallery(label="Candidates, best first", columns=4, height=280)
                downloads = gr.File(label="SVG files", file_count="multiple")
        reports = gr.JSON(label="Scores and validation reports")
        run.click(generate, [prompt, num_samples, seed, model], [gallery, reports, downloads])

        gr.Markdown("### Check and repair an SVG")
        with gr.Row():
            source = gr.Textbox(label="SVG or LLM output", lines=8, value=EXAMPLE_BROKEN)
            repaired = gr.Textbox(label="Repaired SVG", lines=8)
        with gr.Row():
            preview = gr.Image(label="Render", type="pil", height=256)
            summary = gr.Code(label="Repairs and report", language="json")
        gr.Button("Check and repair").click(check, [source], [repaired, preview, summary])
    return block
