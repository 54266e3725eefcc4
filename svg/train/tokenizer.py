"""A byte-level BPE tokenizer for canonical SVG, trained with the ``tokenizers`` library.

Pre-tokenisation is number-aware: every number (with its leading space, ``" 188"``), every hex
colour (``"#ff0000"``) and every word is its own pre-token, so BPE merges never glue digits to
commands or to each other across numbers; the frequent coordinates 0..200 become single tokens.
The chat template drops the long system prompt the embedded model never needs, keeping only a
``<|cot|>`` marker when the prompt asks for chain-of-thought.
"""

from __future__ import annotations

from collections.abc import Iterable

PRE_TOKEN_PATTERN = r"<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"|<path d=\"|#[0-9a-fA-F]{6}| ?-?\d+(?:\.\d+)?| ?[A-Za-z]+| ?[^\sA-Za-z\d]+|\s+"
SPECIAL_TOKENS = ("<|pad|>", "<|end|>", "<|user|>", "<|assistant|>", "<|cot|>")
CHAT_TEMPLATE = (
    "{%- for message in messages -%}"
    "{%- if message['role'] == 'system' -%}{%- if '<think>' in message['content'] -%}<|cot|>{%- endif -%}"
    "{%- elif message['role'] == 'user' -%}<|user|>{{ message['content'] }}"
    "{%- else -%}<|assistant|>{{ message['content'] }}<|end|>"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}<|assistant|>{%- endif -%}"
)


def train_svg_tokenizer(texts: Iterable[str], vocab_size: int = 4096, min_frequency: int = 2):
    """A ``PreTrainedTokenizerFast`` trained on ``texts`` (captions and canonical SVGs)."""
    if not isinstance(vocab_size, int) or vocab_size < 300:
        raise ValueError(f"vocab_size must be an int >= 300 (256 bytes plus specials), got {vocab_size!r}")
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(PRE_TOKEN_PATTERN), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        pad_token="<|pad|>",
        eos_token="<|end|>",
        additional_special_tokens=["<|user|>", "<|assistant|>", "<|cot|>"],
        chat_template=CHAT_TEMPLATE,
        model_max_length=1024,
    )
