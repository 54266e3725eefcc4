"""The InterGen-compatible denoiser: checkpoint key names and shapes, and its two-person symmetry."""

from __future__ import annotations

import pytest
import torch

from motion.models import InterDenoiser, convert_intergen_state_dict


def intergen_checkpoint(latent: int, ff: int, layers: int, clip_width: int = 768) -> dict[str, torch.Tensor]:
    """A state dict with InterGen's exact key names and shapes (Lightning's ``model.`` prefix),
    written from InterGen's module tree (models/nets.py, blocks.py, layers.py), random values."""
    generator = torch.Generator().manual_seed(0)

    def tensor(*shape):
        return torch.randn(*shape, generator=generator)

    net = "model.decoder.net."
    state = {
        f"{net}sequence_pos_encoder.pe": tensor(5000, latent),
        f"{net}embed_timestep.time_embed.0.weight": tensor(latent, latent), f"{net}embed_timestep.time_embed.0.bias": tensor(latent),
        f"{net}embed_timestep.time_embed.2.weight": tensor(latent, latent), f"{net}embed_timestep.time_embed.2.bias": tensor(latent),
        f"{net}motion_embed.weight": tensor(latent, 262), f"{net}motion_embed.bias": tensor(latent),
        f"{net}text_embed.weight": tensor(latent, 768), f"{net}text_embed.bias": tensor(latent),
        f"{net}out.linear.weight": tensor(262, latent), f"{net}out.linear.bias": tensor(262),
    }
    state[f"{net}embed_timestep.sequence_pos_encoder.pe"] = state[f"{net}sequence_pos_encoder.pe"]
    for i in range(layers):
        block = f"{net}blocks.{i}."
        for norm in ("sa_block.norm", "ca_block.norm", "ca_block.xf_norm", "ffn.norm"):
            state[f"{block}{norm}.emb_layers.1.weight"] = tensor(2 * latent, latent)
            state[f"{block}{norm}.emb_layers.1.bias"] = tensor(2 * latent)
        for attention in ("sa_block.attention", "ca_block.attention"):
            state[f"{block}{attention}.in_proj_weight"] = tensor(3 * latent, latent)
            state[f"{block}{attention}.in_proj_bias"] = tensor(3 * latent)
            state[f"{block}{attention}.out_proj.weight"] = tensor(latent, latent)
            state[f"{block}{attention}.out_proj.bias"] = tensor(latent)
        state[f"{block}ffn.linear1.weight"] = tensor(ff, latent)
        state[f"{block}ffn.linear1.bias"] = tensor(ff)
        state[f"{block}ffn.linear2.weight"] = tensor(latent, ff)
        state[f"{block}ffn.linear2.bias"] = tensor(latent)
    # the text tower, which stays outside the denoiser
    state["model.token_embedding.weight"] = tensor(10, clip_width)
    state["model.positional_embedding"] = tensor(77, clip_width)
    state["model.clipTransEncoder.layers.0.linear1.weight"] = tensor(2048, clip_width)
    state["model.clip_ln.weight"] = tensor(clip_width)
    return state


def test_an_intergen_checkpoint_converts_and_loads_with_no_missing_or_unexpected_keys():
    checkpoint = intergen_checkpoint(latent=64, ff=128, layers=2)
    model = InterDenoiser(latent_dim=64, ff_size=128, num_layers=2, num_heads=4, text_dim=768)
    converted = convert_intergen_state_dict(checkpoint)
    result = model.load_state_dict(converted, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    assert torch.equal(model.blocks[1].ca_block.xf_norm.emb_layers[1].weight, checkpoint["model.decoder.net.blocks.1.ca_block.xf_norm.emb_layers.1.weight"])
    # and the published size has InterGen's parameter count (171,352,326 in the denoiser)
    with torch.device("meta"):
        full = InterDenoiser()
    assert full.num_parameters() == 171_352_326
    assert set(full.state_dict()) == set(convert_intergen_state_dict(intergen_checkpoint(4, 8, 8)))


def test_convert_refuses_something_else():
    with pytest.raises(ValueError, match="not an InterGen checkpoint"):
        convert_intergen_state_dict({"encoder.weight": torch.zeros(1)})


def tiny(seed: int = 0) -> InterDenoiser:
    torch.manual_seed(seed)
    model = InterDenoiser(latent_dim=32, ff_size=64, num_layers=2, num_heads=4, dropout=0.0, text_dim=384).eval()
    for parameter in model.parameters():  # InterGen zero-initialises outputs; give them values to test with
        torch.nn.init.normal_(parameter, std=0.05)
    return model


def test_people_are_exchangeable_and_padding_is_ignored():
    model = tiny()
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(2, 12, 524, generator=generator)
    t = torch.tensor([3, 700])
    text = torch.randn(2, 384, generator=generator)
    with torch.no_grad():
        out = model(x, t, text)
        swapped = model(torch.cat([x[..., 262:], x[..., :262]], -1), t, text)
        assert out.shape == (2, 12, 524)
        torch.testing.assert_close(swapped, torch.cat([out[..., 262:], out[..., :262]], -1))
        mask = torch.ones(2, 12, dtype=torch.bool)
        mask[:, 9:] = False
        noisy = x.clone()
        noisy[:, 9:] = 1e3  # whatever sits in padded frames must not reach real ones
        torch.testing.assert_close(model(x, t, text, mask)[:, :9], model(noisy, t, text, mask)[:, :9])


def test_save_and_load_round_trip(tmp_path):
    model = tiny()
    model.save_pretrained(tmp_path / "denoiser")
    loaded = InterDenoiser.from_pretrained(tmp_path / "denoiser")
    x, t, text = torch.randn(1, 5, 524), torch.tensor([10]), torch.randn(1, 384)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x, t, text), model(x, t, text))
    with pytest.raises(ValueError, match="two people"):
        model(torch.randn(1, 5, 262), t, text)
