"""Gradio demos over ctrlgen's public API: one tab per generator, served by ``ctrlgen demo``."""

from .app import build_app, launch

__all__ = ["build_app", "launch"]
