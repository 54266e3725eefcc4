"""A local icon library for retrieval-augmented prompting: the k icons whose captions are
closest to the prompt (MiniLM sentence embeddings) are shown to the model as examples.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Self

import torch

LIBRARY_NAME = "library.jsonl"
EMBEDDINGS_NAME = "embeddings.safetensors"


def caption_from_filename(name: str) -> str:
    """``bootstrap-calendar-event.svg`` -> ``calendar event`` (set prefix and separators removed)."""
    stem = Path(name).stem
    stem = re.sub(r"^(lucide|bootstrap|fluent|tabler|mdi|feather|twemoji|noto)-", "", stem)
    return re.sub(r"[-_]+", " ", stem).strip()


class IconLibrary:
    """Captioned icons in canonical form, with unit-length caption embeddings."""

    def __init__(self, captions: list[str], svgs: list[str], embeddings: torch.Tensor | None = None, text_encoder: str = "minilm") -> None:
        if len(captions) != len(svgs) or not captions:
            raise ValueError(f"captions and svgs must be non-empty and of equal length, got {len(captions)} and {len(svgs)}")
        if embeddings is not None and embeddings.shape[0] != len(captions):
            raise ValueError(f"embeddings has {embeddings.shape[0]} rows for {len(captions)} captions")
        self.captions = list(captions)
        self.svgs = list(svgs)
        self.text_encoder = text_encoder
        self._embeddings = embeddings

    @classmethod
    def from_directory(cls, directory: str | os.PathLike[str], text_encoder: str = "minilm") -> Self:
        """Every ``*.svg`` in ``directory``, canonicalized; captions from ``captions.json``
        (``{"file.svg": "caption"}``) when present, else from the file names."""
        from .canonical import canonicalize
        from .parsing import SVGParseError

        directory = Path(directory)
        named = json.loads((directory / "captions.json").read_text()) if (directory / "captions.json").is_file() else {}
        captions, svgs = [], []
        for path in sorted(directory.glob("*.svg")):
            try:
                svgs.append(canonicalize(path.read_text()))
            except SVGParseError:
                continue  # a library is best effort: unsafe or broken files are left out
            captions.append(named.get(path.name) or caption_from_filename(path.name))
        if not svgs:
            raise ValueError(f"{directory} holds no usable *.svg icons")
        return cls(captions, svgs, text_encoder=text_encoder)

    @property
    def embeddings(self) -> torch.Tensor:
        if self._embeddings is None:
            from generators.text_encoders import load_text_encoder

            self._embeddings = load_text_encoder(self.text_encoder).encode(self.captions).pooled.cpu()
        return self._embeddings

    def nearest(self, prompt: str, k: int) -> list[tuple[str, str, float]]:
        """The ``k`` (caption, svg, cosine similarity) entries closest to ``prompt``, closest first."""
        from generators.text_encoders import load_text_encoder

        if not isinstance(k, int) or k < 1:
            raise ValueError(f"k must be a positive int, got {k!r}")
        query = load_text_encoder(self.text_encoder).encode([prompt]).pooled.cpu()[0]
        scores = self.embeddings @ query
        top = torch.topk(scores, min(k, len(self.captions)))
        return [(self.captions[i], self.svgs[i], float(s)) for s, i in zip(top.values.tolist(), top.indices.tolist(), strict=True)]

    def save_pretrained(self, directory: str | os.PathLike[str]) -> Path:
        from safetensors.torch import save_file

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        with (directory / LIBRARY_NAME).open("w") as handle:
            for caption, svg_text in zip(self.captions, self.svgs, strict=True):
                handle.write(json.dumps({"caption": caption, "svg": svg_text}) + "\n")
        save_file({"embeddings": self.embeddings.contiguous()}, str(directory / EMBEDDINGS_NAME), metadata={"text_encoder": self.text_encoder})
        return directory

    @classmethod
    def from_pretrained(cls, directory: str | os.PathLike[str]) -> Self:
        from safetensors import safe_open

        directory = Path(directory)
        entries = [json.loads(line) for line in (directory / LIBRARY_NAME).read_text().splitlines() if line.strip()]
        with safe_open(str(directory / EMBEDDINGS_NAME), framework="pt") as handle:
            embeddings = handle.get_tensor("embeddings")
            text_encoder = (handle.metadata() or {}).get("text_encoder", "minilm")
        return cls([e["caption"] for e in entries], [e["svg"] for e in entries], embeddings, text_encoder)
