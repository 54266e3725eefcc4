"""ctrlgen's shared core: pipelines, conditions, rewards, model loading, the batch runner and CLI.

Names are imported on first use so ``import generators`` stays fast (torch loads only when needed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .lazy import lazy_getattr

__version__ = "0.1.0"

_EXPORTS = {
    "BaseOutput": "outputs",
    "Pipeline": "pipeline",
    "randn_tensor": "pipeline",
    "ModelMixin": "modeling",
    "resolve_pretrained": "hub",
    "ModelNotFoundError": "hub",
    "UnsafeCheckpointError": "hub",
    "TextCondition": "conditioning",
    "TrajectoryCondition": "conditioning",
    "RegionCondition": "conditioning",
    "ReferenceImageCondition": "conditioning",
    "TextEncoder": "text_encoders",
    "TextEmbedding": "text_encoders",
    "MiniLMTextEncoder": "text_encoders",
    "CLIPTextEncoder": "text_encoders",
    "load_text_encoder": "text_encoders",
    "Reward": "rewards",
    "RewardOutput": "rewards",
    "FunctionReward": "rewards",
    "Gate": "rewards",
    "CompositeReward": "rewards",
    "BestOfN": "rewards",
    "best_of_n": "rewards",
    "register_reward": "rewards",
    "get_reward": "rewards",
    "list_rewards": "rewards",
    "Job": "tasks",
    "BatchTask": "tasks",
    "register_task": "tasks",
    "split_options": "tasks",
    "worker_pipeline": "tasks",
    "read_manifest": "batch",
    "run_batch": "batch",
    "BatchSummary": "batch",
    "ManifestError": "batch",
    "UsageError": "errors",
    "OpenAIChatClient": "endpoint",
    "EndpointError": "endpoint",
    "image_part": "endpoint",
    "atomic_write_bytes": "files",
    "atomic_write_json": "files",
}

__all__ = [
    "BaseOutput",
    "BatchSummary",
    "BatchTask",
    "BestOfN",
    "CLIPTextEncoder",
    "CompositeReward",
    "EndpointError",
    "FunctionReward",
    "Gate",
    "Job",
    "ManifestError",
    "MiniLMTextEncoder",
    "ModelMixin",
    "ModelNotFoundError",
    "OpenAIChatClient",
    "Pipeline",
    "ReferenceImageCondition",
    "RegionCondition",
    "Reward",
    "RewardOutput",
    "TextCondition",
    "TextEmbedding",
    "TextEncoder",
    "TrajectoryCondition",
    "UnsafeCheckpointError",
    "UsageError",
    "__version__",
    "atomic_write_bytes",
    "atomic_write_json",
    "best_of_n",
    "get_reward",
    "image_part",
    "list_rewards",
    "load_text_encoder",
    "randn_tensor",
    "read_manifest",
    "register_reward",
    "register_task",
    "resolve_pretrained",
    "run_batch",
    "split_options",
    "worker_pipeline",
]

if TYPE_CHECKING:
    from .batch import BatchSummary, ManifestError, read_manifest, run_batch
    from .conditioning import ReferenceImageCondition, RegionCondition, TextCondition, TrajectoryCondition
    from .endpoint import EndpointError, OpenAIChatClient, image_part
    from .errors import UsageError
    from .files import atomic_write_bytes, atomic_write_json
    from .hub import ModelNotFoundError, UnsafeCheckpointError, resolve_pretrained
    from .modeling import ModelMixin
    from .outputs import BaseOutput
    from .pipeline import Pipeline, randn_tensor
    from .rewards import (
        BestOfN,
        CompositeReward,
        FunctionReward,
        Gate,
        Reward,
        RewardOutput,
        best_of_n,
        get_reward,
        list_rewards,
        register_reward,
    )
    from .tasks import BatchTask, Job, register_task, split_options, worker_pipeline
    from .text_encoders import (
        CLIPTextEncoder,
        MiniLMTextEncoder,
        TextEmbedding,
        TextEncoder,
        load_text_encoder,
    )


__getattr__ = lazy_getattr(__name__, _EXPORTS)


def __dir__() -> list[str]:
    return __all__
