"""``EditPipeline``: instruction -> plan -> instances -> target -> edit -> exact composite.

    pipe = EditPipeline.from_pretrained("embedded")
    out = pipe(image, "remove the smaller red circle on the left")
    out.images[0], out.masks[0], out.plans[0], out.reports[0]

The plan and the target are explicit and inspectable (``out.plans``, ``report["reasoning"]``),
a user mask overrides the reasoner's, and outside the feathered band around the edit the output
equals the input bit for bit (the report checks it). An instruction that names nothing in the
image gives a plan saying so and the unchanged image.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from generators import BaseOutput, Pipeline
from generators.pipeline import GeneratorArg, StepCallback

from .composite import composite, dilate, edit_weights
from .executors import adjust, draw_asset, fill_hole, is_shape, move, recolor, replace_background, resize
from .grounding import DetectionSegmenter, TextSegmenter
from .inpainting import DiffusionInpainter
from .instances import Instance, segment
from .instruct import InstructionEditor
from .plan import NEEDS_TARGET, EditPlan
from .planner import EmbeddedPlanner
from .reasoner import KNOWN_SHAPES, Resolution, nouns, resolve
from .vlm import VLMPlanner

EMBEDDED_DIR = Path(__file__).resolve().parent / "embedded"
MAX_PIXELS = 40_000_000  # larger inputs are refused (PIL's bomb check stops at 89 MP anyway)
ANALYSIS_SIDE = 1024  # segmentation runs on a copy no larger than this; edits run at full size
PRONOUNS = frozenset({"it", "that", "them", "this", "those", "these", "the same", "same one"})


@dataclass
class EditOutput(BaseOutput):
    images: list[Any]  # PIL images, the input's size
    masks: list[np.ndarray]  # (H, W) bool, the edited region (before feathering)
    plans: list[EditPlan]
    reports: list[dict[str, Any]]
    targets: list[np.ndarray | None]  # where the target is after the edit (None: removed, or no target)


def load_image(image: Any, name: str = "image") -> np.ndarray:
    """(H, W, 3) uint8 from a path, PIL image or array; a clear error for anything else."""
    from PIL import Image, UnidentifiedImageError

    if isinstance(image, str | Path):
        path = Path(image)
        if not path.is_file():
            raise ValueError(f"{name}: no such file {str(path)!r}")
        try:
            with Image.open(path) as opened:
                if opened.width * opened.height > MAX_PIXELS:
                    raise ValueError(f"{name} is {opened.width}x{opened.height}; the limit is {MAX_PIXELS:,} pixels")
                image = opened.convert("RGB")
        except (UnidentifiedImageError, Image.DecompressionBombError, OSError) as err:
            raise ValueError(f"{name}: cannot read {str(path)!r} as an image ({err})") from None
    if isinstance(image, Image.Image):
        if image.width * image.height > MAX_PIXELS:
            raise ValueError(f"{name} is {image.width}x{image.height}; the limit is {MAX_PIXELS:,} pixels")
        image = np.asarray(image.convert("RGB"))
    if not isinstance(image, np.ndarray):
        raise TypeError(f"{name} must be a path, a PIL image or an (H, W, 3) uint8 array, got {type(image).__name__}")
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=-1)
    if image.ndim != 3 or image.shape[2] not in (3, 4) or image.dtype != np.uint8 or min(image.shape[:2]) < 8:
        raise ValueError(f"{name} must be an (H, W, 3) uint8 array of at least 8x8, got {image.shape} {image.dtype}")
    if image.shape[0] * image.shape[1] > MAX_PIXELS:
        raise ValueError(f"{name} is {image.shape[1]}x{image.shape[0]}; the limit is {MAX_PIXELS:,} pixels")
    return np.ascontiguousarray(image[..., :3])


def load_mask(mask: Any, size: tuple[int, int]) -> np.ndarray:
    """A user mask (path, PIL image or array; white/True = edit) as (H, W) bool of the image's size."""
    array = load_image(mask, "mask").mean(axis=-1) > 127 if not (isinstance(mask, np.ndarray) and mask.dtype == bool) else mask
    if array.shape != (size[1], size[0]):
        raise ValueError(f"mask must be the image's size {size[0]}x{size[1]}, got {array.shape[1]}x{array.shape[0]}")
    return np.asarray(array, dtype=bool)


