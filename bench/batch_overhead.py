"""Batch runner overhead: ctrlgen's resumable runner against plain ProcessPoolExecutor.map.

Every backend runs the same trivial job (write a 4 KB file) so the table shows what the runner's
guarantees cost per job: validation, sidecars, atomic moves and fsync. Ratios are against the
peer measured in this same run; nothing here asserts on time.

    python bench/batch_overhead.py [--jobs 200] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from generators import BatchTask, register_task, run_batch


def write_payload(job, out_dir: Path) -> dict:
    (out_dir / "payload.txt").write_text(f"{job.prompt}|{job.seed}\n" * 200)
    return {"bytes": 4000}


PAYLOAD = BatchTask("bench-payload", write_payload)


def peer_job(args: tuple[str, int]) -> None:
    out_dir, index = args
    target = Path(out_dir) / f"job-{index:05d}"
    target.mkdir()
    (target / "payload.txt").write_text(f"prompt {index}|{index}\n" * 200)


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    register_task(PAYLOAD)
    rows: list[tuple[str, float]] = []

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        manifest = root / "manifest.jsonl"
        manifest.write_text(
            "".join(json.dumps({"task": "bench-payload", "prompt": f"prompt {i}", "seed": i}) + "\n" for i in range(args.jobs))
        )

        peer_dir = root / "peer"
        peer_dir.mkdir()
        with ProcessPoolExecutor(args.workers, mp_context=get_context("spawn")) as pool:
            rows.append(("ProcessPoolExecutor.map (peer)", timed(lambda: list(pool.map(peer_job, [(str(peer_dir), i) for i in range(args.jobs)], chunksize=1)))))

        out = root / "ctrlgen"
        rows.append(("ctrlgen run_batch, local pool", timed(lambda: run_batch(manifest, out, workers=args.workers, progress=False))))
        rows.append(("ctrlgen run_batch, resume (all done)", timed(lambda: run_batch(manifest, out, workers=args.workers, progress=False))))

        try:
            from distributed import LocalCluster
        except ImportError:
            print("dask[distributed] not installed: skipping the Dask row", file=sys.stderr)
        else:
            sys.path.insert(0, str(Path(__file__).resolve().parent))
            os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).resolve().parent), os.environ.get("PYTHONPATH")]))
            with LocalCluster(n_workers=args.workers, threads_per_worker=1, host="127.0.0.1", dashboard_address=None) as cluster:
                from batch_overhead import PAYLOAD as importable_payload  # workers unpickle it by module name

                register_task(importable_payload)
                rows.append(
                    ("ctrlgen run_batch, Dask LocalCluster", timed(lambda: run_batch(manifest, root / "dask", scheduler=cluster.scheduler_address, progress=False)))
                )

    peer = rows[0][1]
    print(f"\nbatch runner overhead: {args.jobs} jobs, {args.workers} workers, {os.cpu_count()} cores")
    print(f"{'backend':<40} {'seconds':>8} {'ms/job':>8} {'vs peer':>8}")
    for name, seconds in rows:
        print(f"{name:<40} {seconds:8.2f} {1000 * seconds / args.jobs:8.2f} {seconds / peer:7.2f}x")


if __name__ == "__main__":
    main()
