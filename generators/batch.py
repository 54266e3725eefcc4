"""The batch runner: a JSONL manifest becomes one output folder per job, resumably.

Manifest lines look like ``{"task": "svg", "prompt": "...", "seed": 0, "options": {...}}``
with optional ``"id"`` and ``"image"`` (a path, relative to the manifest). Each job's files and
its ``job.json`` sidecar (inputs, seed, result, timings, versions, error) land in ``OUT/<id>/``.

Guarantees:
- The whole manifest is validated before anything is written; a bad line is a :class:`ManifestError`.
- Workers never write into ``OUT``: they return their files and the runner moves each finished
  job into place with one directory rename, so a kill loses at most the jobs in flight and never
  leaves a truncated file. Rerunning skips jobs whose ``job.json`` says ``ok`` and retries the rest.
- A failing job is recorded with its error (status ``error``) and the others go on.
- Jobs run on a local process pool, or on a Dask cluster when ``scheduler`` is given; the
  runner only needs the result bytes back, so Dask workers need no shared filesystem.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import platform
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from .errors import UsageError
from .files import atomic_write_json, json_default
from .tasks import BatchTask, Job, load_task

SIDECAR_NAME = "job.json"
SUMMARY_NAME = "batch.json"
TMP_PREFIX = ".tmp-"
MANIFEST_KEYS = frozenset({"id", "task", "prompt", "image", "seed", "options"})
_ID_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")


class ManifestError(UsageError):
    """A manifest that cannot be run as written; the message names the file and line."""


class WorkerLost(RuntimeError):
    """The process running a job died; the job is retried up to ``MAX_ATTEMPTS`` times."""


#: Attempts for a job whose worker died. A job that kills its worker fails after this many;
#: jobs that only shared the dead worker's queue succeed on a retry.
MAX_ATTEMPTS = 3


@dataclasses.dataclass
class BatchSummary:
    out_dir: Path
    total: int
    skipped: int  # finished by an earlier run
    succeeded: int
    failed: int
    failed_ids: list[str]
    interrupted: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.failed == 0 and not self.interrupted


# -- manifest ----------------------------------------------------------------------------------


def read_manifest(path: str | os.PathLike[str]) -> list[Job]:
    """Parse and validate every line; raises :class:`ManifestError` naming the first bad one."""
    path = Path(path)
    if not path.is_file():
        raise ManifestError(f"manifest {path} does not exist or is not a file")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise ManifestError(f"manifest {path} cannot be read: {err}") from err

    jobs: list[Job] = []
    seen: dict[str, int] = {}
    tasks: dict[str, BatchTask] = {}
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        where = f"{path.name} line {number}"
        job = _parse_line(raw, where, number, path.parent.resolve(), tasks)
        if job.id in seen:
            raise ManifestError(f"{where}: job id {job.id!r} repeats line {seen[job.id]}; give each job a distinct id")
        seen[job.id] = number
        jobs.append(job)
    if not jobs:
        raise ManifestError(f"manifest {path} holds no jobs")
    return jobs


def _parse_line(raw: str, where: str, number: int, base: Path, tasks: dict[str, BatchTask]) -> Job:
    try:
        entry = json.loads(raw)
    except json.JSONDecodeError as err:
        raise ManifestError(f"{where}: not valid JSON ({err.msg} at column {err.colno})") from None
    if not isinstance(entry, dict):
        raise ManifestError(f"{where}: expected a JSON object, got {type(entry).__name__}")
    unknown = sorted(set(entry) - MANIFEST_KEYS)
    if unknown:
        raise ManifestError(f"{where}: unknown keys {unknown}; allowed: {sorted(MANIFEST_KEYS)}")

    task_name = entry.get("task")
    if not isinstance(task_name, str) or not task_name:
        raise ManifestError(f"{where}: 'task' must be a task name string")
    if task_name not in tasks:
        try:
            tasks[task_name] = load_task(task_name)
        except UsageError as err:
            raise ManifestError(f"{where}: {err}") from None
    task = tasks[task_name]

    prompt = entry.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise ManifestError(f"{where}: 'prompt' must be a non-empty string")
    seed = entry.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise ManifestError(f"{where}: 'seed' must be a non-negative integer, got {seed!r}")
    options = entry.get("options", {})
    if not isinstance(options, dict):
        raise ManifestError(f"{where}: 'options' must be a JSON object of pipeline keyword arguments")

    image = entry.get("image")
    if image is not None:
        if not isinstance(image, str) or not image:
            raise ManifestError(f"{where}: 'image' must be a path string")
        image_path = (base / image).resolve()
        if not image_path.is_file():
            raise ManifestError(f"{where}: image {image!r} does not exist (looked for {image_path})")
        image = str(image_path)
    elif task.needs_image:
        raise ManifestError(f"{where}: task {task_name!r} needs an 'image' path")

    job_id = entry.get("id")
    if job_id is None:
        canonical = json.dumps([task_name, prompt, image, seed, options], sort_keys=True)
        job_id = f"{task_name}-{hashlib.sha256(canonical.encode()).hexdigest()[:12]}"
    elif not isinstance(job_id, str) or not job_id or job_id[0] == "." or len(job_id) > 100 or set(job_id) - _ID_CHARS:
        raise ManifestError(f"{where}: 'id' must be 1-100 characters of letters, digits, '.', '_' or '-' not starting with '.'")
    return Job(id=job_id, task=task_name, prompt=prompt, seed=seed, options=options, image=image, line=number)


# -- worker side -------------------------------------------------------------------------------


def execute_job(job: Job, task: BatchTask) -> dict[str, Any]:
    """Run one job in a private temp dir; return its sidecar record and files. Never raises."""
    started = time.time()
    record: dict[str, Any] = {"id": job.id, "task": job.task, "inputs": job.inputs(), "line": job.line}
    files: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory(prefix="ctrlgen-job-") as tmp:
        try:
            result = task.run(job, Path(tmp)) or {}
            record["result"] = json.loads(json.dumps(dict(result), default=json_default))
            files = _collect_files(Path(tmp))
            record["status"] = "ok"
        except Exception as err:
            record["status"] = "error"
            record["error"] = {
                "type": type(err).__name__,
                "message": str(err),
                "traceback": traceback.format_exc(limit=20),
            }
            files = {}
    finished = time.time()
    record["outputs"] = sorted(files)
    record["timings"] = {"started": started, "finished": finished, "seconds": round(finished - started, 4)}
    record["worker"] = {"host": socket.gethostname(), "pid": os.getpid()}
    record["versions"] = _versions()
    return {"record": record, "files": files}


def _collect_files(root: Path) -> dict[str, bytes]:
    files = {}
    for path in sorted(root.rglob("*")):
        if path.is_symlink():
            raise ValueError(f"task wrote a symlink ({path.relative_to(root)}); only plain files are kept")
        if path.is_file():
            relative = path.relative_to(root).as_posix()
            if relative == SIDECAR_NAME:
                raise ValueError(f"task wrote {SIDECAR_NAME}, which is reserved for the runner's sidecar")
            files[relative] = path.read_bytes()
    return files


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": platform.python_version()}
    for name in ("ctrlgen", "torch", "numpy", "transformers", "diffusers", "cairosvg", "smplx", "trimesh"):
        if name == "ctrlgen" or name in sys.modules:
            with contextlib.suppress(PackageNotFoundError):
                found[name] = version(name)
    return found


def _init_local_worker(threads: int) -> None:
    # Each worker gets its share of the cores; set before torch is imported in this process.
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(var, str(threads))
    # Ctrl-C reaches the whole process group; the runner handles it and stops the workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        # Die with the runner even when it is SIGKILLed, instead of computing orphaned jobs.
        with contextlib.suppress(Exception):
            import ctypes

            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


# -- runner side -------------------------------------------------------------------------------


def job_dir(out_dir: Path, job: Job) -> Path:
    return out_dir / job.id


def is_finished(out_dir: Path, job: Job) -> bool:
    """True when an earlier run moved this job into place with status ``ok``."""
    return _finished_ok(job_dir(out_dir, job))


def _finished_ok(directory: Path) -> bool:
    try:
        return json.loads((directory / SIDECAR_NAME).read_text()).get("status") == "ok"
    except (OSError, ValueError):
        return False


def _prepare_out_dir(out_dir: Path) -> None:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out_dir, prefix=TMP_PREFIX):
            pass
    except OSError as err:
        raise UsageError(f"output directory {out_dir} is not writable: {err.strerror or err}") from None
    # Leftovers of a run that was killed while moving a job into place.
    for stale in out_dir.glob(f"{TMP_PREFIX}*"):
        shutil.rmtree(stale, ignore_errors=True) if stale.is_dir() else stale.unlink(missing_ok=True)


def _store(out_dir: Path, outcome: dict[str, Any]) -> None:
    """Write a job's files and sidecar into a temp dir, then rename it to ``OUT/<id>``."""
    record, files = outcome["record"], outcome["files"]
    target = out_dir / record["id"]
    staging = out_dir / f"{TMP_PREFIX}{record['id']}-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    for relative, data in files.items():
        path = (staging / relative).resolve()
        if staging.resolve() not in path.parents:
            raise ValueError(f"job {record['id']}: output path {relative!r} escapes the job directory")
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    atomic_write_json(staging / SIDECAR_NAME, record)
    if target.exists():
        # A failed attempt from an earlier run is replaced; a finished one is never overwritten.
        if _finished_ok(target):
            shutil.rmtree(staging)
            return
        old = out_dir / f"{TMP_PREFIX}old-{record['id']}-{uuid.uuid4().hex[:8]}"
        os.rename(target, old)
        os.rename(staging, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(staging, target)
    _fsync_dir(out_dir)


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class _LocalBackend:
    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.capacity = workers
        self._pool = None

    def _executor(self):
        if self._pool is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            threads = max(1, (os.cpu_count() or 1) // self.workers)
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_local_worker,
                initargs=(threads,),
            )
        return self._pool

    def submit(self, job: Job, task: BatchTask):
        from concurrent.futures.process import BrokenProcessPool

        try:
            future = self._executor().submit(execute_job, job, task)
        except BrokenProcessPool:  # a worker died since the last wait; its jobs fail in result()
            self.close(cancel=True)
            future = self._executor().submit(execute_job, job, task)
        future.ctrlgen_pool = self._pool
        return future

    def wait(self, futures: Iterable[Any]) -> set[Any]:
        from concurrent.futures import FIRST_COMPLETED, wait

        return wait(list(futures), return_when=FIRST_COMPLETED).done

    def result(self, future, job: Job) -> dict[str, Any]:
        from concurrent.futures import CancelledError
        from concurrent.futures.process import BrokenProcessPool

        try:
            return future.result()
        except (BrokenProcessPool, CancelledError):
            # A worker died (crash, OOM killer): every job queued in its pool is lost with it.
            if future.ctrlgen_pool is self._pool:
                self.close(cancel=True)
            raise WorkerLost("the worker process died while this job was queued or running") from None

    def close(self, cancel: bool) -> None:
        if self._pool is None:
            return
        pool, self._pool = self._pool, None
        if cancel:
            for process in list(getattr(pool, "_processes", {}).values()):
                with contextlib.suppress(Exception):
                    process.terminate()
        pool.shutdown(wait=not cancel, cancel_futures=cancel)


class _DaskBackend:
    def __init__(self, address: str, connect_timeout: float) -> None:
        try:
            from distributed import Client
        except ImportError as err:
            raise UsageError("--scheduler needs Dask: pip install 'ctrlgen[dist]'") from err
        try:
            self.client = Client(address, timeout=connect_timeout, set_as_default=False)
        except (OSError, TimeoutError) as err:
            raise UsageError(f"cannot reach the Dask scheduler at {address}: {err}") from None
        self.capacity = max(1, sum(self.client.nthreads().values()))

    def submit(self, job: Job, task: BatchTask):
        return self.client.submit(execute_job, job, task, pure=False, key=f"ctrlgen-{job.id}-{uuid.uuid4().hex[:8]}")

    def wait(self, futures: Iterable[Any]) -> set[Any]:
        from distributed import wait

        with self.client.as_current():
            return set(wait(list(futures), return_when="FIRST_COMPLETED").done)

    def result(self, future, job: Job) -> dict[str, Any]:
        try:
            return future.result()
        except Exception as err:  # KilledWorker (Dask already retried it), a lost worker connection, ...
            raise WorkerLost(f"Dask could not run this job: {type(err).__name__}: {err}") from None

    def close(self, cancel: bool) -> None:
        with contextlib.suppress(Exception):
            self.client.close(timeout=10)


def _lost_job(job: Job, message: str) -> dict[str, Any]:
    now = time.time()
    record = {
        "id": job.id,
        "task": job.task,
        "inputs": job.inputs(),
        "line": job.line,
        "status": "error",
        "error": {"type": "WorkerLost", "message": message, "traceback": ""},
        "outputs": [],
        "timings": {"started": now, "finished": now, "seconds": 0.0},
    }
    return {"record": record, "files": {}}


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """Treat SIGTERM like Ctrl-C so a terminated batch stops its workers cleanly."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_batch(
    manifest: str | os.PathLike[str] | Sequence[Job],
    out_dir: str | os.PathLike[str],
    *,
    workers: int = 1,
    scheduler: str | None = None,
    progress: bool = True,
    connect_timeout: float = 20.0,
) -> BatchSummary:
    """Run every unfinished job of ``manifest`` into ``out_dir``.

    Args:
        manifest: a JSONL manifest path, or jobs from :func:`read_manifest`.
        out_dir: output root; one ``<job id>/`` folder per job plus ``batch.json``.
        workers: local worker processes (ignored with ``scheduler``).
        scheduler: a Dask scheduler address (``tcp://host:8786``) to run the jobs on.
        progress: show a tqdm bar over jobs.
        connect_timeout: seconds to wait for the Dask scheduler.
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise UsageError(f"workers must be a positive integer, got {workers!r}")
    jobs = read_manifest(manifest) if isinstance(manifest, str | os.PathLike) else list(manifest)
    tasks = {name: load_task(name) for name in {job.task for job in jobs}}
    out = Path(out_dir)
    _prepare_out_dir(out)

    started = time.time()
    pending = [job for job in jobs if not is_finished(out, job)]
    skipped = len(jobs) - len(pending)
    failed: list[str] = []
    succeeded = 0
    interrupted = False

    from tqdm.auto import tqdm

    bar = tqdm(total=len(jobs), initial=skipped, unit="job", desc="batch", disable=not progress, dynamic_ncols=True)
    backend = None
    try:
        with _sigterm_as_interrupt():
            backend = _DaskBackend(scheduler, connect_timeout) if scheduler else _LocalBackend(workers)
            queue = list(reversed(pending))
            in_flight: dict[Any, Job] = {}
            attempts: dict[str, int] = {}
            # Jobs lost with a dead worker are retried one at a time, alone, so that a crash is
            # charged to the job that caused it and not to the jobs queued beside it.
            suspects: list[Job] = []
            alone: set[str] = set()
            limit = 2 * backend.capacity  # bounded: a kill loses at most these
            while queue or in_flight or suspects:
                if suspects:
                    if not in_flight:
                        job = suspects.pop(0)
                        alone.add(job.id)
                        in_flight[backend.submit(job, tasks[job.task])] = job
                else:
                    while queue and len(in_flight) < limit:
                        job = queue.pop()
                        in_flight[backend.submit(job, tasks[job.task])] = job
                for future in backend.wait(in_flight):
                    job = in_flight.pop(future)
                    try:
                        outcome = backend.result(future, job)
                    except WorkerLost as lost:
                        if job.id in alone:
                            attempts[job.id] = attempts.get(job.id, 0) + 1
                        if attempts.get(job.id, 0) < MAX_ATTEMPTS:
                            suspects.append(job)
                            continue
                        outcome = _lost_job(job, f"{lost} ({attempts[job.id]} attempts, the last ones alone)")
                    _store(out, outcome)
                    if outcome["record"]["status"] == "ok":
                        succeeded += 1
                    else:
                        failed.append(job.id)
                        bar.write(f"job {job.id} (line {job.line}) failed: {outcome['record']['error']['message']}")
                    bar.update(1)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        bar.close()
        if backend is not None:
            backend.close(cancel=interrupted)

    summary = BatchSummary(
        out_dir=out,
        total=len(jobs),
        skipped=skipped,
        succeeded=succeeded,
        failed=len(failed),
        failed_ids=failed,
        interrupted=interrupted,
        seconds=round(time.time() - started, 3),
    )
    atomic_write_json(out / SUMMARY_NAME, {**dataclasses.asdict(summary), "out_dir": str(out)})
    return summary
