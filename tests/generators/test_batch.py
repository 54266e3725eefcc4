"""The batch runner: manifest validation, resume, failures, kills, local pool and Dask."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from generators import ManifestError, UsageError, read_manifest, run_batch
from generators.batch import SIDECAR_NAME, SUMMARY_NAME, TMP_PREFIX

HERE = Path(__file__).resolve().parent
TASKS = "echo=batch_tasks:ECHO,echo-image=batch_tasks:ECHO_IMAGE"
CTRLGEN = [sys.executable, "-m", "generators.cli"]


@pytest.fixture
def echo_tasks(monkeypatch):
    monkeypatch.setenv("CTRLGEN_TASKS", TASKS)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])))
    monkeypatch.syspath_prepend(str(HERE))
    import batch_tasks

    return batch_tasks


def write_manifest(path: Path, jobs: list[dict]) -> Path:
    path.write_text("".join(json.dumps(job) + "\n" for job in jobs))
    return path


def echo_jobs(n: int, **options) -> list[dict]:
    return [{"task": "echo", "prompt": f"icon {i}", "seed": i, "options": dict(options), "id": f"job-{i:03d}"} for i in range(n)]


def sidecars(out: Path) -> dict[str, dict]:
    """Sidecars of the jobs moved into place (staging folders of a live run are skipped)."""
    return {
        p.parent.name: json.loads(p.read_text())
        for p in out.glob(f"*/{SIDECAR_NAME}")
        if not p.parent.name.startswith(TMP_PREFIX)
    }


def assert_complete(out: Path, n: int, batch_tasks) -> None:
    records = sidecars(out)
    assert sorted(records) == [f"job-{i:03d}" for i in range(n)], "missing or extra job folders"
    for i in range(n):
        record = records[f"job-{i:03d}"]
        assert record["status"] == "ok", record.get("error")
        assert (out / f"job-{i:03d}" / "echo.txt").read_text() == batch_tasks.expected_text(f"icon {i}", i)
        assert record["outputs"] == ["echo.txt", "nested/info.json"]
    assert not list(out.glob(f"{TMP_PREFIX}*")), "temporary folders left behind"


# -- manifest validation ---------------------------------------------------------------------

BAD_LINES = [
    ("{not json", "line 2: not valid JSON"),
    ("[1, 2]", "line 2: expected a JSON object"),
    ('{"task": "echo", "prompt": "x", "promt": "y"}', "line 2: unknown keys ['promt']"),
    ('{"task": "nope", "prompt": "x"}', "line 2: unknown task 'nope'"),
    ('{"task": "echo"}', "line 2: 'prompt' must be a non-empty string"),
    ('{"task": "echo", "prompt": "x", "seed": -1}', "line 2: 'seed' must be a non-negative integer"),
    ('{"task": "echo", "prompt": "x", "seed": 1.5}', "line 2: 'seed' must be a non-negative integer"),
    ('{"task": "echo", "prompt": "x", "options": [1]}', "line 2: 'options' must be a JSON object"),
    ('{"task": "echo-image", "prompt": "x"}', "line 2: task 'echo-image' needs an 'image' path"),
    ('{"task": "echo-image", "prompt": "x", "image": "missing.png"}', "line 2: image 'missing.png' does not exist"),
    ('{"task": "echo", "prompt": "x", "id": "../escape"}', "line 2: 'id' must be 1-100 characters"),
    ('{"task": "echo", "prompt": "first", "id": "a"}', "line 2: job id 'a' repeats line 1"),
]


@pytest.mark.parametrize(("line", "message"), BAD_LINES)
def test_bad_manifest_line_is_named_and_nothing_is_written(tmp_path, echo_tasks, line, message):
    manifest = tmp_path / "m.jsonl"
    manifest.write_text('{"task": "echo", "prompt": "first", "id": "a"}\n' + line + "\n")
    with pytest.raises(ManifestError, match=message.replace("[", r"\[").replace("]", r"\]").replace(".", r"\.")):
        read_manifest(manifest)
    result = subprocess.run([*CTRLGEN, "batch", str(manifest), "-o", str(tmp_path / "out")], capture_output=True, text=True)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "m.jsonl line 2" in result.stderr
    assert not (tmp_path / "out").exists()


def test_usage_errors_exit_2_with_one_line(tmp_path, echo_tasks):
    manifest = write_manifest(tmp_path / "m.jsonl", echo_jobs(1))
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    cases = {
        "does not exist": [str(tmp_path / "absent.jsonl"), "-o", str(tmp_path / "o1")],
        "not writable": [str(manifest), "-o", str(blocker / "out")],
        "holds no jobs": [str(write_manifest(tmp_path / "empty.jsonl", [])), "-o", str(tmp_path / "o2")],
        "positive integer": [str(manifest), "-o", str(tmp_path / "o3"), "--workers", "0"],
    }
    for expected, args in cases.items():
        result = subprocess.run([*CTRLGEN, "batch", *args], capture_output=True, text=True)
        assert result.returncode == 2, (expected, result.stderr)
        assert expected in result.stderr and (len(result.stderr.strip().splitlines()) == 1 or "usage:" in result.stderr)
    assert not (tmp_path / "o1").exists() and not (tmp_path / "o2").exists() and not (tmp_path / "o3").exists()


def test_relative_image_paths_resolve_against_the_manifest(tmp_path, echo_tasks):
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "a.png").write_bytes(b"\x89PNG fake")
    manifest = write_manifest(tmp_path / "m.jsonl", [{"task": "echo-image", "prompt": "copy", "image": "images/a.png"}])
    summary = run_batch(manifest, tmp_path / "out", progress=False)
    assert summary.ok and summary.succeeded == 1
    (record,) = sidecars(tmp_path / "out").values()
    assert record["inputs"]["image"] == str((tmp_path / "images" / "a.png").resolve())
    assert (tmp_path / "out" / record["id"] / "copy.bin").read_bytes() == b"\x89PNG fake"


def test_ids_are_stable_across_runs_and_line_order(tmp_path, echo_tasks):
    jobs = [{"task": "echo", "prompt": f"p{i}", "seed": i} for i in range(3)]
    first = [j.id for j in read_manifest(write_manifest(tmp_path / "a.jsonl", jobs))]
    second = [j.id for j in read_manifest(write_manifest(tmp_path / "b.jsonl", jobs[::-1]))]
    assert first == second[::-1] and len(set(first)) == 3


# -- running ---------------------------------------------------------------------------------


def test_runs_resumes_and_records_failures(tmp_path, echo_tasks):
    jobs = echo_jobs(6)
    jobs[2]["options"] = {"fail": True}
    manifest = write_manifest(tmp_path / "m.jsonl", jobs)
    out = tmp_path / "out"

    summary = run_batch(manifest, out, workers=2, progress=False)
    assert (summary.succeeded, summary.failed, summary.failed_ids) == (5, 1, ["job-002"])
    records = sidecars(out)
    assert records["job-002"]["status"] == "error"
    assert "asked to fail" in records["job-002"]["error"]["message"]
    assert records["job-000"]["result"] == {"scores": [0.0], "length": 6}
    assert records["job-001"]["inputs"] == {"prompt": "icon 1", "image": None, "seed": 1, "options": {}}
    assert {"ctrlgen", "python"} <= set(records["job-001"]["versions"])
    assert records["job-001"]["timings"]["seconds"] >= 0
    assert json.loads((out / SUMMARY_NAME).read_text())["failed_ids"] == ["job-002"]

    finished_before = {k: v["timings"]["finished"] for k, v in records.items() if v["status"] == "ok"}
    jobs[2]["options"] = {}
    write_manifest(manifest, jobs)
    summary = run_batch(manifest, out, workers=2, progress=False)
    assert (summary.skipped, summary.succeeded, summary.failed) == (5, 1, 0)
    records = sidecars(out)
    assert {k: records[k]["timings"]["finished"] for k in finished_before} == finished_before, "finished jobs reran"
    assert_complete(out, 6, echo_tasks)


def test_a_dying_worker_fails_only_its_jobs(tmp_path, echo_tasks):
    jobs = echo_jobs(5)
    jobs[1]["options"] = {"crash": True}
    summary = run_batch(write_manifest(tmp_path / "m.jsonl", jobs), tmp_path / "out", workers=1, progress=False)
    assert summary.failed == 1 and summary.succeeded == 4
    assert sidecars(tmp_path / "out")["job-001"]["error"]["type"] == "WorkerLost"


def _wait_for_finished(out: Path, at_least: int, process: subprocess.Popen, timeout: float = 120) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = sum(1 for r in sidecars(out).values() if r["status"] == "ok") if out.exists() else 0
        if done >= at_least:
            return done
        assert process.poll() is None, f"batch ended early: {process.stderr.read() if process.stderr else ''}"
        time.sleep(0.05)
    raise AssertionError(f"fewer than {at_least} jobs finished in {timeout} s")


def _kill_midway_then_rerun(tmp_path: Path, batch_tasks, extra_args: list[str], kill_signal: int) -> int:
    """Kill a 50-job batch midway, check what landed is whole, rerun; returns the killed run's exit code."""
    n = 50
    manifest = write_manifest(tmp_path / "m.jsonl", echo_jobs(n, sleep=0.1, repeat=2000))
    out = tmp_path / "out"
    args = [*CTRLGEN, "batch", str(manifest), "-o", str(out), "--no-progress", *extra_args]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for_finished(out, 10, process)
        process.send_signal(kill_signal)
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    killed_returncode = process.returncode
    done_at_kill = {k for k, r in sidecars(out).items() if r["status"] == "ok"}
    assert 10 <= len(done_at_kill) < n, "the kill did not land midway"
    for job_id in done_at_kill:  # whatever was moved into place is whole
        index = int(job_id.split("-")[1])
        assert (out / job_id / "echo.txt").read_text() == batch_tasks.expected_text(f"icon {index}", index, 2000)

    rerun = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    summary = json.loads((out / SUMMARY_NAME).read_text())
    assert summary["skipped"] == len(done_at_kill) and summary["succeeded"] == n - len(done_at_kill)
    records = sidecars(out)
    assert len(records) == n
    for i in range(n):
        assert (out / f"job-{i:03d}" / "echo.txt").read_text() == batch_tasks.expected_text(f"icon {i}", i, 2000)
        assert records[f"job-{i:03d}"]["status"] == "ok"
    assert not list(out.glob(f"{TMP_PREFIX}*"))
    return killed_returncode


