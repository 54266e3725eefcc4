"""Tiny random models and offline tokenizers built from configs in code (never downloaded)."""

from __future__ import annotations

from pathlib import Path


def byte_level_vocab() -> dict[str, int]:
    """The 256-symbol byte-level alphabet CLIP's BPE starts from, with word-end forms and specials."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    codes = printable[:]
    extra = 0
    for byte in range(256):
        if byte not in printable:
            codes.append(256 + extra)
            extra += 1
    chars = [chr(c) for c in codes]
    vocab = {c: i for i, c in enumerate(chars)}
    vocab.update({c + "</w>": len(chars) + i for i, c in enumerate(chars)})
    vocab["<|startoftext|>"] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    return vocab


def clip_tokenizer(max_length: int = 16):
    from transformers import CLIPTokenizer

    return CLIPTokenizer(vocab=byte_level_vocab(), merges=[], model_max_length=max_length)


def save_tiny_clip_text_model(directory: Path, max_length: int = 16, projection_dim: int = 24) -> Path:
    """A random CLIP text tower with projection plus its tokenizer, saved like a hub checkpoint."""
    import torch
    from transformers import CLIPTextConfig, CLIPTextModelWithProjection

    tokenizer = clip_tokenizer(max_length)
    vocab = tokenizer.get_vocab()
    torch.manual_seed(0)
    config = CLIPTextConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        intermediate_size=37,
        num_hidden_layers=2,
        num_attention_heads=4,
        max_position_embeddings=max_length,
        projection_dim=projection_dim,
        bos_token_id=vocab["<|startoftext|>"],
        eos_token_id=vocab["<|endoftext|>"],
        pad_token_id=vocab["<|endoftext|>"],
    )
    CLIPTextModelWithProjection(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory
