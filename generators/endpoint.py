"""A client for OpenAI-compatible chat endpoints (vLLM, llama.cpp server, Ollama, hosted APIs).

Plain HTTP with server-sent-event streaming from the standard library; the API key is read from
an environment variable and never saved. ``save_pretrained`` writes only the address and model.
Messages may carry images as OpenAI content parts (``{"type": "image_url", ...}``), see
``image_part``. Used by the svg generator and the editing planners.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Self

CONFIG_NAME = "endpoint.json"


class EndpointError(ConnectionError):
    """The endpoint could not be reached or answered something that is not a chat completion."""


class OpenAIChatClient:
    def __init__(self, base_url: str, model: str | None = None, api_key_env: str = "OPENAI_API_KEY", timeout: float = 120.0) -> None:
        if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must be an http(s) URL such as http://127.0.0.1:8000/v1, got {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key_env = api_key_env
        self.timeout = timeout
        self.last_finish_reason: str | None = None

    # -- persistence (address and model only) --------------------------------------------------

    def save_pretrained(self, directory: str | os.PathLike[str]) -> Path:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        config = {"base_url": self.base_url, "model": self.model, "api_key_env": self.api_key_env, "timeout": self.timeout}
        (directory / CONFIG_NAME).write_text(json.dumps(config, indent=2) + "\n")
        return directory

    @classmethod
    def from_pretrained(cls, directory: str | os.PathLike[str]) -> Self:
        return cls(**json.loads((Path(directory) / CONFIG_NAME).read_text()))

    # -- HTTP ----------------------------------------------------------------------------------

    def _request(self, path: str, body: dict[str, Any] | None = None):
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream, application/json"}
        key = os.environ.get(self.api_key_env)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.base_url}{path}", data=data, headers=headers, method="GET" if body is None else "POST")
        try:
            return urllib.request.urlopen(request, timeout=self.timeout)
        except urllib.error.HTTPError as err:
            detail = err.read(500).decode("utf-8", "replace")
            raise EndpointError(f"{self.base_url}{path} answered HTTP {err.code}: {detail}") from None
        except (urllib.error.URLError, OSError) as err:
            raise EndpointError(f"cannot reach the chat endpoint {self.base_url}: {getattr(err, 'reason', err)}") from None

    def resolve_model(self) -> str:
        if self.model:
            return self.model
        with self._request("/models") as response:
            try:
                models = json.load(response)["data"]
                self.model = models[0]["id"]
            except (ValueError, KeyError, IndexError, TypeError):
                raise EndpointError(f"{self.base_url}/models did not list any model; pass model=") from None
        return self.model

    def complete(
        self,
        messages: Sequence[dict[str, Any]],
        *,
        max_tokens: int,
        temperature: float,
        top_p: float,
        seed: int | None = None,
        stop: Sequence[str] = (),
        on_text: Callable[[str], None] | None = None,
    ) -> str:
        """The assistant's answer, streamed; ``last_finish_reason`` keeps why it ended ("stop", "length")."""
        body = {
            "model": self.resolve_model(),
            "messages": list(messages),
            "max_tokens": max_tokens,
            "temperature": temperature,
            "top_p": top_p,
            "stream": True,
        }
        if stop:
            body["stop"] = list(stop)
        if seed is not None:
            body["seed"] = seed
        pieces: list[str] = []
        finish = None
        with self._request("/chat/completions", body) as response:
            content_type = response.headers.get("Content-Type", "")
            if "text/event-stream" not in content_type:  # a server that ignores stream=True
                try:
                    choice = json.load(response)["choices"][0]
                    pieces.append(choice["message"]["content"] or "")
                    finish = choice.get("finish_reason")
                except (ValueError, KeyError, IndexError, TypeError):
                    raise EndpointError(f"{self.base_url} answered something that is not a chat completion") from None
            else:
                for raw in response:
                    line = raw.decode("utf-8", "replace").strip()
                    if not line.startswith("data:"):
                        continue
                    payload = line[5:].strip()
                    if payload == "[DONE]":
                        break
                    try:
                        choice = json.loads(payload)["choices"][0]
                    except (ValueError, KeyError, IndexError, TypeError):
                        raise EndpointError(f"{self.base_url} sent a malformed stream event: {payload[:100]!r}") from None
                    text = (choice.get("delta") or {}).get("content") or ""
                    if text:
                        pieces.append(text)
                        if on_text is not None:
                            on_text(text)
                    finish = choice.get("finish_reason") or finish
        self.last_finish_reason = finish
        return "".join(pieces)


def image_part(image: Any) -> dict[str, Any]:
    """An OpenAI chat content part holding ``image`` (PIL image or (H, W, 3) uint8 array) as a PNG data URL."""
    import base64
    import io

    import numpy as np
    from PIL import Image

    picture = image if isinstance(image, Image.Image) else Image.fromarray(np.asarray(image, dtype=np.uint8))
    buffer = io.BytesIO()
    picture.convert("RGB").save(buffer, format="PNG")
    return {"type": "image_url", "image_url": {"url": "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()}}