def test_kill_midway_and_rerun_completes_all_50_locally(tmp_path, echo_tasks):
    _kill_midway_then_rerun(tmp_path, echo_tasks, ["--workers", "2"], signal.SIGKILL)


def test_sigterm_stops_cleanly_and_rerun_completes(tmp_path, echo_tasks):
    assert _kill_midway_then_rerun(tmp_path, echo_tasks, ["--workers", "2"], signal.SIGTERM) == 130


@pytest.fixture(scope="module")
def dask_scheduler():
    pytest.importorskip("distributed")
    from distributed import LocalCluster

    old = {k: os.environ.get(k) for k in ("CTRLGEN_TASKS", "PYTHONPATH")}
    os.environ["CTRLGEN_TASKS"] = TASKS
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), old["PYTHONPATH"]]))
    sys.path.insert(0, str(HERE))  # spawned workers start from this process's sys.path
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None, processes=True)
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()
        sys.path.remove(str(HERE))
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def test_kill_midway_and_rerun_completes_all_50_on_dask(tmp_path, echo_tasks, dask_scheduler):
    _kill_midway_then_rerun(tmp_path, echo_tasks, ["--scheduler", dask_scheduler], signal.SIGKILL)


def test_dask_records_failures_like_local(tmp_path, echo_tasks, dask_scheduler):
    jobs = echo_jobs(4)
    jobs[3]["options"] = {"fail": True}
    summary = run_batch(write_manifest(tmp_path / "m.jsonl", jobs), tmp_path / "out", scheduler=dask_scheduler, progress=False)
    assert (summary.succeeded, summary.failed_ids) == (3, ["job-003"])
    assert sidecars(tmp_path / "out")["job-000"]["worker"]["pid"] != os.getpid()


def test_unreachable_scheduler_is_a_usage_error(tmp_path, echo_tasks, free_port):
    manifest = write_manifest(tmp_path / "m.jsonl", echo_jobs(1))
    with pytest.raises(UsageError, match="cannot reach the Dask scheduler"):
        run_batch(manifest, tmp_path / "out", scheduler=f"tcp://127.0.0.1:{free_port}", connect_timeout=1, progress=False)
