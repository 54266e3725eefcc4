"""Training recipes for SVG language models, each a module run with ``python -m``:

- ``svg.train.sft``: curriculum fine-tuning (mono, colour, cot) of any transformers causal LM;
- ``svg.train.grpo``: reward-based RL with the shared ``generators.rewards`` functions;
- ``svg.train.embedded``: the embedded model from scratch (tokenizer, small LM, curriculum);
- ``svg.train.scorer``: the embedded text-image scorer;
- ``svg.train.cards``: model cards written from the runs' own reports.
"""

from .tokenizer import train_svg_tokenizer

__all__ = ["train_svg_tokenizer"]
