"""The OpenAI-compatible backend against a real `ctrlgen serve` process on 127.0.0.1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
import torch
from svg_fixtures import make_pipeline

from generators.endpoint import EndpointError, OpenAIChatClient
from svg import validate_svg
from svg.pipeline import SVGPipeline


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    model_dir = make_pipeline().save_pretrained(tmp_path_factory.mktemp("served") / "model")
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "generators.cli", "serve", str(model_dir), "--port", str(port), "--name", "tiny-svg"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(f"{url}/models", timeout=2).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(process.stdout.read().decode()) from None
            time.sleep(0.3)
    yield url
    process.terminate()
    process.wait(20)


def test_pipeline_over_the_endpoint(server):
    pipe = SVGPipeline.from_pretrained(server)
    pipe.set_progress_bar_config(disable=True)
    out = pipe("a red heart", num_samples=3, max_new_tokens=200, generator=torch.Generator().manual_seed(0))
    assert pipe.client.model == "tiny-svg"
    assert out.svgs and all(validate_svg(s).ok for s in out.svgs)
    again = pipe("a red heart", num_samples=3, max_new_tokens=200, generator=torch.Generator().manual_seed(0))
    assert again.texts == out.texts  # the seed travels to the server


def test_non_streaming_request(server):
    body = {"model": "tiny-svg", "messages": [{"role": "user", "content": "Draw: a blue circle"}], "max_tokens": 40, "seed": 3}
    request = urllib.request.Request(f"{server}/chat/completions", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        answer = json.load(response)
    assert answer["object"] == "chat.completion" and answer["choices"][0]["finish_reason"] in ("stop", "length")
    bad = urllib.request.Request(f"{server}/chat/completions", data=b'{"messages": 3}', headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(bad, timeout=30)
    assert caught.value.code == 400


def test_cli_generate_with_endpoint(server, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "generators.cli", "svg", "generate", "a red heart", "-o", str(tmp_path / "out"),
         "--n", "2", "--endpoint", server, "--max-new-tokens", "200"],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "out" / "report.json").read_text())["endpoint"] == server


def test_unreachable_endpoint_is_a_clear_error(free_port, tmp_path):
    with pytest.raises(EndpointError, match="cannot reach the chat endpoint"):
        OpenAIChatClient(f"http://127.0.0.1:{free_port}/v1", model="m", timeout=5).complete(
            [{"role": "user", "content": "x"}], max_tokens=5, temperature=1, top_p=1
        )
    result = subprocess.run(
        [sys.executable, "-m", "generators.cli", "svg", "generate", "x", "-o", str(tmp_path / "o"), "--endpoint", f"http://127.0.0.1:{free_port}/v1", "--model", "m"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("ctrlgen svg: error: cannot reach the chat endpoint")


class _Garbage(BaseHTTPRequestHandler):
    answers: ClassVar[list[bytes]] = []

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        body = self.answers.pop(0)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_garbage_answers_give_an_error_or_a_rejected_candidate():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Garbage)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    try:
        pipe = SVGPipeline.from_pretrained(url, model_name="any")
        pipe.set_progress_bar_config(disable=True)
        _Garbage.answers = [b"<html>not json</html>"]
        with pytest.raises(EndpointError, match="not a chat completion"):
            pipe("a cat", generator=torch.Generator().manual_seed(0))
        prose = {"choices": [{"message": {"content": "I am unable to draw cats."}, "finish_reason": "stop"}]}
        _Garbage.answers = [json.dumps(prose).encode()]
        out = pipe("a cat", generator=torch.Generator().manual_seed(0))
        assert out.svgs == [] and out.rejected[0]["repairs"][0]["code"] == "no-svg-found"
    finally:
        httpd.shutdown()
