"""Two-person motion: the SMPL-22 body, real mocap import and export, collision checks and metrics.

Joints are SMPL's 22 in order, metres, y up, 30 fps. Import BVH (CMU MotionBuilder, DAZ and older
cgspeed rigs, or our own export) and ASF/AMC onto the SMPL mean body; export ``motion.npz``, one
BVH per person and an animated preview; check penetration with the capsule body (torch,
differentiable) or exactly with SMPL meshes.
"""


from generators.lazy import lazy_getattr

from .asf_amc import read_amc, read_asf
from .bvh import BVHMotion, read_bvh, write_bvh
from .errors import MotionFileError
from .export import MotionFile, export_motion, load_npz, save_npz, smpl_parameters
from .features import features_to_motion, motion_to_features, pair_to_features
from .retarget import RIGS, Clip, import_clip, import_pair, retarget, retarget_pair
from .skeleton import (
    JOINT_NAMES,
    PARENTS,
    SMPL_REST_JOINTS,
    bone_lengths,
    forward_kinematics,
    inverse_kinematics,
)

__all__ = [
    "JOINT_NAMES",
    "PARENTS",
    "RIGS",
    "SMPL_REST_JOINTS",
    "BVHMotion",
    "CapsuleContacts",
    "Clip",
    "KinematicSynchronizationAdapter",
    "LeadFollowPipeline",
    "MeshContact",
    "MotionFile",
    "MotionFileError",
    "MotionOutput",
    "PaceController",
    "RiggedBody",
    "SMPLBody",
    "bone_lengths",
    "build_dataset",
    "capsule_contacts",
    "export_motion",
    "features_to_motion",
    "forward_kinematics",
    "import_clip",
    "import_pair",
    "inverse_kinematics",
    "load_body",
    "load_npz",
    "mesh_contact",
    "motion_report",
    "motion_to_features",
    "pair_to_features",
    "read_amc",
    "read_asf",
    "read_bvh",
    "retarget",
    "retarget_pair",
    "save_npz",
    "smpl_parameters",
    "write_bvh",
    "write_synthetic_smpl",
]

_LAZY = {  # torch, smplx and trimesh load only when asked for
    "CapsuleContacts": "capsules",
    "capsule_contacts": "capsules",
    "motion_report": "metrics",
    "SMPLBody": "mesh",
    "RiggedBody": "body",
    "load_body": "body",
    "MeshContact": "mesh",
    "mesh_contact": "mesh",
    "write_synthetic_smpl": "mesh",
    "build_dataset": "dataset",
    "LeadFollowPipeline": "pipeline",
    "MotionOutput": "pipeline",
    "PaceController": "guidance",
    "KinematicSynchronizationAdapter": "guidance",
}


__getattr__ = lazy_getattr(__name__, _LAZY)
