"""The two-person denoiser of InterGen (Liang et al., IJCV 2024), with InterGen's module and
parameter names and shapes, so its public checkpoint converts with a key rename
(``convert_intergen_state_dict``) and loads strictly.

One weight-shared transformer runs for both people. Every block updates each person from the
previous layer's states: self-attention over the person's own frames, cross-attention to the other
person, then a feed-forward layer; each sub-layer starts with an adaptive LayerNorm whose scale
and shift come from the conditioning (timestep embedding plus projected text feature). The
network predicts the clean motion x0 of both people, ``(batch, frames, 2 * 262)``, in the
normalised InterGen feature space (``motion.features``).

Two details matter to match InterGen numerically: attention layers use ``add_zero_attn=True``
(each query also sees a zero key and value), and the positional table is a persistent buffer
shared by the motion and timestep embedders (so it appears under both names in the state dict).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from generators.modeling import ModelMixin

FEATURE_DIM = 262  # per person (motion.features)


class PositionalEncoding(nn.Module):
    """Sinusoidal table ``pe`` (max_len, dim): even columns sin, odd columns cos."""

    def __init__(self, dim: int, max_len: int = 5000):
        super().__init__()
        position = torch.arange(max_len, dtype=torch.float32)[:, None]
        frequency = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(10000.0) / dim))
        table = torch.zeros(max_len, dim)
        table[:, 0::2] = torch.sin(position * frequency)
        table[:, 1::2] = torch.cos(position * frequency)
        self.register_buffer("pe", table)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.pe[: x.shape[1]][None]


class TimestepEmbedder(nn.Module):
    """The positional-table row of the (original, 0..999) timestep through a two-layer MLP."""

    def __init__(self, dim: int, sequence_pos_encoder: PositionalEncoding):
        super().__init__()
        self.sequence_pos_encoder = sequence_pos_encoder
        self.time_embed = nn.Sequential(nn.Linear(dim, dim), nn.SiLU(), nn.Linear(dim, dim))

    def forward(self, timesteps: torch.Tensor) -> torch.Tensor:
        return self.time_embed(self.sequence_pos_encoder.pe[timesteps.long()])


class AdaLN(nn.Module):
    """LayerNorm without affine weights, then ``* (1 + scale) + shift`` from the conditioning."""

    def __init__(self, dim: int):
        super().__init__()
        self.norm = nn.LayerNorm(dim, eps=1e-6, elementwise_affine=False)
        self.emb_layers = nn.Sequential(nn.SiLU(), nn.Linear(dim, 2 * dim))

    def forward(self, h: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        scale, shift = self.emb_layers(emb)[:, None].chunk(2, dim=-1)
        return self.norm(h) * (1 + scale) + shift


def _attention(dim: int, num_heads: int, dropout: float) -> nn.MultiheadAttention:
    return nn.MultiheadAttention(dim, num_heads, dropout=dropout, batch_first=True, add_zero_attn=True)


class VanillaSelfAttention(nn.Module):
    def __init__(self, dim: int, num_heads: int, dropout: float):
        super().__init__()
        self.norm = AdaLN(dim)
        self.attention = _attention(dim, num_heads, dropout)

    def forward(self, x: torch.Tensor, emb: torch.Tensor, key_padding_mask: torch.Tensor | None) -> torch.Tensor:
        h = self.norm(x, emb)
        return self.attention(h, h, h, key_padding_mask=key_padding_mask, need_weights=False)[0]


class VanillaCrossAttention(nn.Module):
    def __init__(self, dim: int, num_heads: int, dropout: float):
        super().__init__()
        self.norm = AdaLN(dim)
        self.xf_norm = AdaLN(dim)
        self.attention = _attention(dim, num_heads, dropout)

    def forward(self, x: torch.Tensor, other: torch.Tensor, emb: torch.Tensor, key_padding_mask: torch.Tensor | None) -> torch.Tensor:
        query, key = self.norm(x, emb), self.xf_norm(other, emb)
        return self.attention(query, key, key, key_padding_mask=key_padding_mask, need_weights=False)[0]


class FFN(nn.Module):
    def __init__(self, dim: int, ff_size: int, dropout: float):
        super().__init__()
        self.norm = AdaLN(dim)
        self.linear1 = nn.Linear(dim, ff_size)
        self.activation = nn.GELU()
        self.dropout = nn.Dropout(dropout)
        self.linear2 = nn.Linear(ff_size, dim)
        nn.init.zeros_(self.linear2.weight)  # each block starts as the identity
        nn.init.zeros_(self.linear2.bias)

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        return self.linear2(self.dropout(self.activation(self.linear1(self.norm(x, emb)))))


class TransformerBlock(nn.Module):
    def __init__(self, dim: int, num_heads: int, ff_size: int, dropout: float):
        super().__init__()
        self.sa_block = VanillaSelfAttention(dim, num_heads, dropout)
        self.ca_block = VanillaCrossAttention(dim, num_heads, dropout)
        self.ffn = FFN(dim, ff_size, dropout)

    def forward(self, x: torch.Tensor, other: torch.Tensor, emb: torch.Tensor, key_padding_mask: torch.Tensor | None) -> torch.Tensor:
        h = x + self.sa_block(x, emb, key_padding_mask)
        h = h + self.ca_block(h, other, emb, key_padding_mask)
        return h + self.ffn(h, emb)


class FinalLayer(nn.Module):
    def __init__(self, dim: int, out_dim: int):
        super().__init__()
        self.linear = nn.Linear(dim, out_dim)
        nn.init.zeros_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.linear(h)


class InterDenoiser(ModelMixin):
    """x0 prediction for two people: ``forward(x (B, T, 2 * 262), timesteps (B,), text (B, text_dim))``.

    InterGen's published size is ``latent_dim=1024, ff_size=2048, num_layers=8, num_heads=8``
    with CLIP ViT-L/14@336px text features (``text_dim=768``); the embedded model is a small
    variant on MiniLM sentence features (``text_dim=384``).
    """

    def __init__(
        self,
        input_dim: int = FEATURE_DIM,
        latent_dim: int = 1024,
        ff_size: int = 2048,
        num_layers: int = 8,
        num_heads: int = 8,
        dropout: float = 0.1,
        text_dim: int = 768,
        max_len: int = 5000,
    ) -> None:
        super().__init__()
        if latent_dim % num_heads or latent_dim % 2:
            raise ValueError(f"latent_dim must be even and divisible by num_heads, got {latent_dim} and {num_heads}")
        if max_len < 1000:  # the positional table also embeds the diffusion timestep (0..999)
            raise ValueError(f"max_len must be >= 1000 (it also indexes timesteps), got {max_len}")
        self.register_config(input_dim=input_dim, latent_dim=latent_dim, ff_size=ff_size, num_layers=num_layers,
                             num_heads=num_heads, dropout=dropout, text_dim=text_dim, max_len=max_len)
        self.input_dim = input_dim
        self.sequence_pos_encoder = PositionalEncoding(latent_dim, max_len)
        self.embed_timestep = TimestepEmbedder(latent_dim, self.sequence_pos_encoder)
        self.motion_embed = nn.Linear(input_dim, latent_dim)
        self.text_embed = nn.Linear(text_dim, latent_dim)
        self.blocks = nn.ModuleList(TransformerBlock(latent_dim, num_heads, ff_size, dropout) for _ in range(num_layers))
        self.out = FinalLayer(latent_dim, input_dim)

    def forward(self, x: torch.Tensor, timesteps: torch.Tensor, text: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """``mask`` (B, T) is True on real frames (default: all); padded frames are never attended to."""
        if x.shape[-1] != 2 * self.input_dim:
            raise ValueError(f"x must end in 2 x {self.input_dim} features (two people), got {tuple(x.shape)}")
        key_padding_mask = None if mask is None else ~mask.bool()
        emb = self.embed_timestep(timesteps) + self.text_embed(text)
        a = self.sequence_pos_encoder(self.motion_embed(x[..., : self.input_dim]))
        b = self.sequence_pos_encoder(self.motion_embed(x[..., self.input_dim :]))
        for block in self.blocks:
            a, b = block(a, b, emb, key_padding_mask), block(b, a, emb, key_padding_mask)
        return torch.cat([self.out(a), self.out(b)], dim=-1)


INTERGEN_PREFIX = "decoder.net."


def convert_intergen_state_dict(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The denoiser's weights from an InterGen checkpoint's ``state_dict``.

    Accepts Lightning's ``model.`` prefix or none; keeps the ``decoder.net.*`` keys without the
    prefix and drops the text tower (CLIP and InterGen's ``clipTransEncoder``/``clip_ln``), which
    encodes text outside the denoiser.
    """
    converted = {}
    for key, value in state_dict.items():
        name = key[len("model.") :] if key.startswith("model.") else key
        if name.startswith(INTERGEN_PREFIX):
            converted[name[len(INTERGEN_PREFIX) :]] = value
    if not converted:
        raise ValueError(f"no '{INTERGEN_PREFIX}*' keys: not an InterGen checkpoint state_dict (first keys: {list(state_dict)[:3]})")
    return converted
