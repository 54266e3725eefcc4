"""``ctrlgen serve``: an OpenAI-compatible chat server over a local transformers causal LM.

Implements ``GET /v1/models`` and ``POST /v1/chat/completions`` (streaming and not), sampling
with the same seeded loop as ``SVGPipeline``. It listens on 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
import uuid


def build_app(model, tokenizer, name: str):
    import torch
    from fastapi import FastAPI, HTTPException
    from fastapi.responses import JSONResponse, StreamingResponse

    from .decoding import sample
    from .prompts import encode_messages

    app = FastAPI(title="ctrlgen chat server")
    lock = threading.Lock()  # one generation at a time: the model is not re-entrant

    def generate(body: dict) -> tuple[list[str], str]:
        messages = body.get("messages")
        if not isinstance(messages, list) or not all(isinstance(m, dict) and "content" in m for m in messages):
            raise HTTPException(400, "messages must be a list of {role, content} objects")
        try:
            max_tokens = int(body.get("max_tokens") or 512)
            temperature = float(body.get("temperature", 1.0))
            top_p = float(body.get("top_p", 1.0))
        except (TypeError, ValueError):
            raise HTTPException(400, "max_tokens, temperature and top_p must be numbers") from None
        if not 1 <= max_tokens <= 8192 or temperature < 0 or not 0 < top_p <= 1:
            raise HTTPException(400, "max_tokens must be in 1..8192, temperature >= 0, top_p in (0, 1]")
        stops = body.get("stop") or []
        stops = [stops] if isinstance(stops, str) else list(stops)
        generator = torch.Generator().manual_seed(int(body["seed"])) if body.get("seed") is not None else None
        with lock:
            tokens = sample(model, tokenizer, encode_messages(tokenizer, messages), 1, generator, max_tokens, temperature, top_p, stop_text=stops[0] if stops else "\0")[0]
        text = tokenizer.decode(tokens, skip_special_tokens=True)
        finish = "length" if len(tokens) >= max_tokens else "stop"
        for stop in stops:
            if stop in text:
                text, finish = text[: text.index(stop)], "stop"
        pieces = [tokenizer.decode([t], skip_special_tokens=True) for t in tokenizer(text, add_special_tokens=False)["input_ids"]] or [""]
        return pieces, finish

    @app.get("/v1/models")
    def models():
        return {"object": "list", "data": [{"id": name, "object": "model", "owned_by": "ctrlgen"}]}

    @app.post("/v1/chat/completions")
    def chat(body: dict):
        pieces, finish = generate(body)
        completion_id, created = f"chatcmpl-{uuid.uuid4().hex[:16]}", int(time.time())
        if not body.get("stream"):
            message = {"role": "assistant", "content": "".join(pieces)}
            return JSONResponse(
                {"id": completion_id, "object": "chat.completion", "created": created, "model": name,
                 "choices": [{"index": 0, "message": message, "finish_reason": finish}]}
            )

        def events():
            for index, piece in enumerate(pieces):
                chunk = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": name,
                         "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": finish if index == len(pieces) - 1 else None}]}
                yield f"data: {json.dumps(chunk)}\n\n"
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    return app


def register(subparsers) -> None:
    parser = subparsers.add_parser("serve", help="serve a local causal LM over an OpenAI-compatible chat API")
    parser.add_argument("model", metavar="MODEL", help="a saved SVGPipeline directory, a hub id, or 'embedded'")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--name", default=None, help="model id reported by /v1/models (default: MODEL)")
    parser.set_defaults(func=_serve)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .pipeline import SVGPipeline

    if not 0 < args.port < 65536:
        raise ValueError(f"--port must be in 1..65535, got {args.port}")
    pipe = SVGPipeline.from_pretrained(args.model)
    app = build_app(pipe.model, pipe.tokenizer, args.name or args.model)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0
