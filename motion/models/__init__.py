"""Motion models: the InterGen-compatible two-person denoiser."""

from .intergen import InterDenoiser, convert_intergen_state_dict

__all__ = ["InterDenoiser", "convert_intergen_state_dict"]
