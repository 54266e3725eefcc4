"""Mask-free, reasoning-guided image editing (after SmartFreeEdit, arXiv 2504.12704).

``EditPipeline`` plans an instruction (``EditPlan``), finds the instances it means, edits there
with the embedded classical executors and composites the result so that every pixel outside the
feathered edit band is the input's. Scenes for tests and benchmarks come from ``editing.scenes``.
"""

from generators.lazy import lazy_getattr

from .instances import Instance, segment
from .plan import CATEGORIES, PLAN_SCHEMA, EditPlan, PlanError, Relation, TargetQuery, plan_errors
from .planner import EmbeddedPlanner
from .reasoner import Resolution, resolve
from .scenes import Scene, SceneObject, compose, random_scene

__all__ = [
    "CATEGORIES",
    "PLAN_SCHEMA",
    "DetectionSegmenter",
    "DiffusionInpainter",
    "EditOutput",
    "EditPipeline",
    "EditPlan",
    "EditSession",
    "EmbeddedPlanner",
    "EndpointPlanner",
    "Instance",
    "InstructionEditor",
    "PlanError",
    "Relation",
    "Resolution",
    "Scene",
    "SceneObject",
    "TargetQuery",
    "TextSegmenter",
    "VLMPlanner",
    "compose",
    "plan_errors",
    "random_scene",
    "resolve",
    "segment",
]

_LAZY = {  # torch loads only when asked for
    "DetectionSegmenter": "grounding",
    "DiffusionInpainter": "inpainting",
    "EditOutput": "pipeline",
    "EditPipeline": "pipeline",
    "EditSession": "session",
    "EndpointPlanner": "vlm",
    "InstructionEditor": "instruct",
    "TextSegmenter": "grounding",
    "VLMPlanner": "vlm",
}
__getattr__ = lazy_getattr(__name__, _LAZY)
