"""Planning over a real HTTP chat endpoint (a scripted OpenAI-compatible server on 127.0.0.1)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from editing import EditPipeline, PlanError, compose
from editing.vlm import extract_json, repair_plan


class ScriptedChat:
    """Answers each chat completion with the next scripted reply; keeps the requests."""

    def __init__(self, replies):
        self.replies, self.requests = list(replies), []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                self._send({"object": "list", "data": [{"id": "scripted-vlm", "object": "model"}]})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                owner.requests.append(body)
                reply = owner.replies.pop(0) if owner.replies else "no more answers"
                self._send({"object": "chat.completion", "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": reply}, "finish_reason": "stop"}]})

            def _send(self, payload):
                data = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def chat():
    servers = []

    def start(*replies):
        servers.append(ScriptedChat(replies))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def scene():
    return compose((160, 120), (245, 238, 220), [("circle", "red", (40, 60), 20), ("square", "blue", (120, 60), 20)])


def test_a_sloppy_answer_is_repaired_and_the_image_is_sent(chat):
    sloppy = ('Sure! Here is the plan:\n```json\n{"category": "Delete", "target": {"description": "the red circle", '
              '"noun": "circle", "colour": "red", "confidence": 0.9}, "prompt": "background", "rationale": "asked",}\n```')
    server = chat(sloppy)
    pipe = EditPipeline(planner=server.url)
    pipe.set_progress_bar_config(disable=True)
    s = scene()
    out = pipe(s.image, "get rid of the red one")
    assert out.plans[0].category == "remove" and out.plans[0].target.color == "red"
    assert out.masks[0][s.objects[0].mask].all() and not out.masks[0][s.objects[1].mask].any()
    repairs = out.reports[0]["plan_repairs"]
    assert any("'Delete' read as 'remove'" in note for note in repairs) and any("confidence dropped" in note for note in repairs)
    (request,) = server.requests
    assert request["model"] == "scripted-vlm" and request["temperature"] == 0.0
    parts = request["messages"][1]["content"]
    assert parts[0]["text"] == "Instruction: get rid of the red one"
    assert parts[1]["image_url"]["url"].startswith("data:image/png;base64,")


def test_an_invalid_answer_is_re_asked_with_its_errors(chat):
    server = chat('{"category": "paint", "target": null, "prompt": "", "rationale": ""}',
                  '{"category": "recolor", "target": {"description": "the square", "noun": "square"}, "prompt": "green square", '
                  '"rationale": "asked", "color": "green"}')
    pipe = EditPipeline(planner=server.url, planner_model="scripted-vlm")
    pipe.set_progress_bar_config(disable=True)
    out = pipe(scene().image, "make the square green")
    assert out.plans[0].color == "green" and len(server.requests) == 2
    follow_up = server.requests[1]["messages"][-1]["content"]
    assert "$.category" in follow_up and "Answer again" in follow_up


def test_an_answer_that_stays_invalid_is_a_clear_error(chat):
    server = chat("I cannot help with that.", "Still no.", '{"category": "remove"}')
    pipe = EditPipeline(planner=server.url, planner_model="scripted-vlm")
    with pytest.raises(PlanError, match="after 3 attempts") as caught:
        pipe(scene().image, "remove the circle")
    assert any("$.target: a remove edit needs a target" in error for error in caught.value.errors)
    with pytest.raises(ValueError, match="planner must be 'embedded', 'vlm' or the URL"):
        EditPipeline(planner="gpt-4o")


def test_the_endpoint_planner_survives_save_and_load(chat, tmp_path):
    server = chat('{"category": "global", "target": null, "prompt": "brighter", "rationale": "asked", "adjustment": "brighten"}')
    EditPipeline(planner=server.url, planner_model="scripted-vlm").save_pretrained(tmp_path / "pipe")
    loaded = EditPipeline.from_pretrained(tmp_path / "pipe")
    loaded.set_progress_bar_config(disable=True)
    out = loaded(scene().image, "brighten it up")
    assert out.plans[0].adjustment == "brighten" and np.asarray(out.images[0]).mean() > scene().image.mean()


def test_json_extraction_and_repair():
    assert extract_json('noise {"a": {"b": "}"}} tail') == {"a": {"b": "}"}}
    with pytest.raises(PlanError, match="no JSON object"):
        extract_json("no braces here")
    plan, notes = repair_plan({"category": "swap", "target": "the star", "asset": "a heart"})
    assert plan["category"] == "replace" and plan["target"] == {"description": "the star"} and notes
