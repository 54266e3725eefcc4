"""A tiny SVG language model trained once per test session, and a pipeline over it."""

from __future__ import annotations

import functools

from tiny_models import train_tiny_svg_lm

from svg.pipeline import SVGPipeline

HEART = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 200"><path d="M100 170L30 100C0 60 60 10 100 60C140 10 200 60 170 100Z" fill="#e11d48"/></svg>'
CIRCLE = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 200"><path d="M100 20C144 20 180 56 180 100'
    'C180 144 144 180 100 180C56 180 20 144 20 100C20 56 56 20 100 20Z" fill="#2563eb"/></svg>'
)


@functools.cache
def tiny_lm():
    return train_tiny_svg_lm([("a red heart", HEART), ("a blue circle", CIRCLE)])


def make_pipeline(**config) -> SVGPipeline:
    model, tokenizer = tiny_lm()
    pipe = SVGPipeline(model=model, tokenizer=tokenizer, max_new_tokens=200, **config)
    pipe.set_progress_bar_config(disable=True)
    return pipe
