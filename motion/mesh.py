"""Exact body-mesh checks: SMPL meshes through ``smplx`` and vertex-inside-mesh tests with trimesh.

SMPL model files are licence-gated and never shipped: point ``--smpl`` / ``smpl_model`` at your
``SMPL_NEUTRAL.pkl`` (or ``CTRLGEN_SMPL_MODEL``). A frame collides when a vertex of one body lies
inside the other; its depth is that vertex's distance to the other surface.

The check prunes before it tests: only vertices inside the other body's bounding box are cast
against it (trimesh's ``contains``, on Embree when ``embreex`` is installed), and depths are
measured against the triangles around each inside vertex's nearest vertices (no triangle tree).
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import MotionFileError
from .skeleton import PARENTS, SMPL_REST_JOINTS

SMPL_ENVIRONMENT_VARIABLE = "CTRLGEN_SMPL_MODEL"
SMPL_VERTICES = 6890
_SMPL_KEYS = ("v_template", "shapedirs", "posedirs", "J_regressor", "weights", "kintree_table", "f")


def _require(module: str):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ImportError(f"{module} is needed for body meshes: pip install 'ctrlgen[motion]'") from error


def smpl_model_path(path: str | Path | None = None) -> Path:
    """The SMPL model file to use: ``path``, else ``$CTRLGEN_SMPL_MODEL``; checked to exist."""
    chosen = path or os.environ.get(SMPL_ENVIRONMENT_VARIABLE)
    if not chosen:
        raise MotionFileError(f"no SMPL model file: pass one (SMPL_NEUTRAL.pkl) or set {SMPL_ENVIRONMENT_VARIABLE}")
    chosen = Path(chosen)
    if not chosen.is_file():
        raise MotionFileError(f"{chosen}: SMPL model file not found")
    return chosen


class SMPLBody:
    """SMPL meshes for poses from ``motion.npz`` (``smpl_poses``/``smpl_trans``/``smpl_betas``)."""

    def __init__(self, model_path: str | Path | None = None):
        torch = _require("torch")
        smplx = _require("smplx")
        path = smpl_model_path(model_path)
        try:
            # smplx prints notices on stdout; keep stdout for reports (``--json``)
            with contextlib.redirect_stdout(sys.stderr):
                self.model = smplx.SMPL(model_path=str(path), batch_size=1)
        except Exception as error:  # smplx reports a bad file as whatever its unpickling hit
            raise MotionFileError(
                f"{path}: not a usable SMPL model file ({type(error).__name__}: {error}); it needs {list(_SMPL_KEYS)}"
            ) from error
        if tuple(self.model.v_template.shape) != (SMPL_VERTICES, 3):
            raise MotionFileError(f"{path}: v_template must be ({SMPL_VERTICES}, 3), got {tuple(self.model.v_template.shape)}")
        self.faces = np.asarray(self.model.faces, dtype=np.int64)
        self._torch = torch

    def vertices(self, poses: np.ndarray, trans: np.ndarray, betas: np.ndarray | None = None, chunk: int = 256) -> np.ndarray:
        """(frames, 6890, 3) mesh vertices for SMPL ``poses`` (frames, 72) and ``trans`` (frames, 3)."""
        torch = self._torch
        poses = np.asarray(poses, dtype=np.float32)
        trans = np.asarray(trans, dtype=np.float32)
        betas = np.zeros(10, np.float32) if betas is None else np.asarray(betas, dtype=np.float32)
        out = []
        with torch.no_grad():
            for start in range(0, poses.shape[0], chunk):
                pose = torch.from_numpy(poses[start : start + chunk])
                count = pose.shape[0]
                result = self.model(
                    betas=torch.from_numpy(betas)[None].expand(count, -1), global_orient=pose[:, :3], body_pose=pose[:, 3:],
                    transl=torch.from_numpy(trans[start : start + chunk]),
                )
                out.append(result.vertices.numpy())
        return np.concatenate(out)


@dataclass
class MeshContact:
    inside_fraction: float  # share of both bodies' vertices inside the other body
    depth: float  # deepest inside vertex's distance to the other surface (metres)

    @property
    def colliding(self) -> bool:
        return self.inside_fraction > 0


def _inside(points: np.ndarray, mesh) -> np.ndarray:
    low, high = mesh.bounds
    candidates = np.flatnonzero(np.all((points >= low) & (points <= high), axis=1))
    inside = np.zeros(len(points), bool)
    if len(candidates):
        inside[candidates] = mesh.contains(points[candidates])
    return inside


class _Topology:
    """What depends on the faces only, computed once per body: the faces around each vertex."""

    def __init__(self, faces: np.ndarray, vertex_count: int):
        self.faces = faces
        flat = faces.ravel()
        order = np.argsort(flat, kind="stable")
        counts = np.bincount(flat, minlength=vertex_count)  # unreferenced vertices have no faces
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        slot = np.arange(len(flat)) - np.repeat(starts, counts)
        self.vertex_faces = np.full((len(counts), max(int(counts.max()), 1)), -1, dtype=np.int64)  # padded with -1
        self.vertex_faces[flat[order], slot] = order // 3


@functools.lru_cache(maxsize=8)
def _topology(key: bytes, shape: tuple[int, int], vertex_count: int) -> _Topology:
    return _Topology(np.frombuffer(key, dtype=np.int64).reshape(shape), vertex_count)


def _surface_depth(points: np.ndarray, vertices: np.ndarray, topology: _Topology, neighbours: int = 16) -> float:
    """Largest distance from ``points`` to the surface of a mesh (``vertices``, ``topology``).

    Each point is measured against the triangles around its ``neighbours`` nearest
    vertices, which hold its closest surface point on any mesh whose triangles are not far larger
    than their neighbours' (body meshes); no triangle tree is built.
    """
    from scipy.spatial import cKDTree
    from trimesh.triangles import closest_point

    _, nearest = cKDTree(vertices).query(points, k=min(neighbours, len(vertices)))
    faces = topology.vertex_faces[nearest.reshape(len(points), -1)].reshape(len(points), -1)  # (N, M), -1 padded
    valid = faces >= 0
    triangles = vertices[topology.faces[np.where(valid, faces, 0)]]  # (N, M, 3, 3)
    closest = closest_point(triangles.reshape(-1, 3, 3), np.repeat(points, faces.shape[1], axis=0)).reshape(len(points), -1, 3)
    per_point = np.where(valid, np.linalg.norm(closest - points[:, None, :], axis=-1), np.inf).min(1)
    per_point = per_point[np.isfinite(per_point)]  # a point whose nearest vertices bound no face has no measure here
    return float(per_point.max()) if len(per_point) else 0.0


def mesh_contact(vertices_a: np.ndarray, vertices_b: np.ndarray, faces: np.ndarray, faces_b: np.ndarray | None = None) -> MeshContact:
    """Exact penetration of two closed body meshes on one frame."""
    trimesh = _require("trimesh")
    mesh_a = trimesh.Trimesh(vertices_a, faces, process=False)
    mesh_b = trimesh.Trimesh(vertices_b, faces if faces_b is None else faces_b, process=False)
    (low_a, high_a), (low_b, high_b) = mesh_a.bounds, mesh_b.bounds
    if np.any(high_a < low_b) or np.any(high_b < low_a):
        return MeshContact(0.0, 0.0)  # boxes apart: nothing can be inside
    inside_a = _inside(vertices_a, mesh_b)
    inside_b = _inside(vertices_b, mesh_a)
    depth = 0.0
    for points, other, inside in ((vertices_a, mesh_b, inside_a), (vertices_b, mesh_a, inside_b)):
        if inside.any():
            faces_other = np.ascontiguousarray(other.faces, dtype=np.int64)
            topology = _topology(faces_other.tobytes(), faces_other.shape, len(other.vertices))
            depth = max(depth, _surface_depth(points[inside], np.asarray(other.vertices), topology))
    fraction = (inside_a.sum() + inside_b.sum()) / (len(vertices_a) + len(vertices_b))
    return MeshContact(float(fraction), depth)


def plain_contains_contact(vertices_a: np.ndarray, vertices_b: np.ndarray, faces: np.ndarray) -> MeshContact:
    """The peer of ``mesh_contact``: plain trimesh, ``contains`` of every vertex against the other
    mesh and ``trimesh.proximity.closest_point`` for the depth (``bench/motion_collision.py``)."""
    trimesh = _require("trimesh")
    mesh_a = trimesh.Trimesh(vertices_a, faces, process=False)
    mesh_b = trimesh.Trimesh(vertices_b, faces, process=False)
    inside_a, inside_b = mesh_b.contains(vertices_a), mesh_a.contains(vertices_b)
    depth = 0.0
    for points, other, inside in ((vertices_a, mesh_b, inside_a), (vertices_b, mesh_a, inside_b)):
        if inside.any():
            depth = max(depth, float(trimesh.proximity.closest_point(other, points[inside])[1].max()))
    return MeshContact(float((inside_a.sum() + inside_b.sum()) / (len(vertices_a) + len(vertices_b))), depth)


def mesh_report(motion, smpl_model: str | Path | None = None, stride: int = 1) -> dict[str, Any]:
    """Mesh penetration over a two-person ``motion.export.MotionFile``.

    With ``smpl_model`` the bodies are SMPL meshes posed from the file's SMPL parameters; without,
    the shipped open body (``motion.body``) posed on the joints.
    """
    frames = list(range(0, motion.joints.shape[0], stride))
    if smpl_model is not None:
        if motion.smpl_poses is None or motion.smpl_trans is None:
            raise MotionFileError("the motion file has no smpl_poses/smpl_trans: export it with rotations for SMPL mesh checks")
        body = SMPLBody(smpl_model)
        betas = motion.smpl_betas if motion.smpl_betas is not None else np.zeros((2, 10))
        people = [body.vertices(motion.smpl_poses[frames, p], motion.smpl_trans[frames, p], betas[p]) for p in range(2)]
        faces, name = body.faces, "SMPL"
    else:
        from .body import load_body

        open_body = load_body()
        people = [open_body.pose(motion.joints[frames, p]) for p in range(2)]
        faces, name = open_body.faces, open_body.name
    contacts = [mesh_contact(a, b, faces) for a, b in zip(*people, strict=True)]
    colliding = np.array([c.colliding for c in contacts])
    return {
        "body": name,
        "frames_checked": len(contacts),
        "colliding_frame_rate": float(colliding.mean()),
        "penetrating_vertex_fraction_mean": float(np.mean([c.inside_fraction for c in contacts])),
        "penetration_max_m": float(max(c.depth for c in contacts)),
    }


_HANDS = SMPL_REST_JOINTS[[20, 21]] + [[0.084, -0.0082, -0.0149], [-0.0846, -0.0061, -0.0103]]
_JOINTS_24 = np.concatenate([SMPL_REST_JOINTS, _HANDS])
_PARENTS_24 = [*PARENTS, 20, 21]


def write_synthetic_smpl(path: str | Path) -> Path:
    """Write a stand-in model file in the SMPL release format (plain numpy, V = 6890) and return its path.

    Real SMPL files are licence-gated; this one is a closed sphere at each of SMPL's 24 joints, rigidly
    skinned to it, with the joints where the SMPL mean body has them, so the mesh path (smplx posing,
    exact checks) runs anywhere. It is not a body shape: use it for tests and timing, not verdicts.
    """
    import pickle

    trimesh = _require("trimesh")
    path = Path(path)
    sphere = trimesh.creation.icosphere(subdivisions=2)
    distances = np.linalg.norm(_JOINTS_24[:, None] - _JOINTS_24[None], axis=-1) + np.eye(24) * 10
    radii = 0.45 * distances.min(1)  # spheres of one body never touch each other
    vertices, faces, owner = [], [], []
    for joint in range(24):
        faces.append(sphere.faces + len(sphere.vertices) * joint)
        vertices.append(_JOINTS_24[joint] + sphere.vertices * radii[joint])
        owner += [joint] * len(sphere.vertices)
    vertices = np.concatenate(vertices)
    # pad to SMPL's 6890 vertices with copies of surface vertices (unreferenced by faces)
    extra = np.arange(6890 - len(vertices)) % len(vertices)
    owner = np.array(owner + [owner[i] for i in extra])
    vertices = np.concatenate([vertices, vertices[extra]])
    regressor = np.zeros((24, 6890))
    for joint in range(24):
        members = np.flatnonzero(owner[: 24 * len(sphere.vertices)] == joint)
        regressor[joint, members] = 1.0 / len(members)
    data = {
        "v_template": vertices,
        "shapedirs": np.zeros((6890, 3, 10)),
        "posedirs": np.zeros((6890, 3, 207)),
        "J_regressor": regressor,
        "weights": np.eye(24)[owner],
        "kintree_table": np.array([[4294967295, *_PARENTS_24[1:]], list(range(24))], dtype=np.int64),
        "f": np.concatenate(faces).astype(np.int64),
    }
    with path.open("wb") as handle:
        pickle.dump(data, handle)
    return path
