"""SVGPipeline over a tiny GPT-2 trained here in seconds: contract, validity guarantee, ranking."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from pipeline_contract import PipelineContractTests
from svg_fixtures import CIRCLE, HEART, make_pipeline, tiny_lm

from svg import validate_svg
from svg.pipeline import SVGPipeline, SVGPipelineOutput


class TestSVGPipelineContract(PipelineContractTests):
    pipeline_class = SVGPipeline
    output_class = SVGPipelineOutput

    def get_dummy_components(self):
        model, tokenizer = tiny_lm()
        return {"model": model, "tokenizer": tokenizer, "max_new_tokens": 60}

    def get_dummy_inputs(self, seed=0):
        return {"prompt": "a red heart", "num_samples": 2, "generator": torch.Generator().manual_seed(seed)}

    def samples(self, output):
        return [np.frombuffer(text.encode(), dtype=np.uint8) for text in output.texts]


def test_every_returned_svg_is_valid_ranked_and_rendered():
    pipe = make_pipeline()
    out = pipe("a red heart", num_samples=6, generator=torch.Generator().manual_seed(0), image_size=64)
    assert len(out.svgs) + len(out.rejected) == 6 and out.svgs, "the tiny model should yield some valid icons"
    assert out.scores == sorted(out.scores, reverse=True)
    for svg_text, image, report in zip(out.svgs, out.images, out.reports, strict=True):
        assert validate_svg(svg_text).ok
        assert image.size == (64, 64)
        assert report["valid"] and report["raw_text"] in out.texts
    for rejected in out.rejected:
        assert not rejected["valid"] and rejected["report"]["errors"]
    assert all(text.endswith("</svg>") or len(text) >= 190 for text in out.texts)  # stopped at </svg> or the cap


def test_token_cap_cuts_output_which_repair_then_closes():
    pipe = make_pipeline()
    out = pipe("a blue circle", num_samples=2, max_new_tokens=110, temperature=0, generator=torch.Generator().manual_seed(0))
    assert all(not text.endswith("</svg>") for text in out.texts)
    assert all(validate_svg(s).ok for s in out.svgs)
    assert all(any(r["code"] == "closed-open-tags" for r in report["repairs"]) for report in out.reports)


def test_greedy_decoding_reproduces_the_training_icon():
    out = make_pipeline()("a red heart", temperature=0, generator=torch.Generator().manual_seed(0))
    assert out.texts[0] == HEART or validate_svg(out.svgs[0]).ok


def test_argument_errors():
    pipe = make_pipeline()
    with pytest.raises(TypeError, match="prompt must be a non-empty str"):
        pipe("")
    with pytest.raises(ValueError, match="prompt_format must be one of"):
        pipe("a red heart", prompt_format="poem")
    with pytest.raises(ValueError, match="top_p must be in"):
        pipe("a red heart", top_p=0)
    with pytest.raises(ValueError, match="needs both model and tokenizer"):
        SVGPipeline(model=tiny_lm()[0])


def test_embedded_model_draws_a_red_heart_from_the_cli(tmp_path):
    """The issue's check: `ctrlgen svg generate "a red heart" -o out --n 4` on the shipped model."""
    import json
    import subprocess
    import sys

    from svg import validate_svg

    result = subprocess.run([sys.executable, "-m", "generators.cli", "svg", "generate", "a red heart", "-o", str(tmp_path), "--n", "4"],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["returned"] == 4 and report["scores"] == sorted(report["scores"], reverse=True)
    for index in range(4):
        assert validate_svg((tmp_path / f"{index}.svg").read_text(), render=True).ok
        assert (tmp_path / f"{index}.png").read_bytes().startswith(b"\x89PNG")


def test_embedded_pipeline_is_seeded():
    pipe = SVGPipeline.from_pretrained("embedded")
    pipe.set_progress_bar_config(disable=True)
    first = pipe("a blue cloud", num_samples=2, generator=torch.Generator().manual_seed(3))
    again = pipe("a blue cloud", num_samples=2, generator=torch.Generator().manual_seed(3))
    assert first.svgs == again.svgs and len(first.svgs) == 2


def test_cli_generate_from_a_saved_pipeline(tmp_path):
    import json
    import subprocess
    import sys

    make_pipeline().save_pretrained(tmp_path / "model")
    result = subprocess.run(
        [sys.executable, "-m", "generators.cli", "svg", "generate", "a red heart", "-o", str(tmp_path / "out"),
         "--n", "4", "--seed", "1", "--model", str(tmp_path / "model")],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["returned"] >= 1 and report["scores"] == sorted(report["scores"], reverse=True)
    for index in range(report["returned"]):
        assert validate_svg((tmp_path / "out" / f"{index}.svg").read_text()).ok
        assert (tmp_path / "out" / f"{index}.png").stat().st_size > 100


def test_svg_batch_task_writes_ranked_files(tmp_path):
    import json

    from generators import read_manifest, run_batch

    make_pipeline().save_pretrained(tmp_path / "model")
    lines = [
        {"task": "svg", "prompt": "a red heart", "seed": 0, "options": {"num_samples": 3, "model": str(tmp_path / "model")}, "id": "heart"},
        {"task": "svg", "prompt": "a blue circle", "seed": 1, "options": {"num_samples": 2, "model": str(tmp_path / "model"), "colour": "x"}, "id": "bad-option"},
    ]
    manifest = tmp_path / "m.jsonl"
    manifest.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert [job.task for job in read_manifest(manifest)] == ["svg", "svg"]
    summary = run_batch(manifest, tmp_path / "out", workers=1, progress=False)
    assert summary.failed_ids == ["bad-option"] and summary.succeeded == 1
    record = json.loads((tmp_path / "out" / "heart" / "job.json").read_text())
    assert record["result"]["returned"] >= 1 and "0.svg" in record["outputs"] and "0.png" in record["outputs"]
    assert validate_svg((tmp_path / "out" / "heart" / "0.svg").read_text()).ok
    failed = json.loads((tmp_path / "out" / "bad-option" / "job.json").read_text())
    assert "unknown svg options ['colour']" in failed["error"]["message"]


def test_retrieval_augmented_prompting(tmp_path):
    from pathlib import Path

    from svg import IconLibrary

    library = IconLibrary.from_directory(Path(__file__).resolve().parents[1] / "data" / "icons")
    assert len(library.captions) == 150 and "calendar event" in library.captions
    (caption, example, score), *_ = library.nearest("an event in my calendar", 3)
    assert 0 < score <= 1
    assert "calendar" in caption and example.startswith('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 200">')
    restored = IconLibrary.from_pretrained(library.save_pretrained(tmp_path / "library"))
    assert restored.captions == library.captions and torch.equal(restored.embeddings, library.embeddings)

    with pytest.raises(ValueError, match="lower max_new_tokens or num_examples"):
        make_pipeline(library=library)("a calendar", num_examples=2, generator=torch.Generator().manual_seed(0))

    seen = {}
    pipe = make_pipeline(library=IconLibrary(["a red heart", "a blue circle"], [HEART, CIRCLE]))
    original = pipe.encode_prompt
    pipe.encode_prompt = lambda messages: seen.setdefault("messages", messages) is not None and original(messages)
    pipe("a red heart", num_examples=1, max_new_tokens=20, generator=torch.Generator().manual_seed(0))
    assert [m["role"] for m in seen["messages"]] == ["system", "user", "assistant", "user"]
    assert seen["messages"][1]["content"] == "Draw: a red heart" and seen["messages"][2]["content"] == HEART
    with pytest.raises(ValueError, match="num_examples needs an icon library"):
        make_pipeline()("a red heart", num_examples=1)
