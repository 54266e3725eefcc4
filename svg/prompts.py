"""The SVGen prompt formats: direct answers, and chain-of-thought (``<think>`` then the SVG).

Retrieval-augmented prompting adds the k most similar icons of a local library as examples.
"""

from __future__ import annotations

from collections.abc import Sequence

PROMPT_FORMATS = ("direct", "cot")

SYSTEM_PROMPT = (
    "You write SVG icons. Answer with one SVG document in canonical form: "
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 200"> holding only <path> elements '
    "with absolute M, L, C and Z commands, integer coordinates and hex fill colours."
)
COT_INSTRUCTION = (
    "First reason briefly inside <think></think> about the shapes, their positions and colours, "
    "then write the SVG."
)


def build_messages(prompt: str, prompt_format: str = "direct", examples: Sequence[tuple[str, str]] = ()) -> list[dict[str, str]]:
    """Chat messages for ``prompt``; ``examples`` are (caption, svg) pairs shown as earlier turns."""
    if prompt_format not in PROMPT_FORMATS:
        raise ValueError(f"prompt_format must be one of {PROMPT_FORMATS}, got {prompt_format!r}")
    system = SYSTEM_PROMPT + (" " + COT_INSTRUCTION if prompt_format == "cot" else "")
    messages = [{"role": "system", "content": system}]
    for caption, example in examples:
        messages.append({"role": "user", "content": f"Draw: {caption}"})
        messages.append({"role": "assistant", "content": example})
    messages.append({"role": "user", "content": f"Draw: {prompt}"})
    return messages


def render_plain(messages: Sequence[dict[str, str]]) -> str:
    """A chat as plain text, for tokenizers without a chat template (small and embedded models)."""
    lines = [f"{m['role']}: {m['content']}" for m in messages]
    return "\n".join(lines) + "\nassistant: "


def encode_messages(tokenizer, messages: Sequence[dict[str, str]]):
    """Token ids (1, length) for a chat: the tokenizer's chat template, else the plain format."""
    if getattr(tokenizer, "chat_template", None):
        ids = tokenizer.apply_chat_template(list(messages), add_generation_prompt=True, return_tensors="pt")
        return ids["input_ids"] if hasattr(ids, "keys") else ids
    return tokenizer(render_plain(messages), return_tensors="pt")["input_ids"]