class EditPipeline(Pipeline):
    """Mask-free editing from an instruction (see the module docstring).

    Args:
        planner: "embedded" (the grammar planner in ``editing.planner``), the URL of an
            OpenAI-compatible endpoint serving a vision-language model (``editing.vlm``), with
            ``planner_model`` naming the model (default: the first the endpoint lists), or "vlm":
            the ``vlm_planner`` component. None: "vlm" when ``vlm_planner`` is given, else "embedded".
        instruction_editor: an optional ``InstructionEditor`` (InstructPix2Pix or FLUX.1 Kontext through
            diffusers) for global edits that are not a tone or colour operation ("make it look like winter").
        vlm_planner: an optional ``VLMPlanner``, a vision-language model loaded through transformers
            (e.g. the Qwen2-VL family), that plans instead of the embedded planner.
        text_encoder: the embedded planner's encoder for unfamiliar wording ("minilm" or None).
        inpainter: an optional ``DiffusionInpainter`` (SD, SDXL or FLUX Fill through diffusers). It
            fills holes whose surroundings are textured (flat and gradient ones are filled exactly)
            and paints replace/add assets that are not simple shapes.
        text_segmenter: an optional ``TextSegmenter`` (CLIPSeg) or ``DetectionSegmenter`` (OWLv2 or
            Grounding DINO boxes, SAM masks) that proposes instances for nouns the embedded
            segmenter does not know ("the dog").
        dilation, feather: the edit region is grown by ``dilation`` px and blended over ``feather``
            more; beyond that the output is the input.
    """

    embedded_dir = EMBEDDED_DIR
    _callback_tensor_inputs = ("image",)
    _optional_components = ("inpainter", "text_segmenter", "vlm_planner", "instruction_editor")

    def __init__(self, planner: str | None = None, text_encoder: str | None = "minilm", dilation: int = 2, feather: int = 3,
                 inpainter: DiffusionInpainter | None = None, planner_model: str | None = None,
                 text_segmenter: TextSegmenter | DetectionSegmenter | None = None, vlm_planner: VLMPlanner | None = None,
                 instruction_editor: InstructionEditor | None = None) -> None:
        super().__init__()
        if inpainter is not None and not isinstance(inpainter, DiffusionInpainter):
            raise TypeError(f"inpainter must be an editing.DiffusionInpainter or None, got {type(inpainter).__name__}")
        if text_segmenter is not None and not isinstance(text_segmenter, TextSegmenter | DetectionSegmenter):
            raise TypeError("text_segmenter must be an editing.TextSegmenter, an editing.DetectionSegmenter or None, "
                            f"got {type(text_segmenter).__name__}")
        if vlm_planner is not None and not isinstance(vlm_planner, VLMPlanner):
            raise TypeError(f"vlm_planner must be an editing.VLMPlanner or None, got {type(vlm_planner).__name__}")
        if instruction_editor is not None and not isinstance(instruction_editor, InstructionEditor):
            raise TypeError(f"instruction_editor must be an editing.InstructionEditor or None, got {type(instruction_editor).__name__}")
        self.register_components(inpainter=inpainter, text_segmenter=text_segmenter, vlm_planner=vlm_planner,
                                 instruction_editor=instruction_editor)
        if planner is None:
            planner = "embedded" if vlm_planner is None else "vlm"
        if not isinstance(planner, str) or not (planner in ("embedded", "vlm") or planner.startswith(("http://", "https://"))):
            raise ValueError(f"planner must be 'embedded', 'vlm' or the URL of an OpenAI-compatible endpoint, got {planner!r}")
        if (planner == "vlm") != (vlm_planner is not None):
            raise ValueError("planner='vlm' and a vlm_planner go together: pass both, or neither "
                             f"(got planner={planner!r} and vlm_planner={type(vlm_planner).__name__})")
        if not (isinstance(dilation, int) and isinstance(feather, int) and dilation >= 0 and feather >= 0):
            raise ValueError(f"dilation and feather must be ints >= 0, got {dilation!r} and {feather!r}")
        self.register_to_config(planner=planner, text_encoder=text_encoder, dilation=dilation, feather=feather, planner_model=planner_model)
        if planner == "embedded":
            self.planner = EmbeddedPlanner(text_encoder=text_encoder)
        elif planner == "vlm":
            self.planner = vlm_planner
        else:
            from generators import OpenAIChatClient

            from .vlm import EndpointPlanner

            self.planner = EndpointPlanner(OpenAIChatClient(planner, model=planner_model))

    def __call__(
        self,
        image: Any,
        instruction: str,
        num_samples: int = 1,
        generator: GeneratorArg = None,
        mask: Any = None,
        plan: EditPlan | None = None,
        output_dir: str | Path | None = None,
        callback_on_step_end: StepCallback | None = None,
        callback_on_step_end_tensor_inputs: Sequence[str] = ("image",),
    ) -> EditOutput:
        """Edit ``image`` as ``instruction`` says.

        Args:
            image: a path, PIL image or (H, W, 3) uint8 array (up to ``MAX_PIXELS``).
            instruction: what to change, e.g. "make all blue squares green".
            mask: optional region (white = edit) that replaces the reasoner's target.
            plan: optional ``EditPlan`` that replaces the planner's (e.g. one the user corrected).
            output_dir: writes ``edited.png``, ``mask.png``, ``plan.json`` and ``report.json``
                (``sample_i/`` folders when ``num_samples`` > 1).
            callback_on_step_end: called after each sample with ``{"image": (H, W, 3) uint8}``; it
                may return a replacement image.
        """
        started = time.perf_counter()
        # 1. Check inputs
        pixels = load_image(image)
        if not isinstance(instruction, str) or not instruction.strip():
            raise ValueError(f"instruction must be a non-empty string, got {instruction!r}")
        if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 1:
            raise ValueError(f"num_samples must be a positive int, got {num_samples!r}")
        if plan is not None and not isinstance(plan, EditPlan):
            raise TypeError(f"plan must be an EditPlan or None, got {type(plan).__name__}")
        self.check_generator(generator, num_samples)
        self.check_callback(callback_on_step_end, callback_on_step_end_tensor_inputs)
        size = (pixels.shape[1], pixels.shape[0])
        user_mask = None if mask is None else load_mask(mask, size)

        with self.progress_bar(total=2 + num_samples) as bar:  # closed on errors too
            # 2. Plan
            repairs: list[str] = []
            if plan is None:
                plan = self.planner.plan(instruction, pixels)
                repairs = list(getattr(self.planner, "last_notes", []))
            bar.update()

            # 3. Instances and the target
            instances, scale, analysed = self._instances(pixels)
            if self.text_segmenter is not None:
                for noun in sorted(nouns(plan.target) - KNOWN_SHAPES):
                    instances += [dataclasses.replace(inst, shape=noun) for inst in self.text_segmenter.instances(analysed, noun)]
            bar.update()
            resolution = None
            target = user_mask
            if user_mask is None and plan.target is not None and plan.category in NEEDS_TARGET:
                resolution = resolve(plan.target, instances, (round(size[0] * scale), round(size[1] * scale)))
                target = self._target_mask(instances, resolution, size)
            found = plan.category not in NEEDS_TARGET or (target is not None and bool(target.any()))
            plan = plan.replace(target_found=found if plan.category in NEEDS_TARGET else None)

            # 4. Edit and composite, once per sample
            generators = generator if isinstance(generator, list) else [generator] * num_samples
            images, masks, reports, placed_targets = [], [], [], []
            for index, sample_generator in enumerate(generators):
                placed = None
                if found:
                    edited, region, method, placed = self._execute(pixels, instruction, plan, target, instances, scale, sample_generator)
                    dilation, feather = (0, 0) if plan.category in ("background", "global") else (self.config["dilation"], self.config["feather"])
                    weights = edit_weights(region, dilation, feather)
                    result = composite(pixels, edited, weights)
                else:
                    result, region, method, weights = pixels.copy(), np.zeros(pixels.shape[:2], dtype=bool), "unchanged", None
                untouched = np.ones(pixels.shape[:2], dtype=bool) if weights is None else weights == 0
                report = {
                    "instruction": instruction, "plan": plan.to_dict(), "target_found": found, "method": method,
                    "plan_repairs": repairs,
                    "reasoning": list(resolution.steps) if resolution is not None else (["user mask"] if user_mask is not None else []),
                    "instances": [inst.to_dict() for inst in instances],
                    "edited_pixels": int(region.sum()), "outside_band_exact": bool(np.array_equal(result[untouched], pixels[untouched])),
                    "size": list(size), "analysis_scale": round(scale, 4), "seconds": round(time.perf_counter() - started, 3),
                }
                if not found:
                    report["message"] = f"nothing in the image matches '{plan.target.description}'; the image is unchanged"
                if callback_on_step_end is not None:
                    offered = {"image": result}
                    tensors = self.run_step_callback(callback_on_step_end, index, None,
                                                     {name: offered[name] for name in callback_on_step_end_tensor_inputs})
                    result = tensors.get("image", result)
                bar.update()
                images.append(result)
                masks.append(region)
                reports.append(report)
                placed_targets.append(placed)

        # 5. Export
        from PIL import Image

        pil_images = [Image.fromarray(result) for result in images]
        if output_dir is not None:
            for index, (result, region, report) in enumerate(zip(pil_images, masks, reports, strict=True)):
                directory = Path(output_dir) if num_samples == 1 else Path(output_dir) / f"sample_{index}"
                write_edit(directory, result, region, plan, report)
        return EditOutput(images=pil_images, masks=masks, plans=[plan] * num_samples, reports=reports, targets=placed_targets)

    def _instances(self, pixels: np.ndarray) -> tuple[list[Instance], float, np.ndarray]:
        """Instances of a copy no larger than ANALYSIS_SIDE, that copy's scale, and the copy."""
        scale = min(1.0, ANALYSIS_SIDE / max(pixels.shape[:2]))
        if scale < 1.0:
            from PIL import Image

            small = Image.fromarray(pixels).resize((round(pixels.shape[1] * scale), round(pixels.shape[0] * scale)), Image.NEAREST)
            pixels = np.asarray(small)
        return segment(pixels), scale, pixels

    @staticmethod
    def _full_size(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        if mask.shape == (size[1], size[0]):
            return mask
        from PIL import Image

        return np.asarray(Image.fromarray(mask.astype(np.uint8) * 255).resize(size, Image.NEAREST)) > 127

    def _target_mask(self, instances: list[Instance], resolution: Resolution, size: tuple[int, int]) -> np.ndarray:
        mask = np.zeros(instances[0].mask.shape if instances else (size[1], size[0]), dtype=bool)
        for index in resolution.indices:
            mask |= instances[index].mask
        return self._full_size(mask, size)

    def _execute(self, pixels: np.ndarray, instruction: str, plan: EditPlan, target: np.ndarray | None, instances: list[Instance],
                 scale: float, generator) -> tuple[np.ndarray, np.ndarray, str, np.ndarray | None]:
        """(edited image, changed region, method, where the target is now) of one embedded edit at full size."""
        height, width = pixels.shape[:2]
        hole = None if target is None else dilate(target, self.config["dilation"])
        category = plan.category
        if category == "remove":
            edited, method = fill_hole(pixels, hole)
            if method == "telea" and self.inpainter is not None:
                edited, method = self.inpainter.inpaint(pixels, hole, plan.prompt, generator), "diffusion"
            return edited, hole, f"fill ({method})", None
        if category == "recolor":
            edited = recolor(pixels, target, plan.color) if plan.color else adjust(pixels, plan.adjustment, target)
            if plan.color and plan.adjustment:
                edited = adjust(edited, plan.adjustment, target)
            return edited, target, "lab shift" if plan.color else f"adjust ({plan.adjustment})", target
        if category == "move":
            shift = (round(plan.offset[0] * width), round(plan.offset[1] * height))
            edited, region, method, placed = move(pixels, target, shift, hole)
            return edited, region, f"cut, fill ({method}), paste at {shift}", placed
        if category == "resize":
            edited, region, method, placed = resize(pixels, target, plan.scale, hole)
            return edited, region, f"cut, fill ({method}), scale {plan.scale}", placed
        if category == "background":
            subjects = np.zeros((height, width), dtype=bool)
            for inst in instances:
                subjects |= self._full_size(inst.mask, (width, height))
            if plan.color is None and plan.prompt and self.inpainter is not None:  # a scene, not a colour: paint it
                return self.inpainter.inpaint(pixels, ~subjects, plan.prompt, generator), ~subjects, "diffusion background", None
            edited, region = replace_background(pixels, subjects, plan.color or "white")
            return edited, region, "flat background", None
        if category == "global":
            everything = np.ones((height, width), dtype=bool)
            if plan.adjustment is not None:  # a tone or colour operation: exact, no model needed
                return adjust(pixels, plan.adjustment), everything, f"adjust ({plan.adjustment})", None
            if self.instruction_editor is not None:
                return self.instruction_editor.edit(pixels, instruction, generator), everything, "instruction edit (diffusion)", None
            return (pixels.copy(), np.zeros((height, width), dtype=bool),
                    "unchanged: not a tone or colour operation, and no instruction_editor is configured", None)
        if category == "replace":
            filled, _ = fill_hole(pixels, hole)
            ys, xs = np.nonzero(target)
            radius = max(xs.max() - xs.min(), ys.max() - ys.min()) / 2
            color = plan.target.color if plan.target and plan.target.color else None
            color = _asset_color(plan.asset) or color or _mean_color(pixels, target)
            if self.inpainter is not None and not is_shape(plan.asset):
                return self.inpainter.inpaint(pixels, hole, plan.prompt, generator), hole, "diffusion", target
            edited, drawn, how = draw_asset(filled, plan.asset, (xs.mean(), ys.mean()), radius, color, generator)
            return edited, hole | drawn, f"fill, {how}", drawn
        if category == "add":
            center, radius = _placement(plan, instances, scale, (width, height))
            if center is None:
                return pixels.copy(), np.zeros((height, width), dtype=bool), "no anchor for the new object", None
            if self.inpainter is not None and not is_shape(plan.asset):
                yy, xx = np.mgrid[0:height, 0:width]
                spot = np.hypot(xx - center[0], yy - center[1]) <= radius
                return self.inpainter.inpaint(pixels, spot, plan.prompt, generator), spot, "diffusion", spot
            edited, drawn, how = draw_asset(pixels, plan.asset, center, radius, _asset_color(plan.asset), generator)
            return edited, drawn, how, drawn
        raise ValueError(f"unknown category {category!r}")


def _asset_color(asset: str | None) -> str | None:
    from .planner import _colors_in

    colors = _colors_in(asset.lower()) if asset else []
    return colors[0][2] if colors else None


def _mean_color(pixels: np.ndarray, mask: np.ndarray) -> str:
    r, g, b = (int(v) for v in np.rint(pixels[mask].mean(0)))
    return f"#{r:02x}{g:02x}{b:02x}"


def _placement(plan: EditPlan, instances: list[Instance], scale: float, size: tuple[int, int]):
    """Centre and radius (full-size pixels) of a new object from its position or relation."""
    width, height = size
    radii = [max(i.bbox[2] - i.bbox[0], i.bbox[3] - i.bbox[1]) / 2 / scale for i in instances] or [min(size) / 10]
    radius = float(np.median(radii))
    target = plan.target
    if target is not None and target.relation is not None:
        anchor = resolve(target.relation.anchor, instances, (round(width * scale), round(height * scale)))
        if not anchor.found:
            return None, radius
        a = instances[anchor.indices[0]]
        ax, ay = a.centroid[0] / scale, a.centroid[1] / scale
        reach = max(a.bbox[2] - a.bbox[0], a.bbox[3] - a.bbox[1]) / 2 / scale + radius + 8
        dx, dy = {"left of": (-1, 0), "right of": (1, 0), "above": (0, -1), "below": (0, 1), "next to": (1, 0),
                  "opposite": (0, 0)}[target.relation.kind]
        if target.relation.kind == "opposite":
            return (width - ax, ay), radius
        return (ax + dx * reach, ay + dy * reach), radius
    position = target.position if target is not None and target.position else "centre"
    fx = {"left": 0.2, "right": 0.8}.get(position.split()[-1] if " " in position else position, 0.5)
    fy = {"top": 0.2, "bottom": 0.8}.get(position.split()[0], 0.5)
    return (fx * width, fy * height), radius


def write_edit(directory: str | Path, image, region: np.ndarray, plan: EditPlan, report: dict[str, Any]) -> dict[str, Path]:
    """``edited.png``, ``mask.png`` (white = edited), ``plan.json`` and ``report.json``, each written atomically."""
    import io

    from PIL import Image

    from generators import atomic_write_bytes, atomic_write_json

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    files = {"edited": directory / "edited.png", "mask": directory / "mask.png", "plan": directory / "plan.json",
             "report": directory / "report.json"}
    for key, picture in (("edited", image), ("mask", Image.fromarray(region.astype(np.uint8) * 255))):
        buffer = io.BytesIO()
        picture.save(buffer, format="PNG")
        atomic_write_bytes(files[key], buffer.getvalue())
    atomic_write_json(files["plan"], plan.to_dict())
    atomic_write_json(files["report"], report)
    return files
