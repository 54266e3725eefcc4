"""Mask-free, reasoning-guided image editing (after SmartFreeEdit, arXiv 2504.12704).

Built so far: the edit plan and its JSON schema, the embedded instruction planner, and the
generated flat-design scenes used by the tests and the benchmark. The pipeline lands next.
"""

from .plan import CATEGORIES, PLAN_SCHEMA, EditPlan, PlanError, Relation, TargetQuery, plan_errors
from .planner import EmbeddedPlanner
from .scenes import Scene, SceneObject, compose, random_scene

__all__ = [
    "CATEGORIES",
    "PLAN_SCHEMA",
    "EditPlan",
    "EmbeddedPlanner",
    "PlanError",
    "Relation",
    "Scene",
    "SceneObject",
    "TargetQuery",
    "compose",
    "plan_errors",
    "random_scene",
]
