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


def tiny_towers(layers: int) -> dict:
    """``text_config`` and ``vision_config`` of a tiny two-tower CLIP-like model (32-px images, the byte-level vocabulary)."""
    vocab = byte_level_vocab()
    return {
        "text_config": {"vocab_size": len(vocab), "hidden_size": 32, "intermediate_size": 37, "num_hidden_layers": layers,
                        "num_attention_heads": 4, "max_position_embeddings": 16, "bos_token_id": vocab["<|startoftext|>"],
                        "eos_token_id": vocab["<|endoftext|>"], "pad_token_id": vocab["<|endoftext|>"]},
        "vision_config": {"hidden_size": 32, "intermediate_size": 37, "num_hidden_layers": layers, "num_attention_heads": 4,
                          "image_size": 32, "patch_size": 8},
    }


def save_tiny_clip_model(directory: Path) -> Path:
    """A random two-tower CLIP (32-px images) with its processor, saved like a hub checkpoint."""
    import torch
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor

    config = CLIPConfig(**tiny_towers(layers=1), projection_dim=24)
    torch.manual_seed(0)
    CLIPModel(config).save_pretrained(directory)
    processor = CLIPProcessor(image_processor=CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}),
                              tokenizer=clip_tokenizer(16))
    processor.save_pretrained(directory)
    return directory


def tiny_vae():
    """A random two-block AutoencoderKL (4 latent channels, 2x downsampling)."""
    from diffusers import AutoencoderKL

    return AutoencoderKL(block_out_channels=(16, 32), in_channels=3, out_channels=3, latent_channels=4, norm_num_groups=8,
                         down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2, sample_size=32)


def tiny_sd_parts(unet_in_channels: int) -> dict:
    """Random SD 1.x components (UNet with ``unet_in_channels`` inputs, tiny VAE, CLIP text, DDIM), no safety checker."""
    import torch
    from diffusers import DDIMScheduler, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    tokenizer = clip_tokenizer(16)
    vocab = tokenizer.get_vocab()
    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        block_out_channels=(16, 32), layers_per_block=1, sample_size=16, in_channels=unet_in_channels, out_channels=4, norm_num_groups=8,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32, attention_head_dim=4,
    )
    vae = tiny_vae()
    text_encoder = CLIPTextModel(CLIPTextConfig(
        vocab_size=len(vocab), hidden_size=32, intermediate_size=37, num_hidden_layers=1, num_attention_heads=4,
        max_position_embeddings=16, bos_token_id=vocab["<|startoftext|>"], eos_token_id=vocab["<|endoftext|>"],
        pad_token_id=vocab["<|endoftext|>"]))
    scheduler = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False, set_alpha_to_one=False,
                              steps_offset=1)
    return {"vae": vae, "text_encoder": text_encoder, "tokenizer": tokenizer, "unet": unet, "scheduler": scheduler,
            "safety_checker": None, "feature_extractor": None, "requires_safety_checker": False}


def tiny_sd_inpaint_pipeline():
    """A random StableDiffusionInpaintPipeline (the diffusers get_dummy_components pattern, smaller still)."""
    from diffusers import StableDiffusionInpaintPipeline

    return StableDiffusionInpaintPipeline(**tiny_sd_parts(unet_in_channels=9))  # latents, mask, masked-image latents


def tiny_instruct_pix2pix_pipeline():
    """A random StableDiffusionInstructPix2PixPipeline."""
    from diffusers import StableDiffusionInstructPix2PixPipeline

    return StableDiffusionInstructPix2PixPipeline(**tiny_sd_parts(unet_in_channels=8))  # latents, input-image latents


def save_tiny_clipseg(directory: Path) -> Path:
    """A random CLIPSeg (32-px images) with its processor, saved like a hub checkpoint."""
    import torch
    from transformers import CLIPSegConfig, CLIPSegForImageSegmentation, CLIPSegProcessor, ViTImageProcessor

    config = CLIPSegConfig(**tiny_towers(layers=2), projection_dim=24, extract_layers=(0, 1), reduce_dim=16,
                           decoder_num_attention_heads=2, decoder_intermediate_size=32)
    torch.manual_seed(0)
    CLIPSegForImageSegmentation(config).save_pretrained(directory)
    processor = CLIPSegProcessor(image_processor=ViTImageProcessor(size={"height": 32, "width": 32}, do_resize=True),
                                 tokenizer=clip_tokenizer(16))
    processor.save_pretrained(directory)
    return directory


def tiny_sdxl_inpaint_pipeline():
    """A random StableDiffusionXLInpaintPipeline: two small CLIP text towers and a text-time UNet."""
    import torch
    from diffusers import (
        EulerDiscreteScheduler,
        StableDiffusionXLInpaintPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    vocab = clip_tokenizer(16).get_vocab()
    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        block_out_channels=(16, 32), layers_per_block=1, sample_size=16, in_channels=9, out_channels=4, norm_num_groups=8,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        attention_head_dim=(2, 4), use_linear_projection=True, addition_embed_type="text_time", addition_time_embed_dim=8,
        transformer_layers_per_block=(1, 1), projection_class_embeddings_input_dim=80, cross_attention_dim=64,  # 6 * 8 + 32
    )
    vae = tiny_vae()
    text = CLIPTextConfig(vocab_size=len(vocab), hidden_size=32, intermediate_size=37, num_hidden_layers=1, num_attention_heads=4,
                          max_position_embeddings=16, bos_token_id=vocab["<|startoftext|>"], eos_token_id=vocab["<|endoftext|>"],
                          pad_token_id=vocab["<|endoftext|>"], projection_dim=32)
    scheduler = EulerDiscreteScheduler(beta_start=0.00085, beta_end=0.012, steps_offset=1, beta_schedule="scaled_linear",
                                       timestep_spacing="leading")
    return StableDiffusionXLInpaintPipeline(vae=vae, text_encoder=CLIPTextModel(text), text_encoder_2=CLIPTextModelWithProjection(text),
                                            tokenizer=clip_tokenizer(16), tokenizer_2=clip_tokenizer(16), unet=unet, scheduler=scheduler,
                                            requires_aesthetics_score=False, force_zeros_for_empty_prompt=True)


def char_tokenizer(alphabet: str):
    """A character-level fast tokenizer built offline with the tokenizers library."""
    from tokenizers import Tokenizer, decoders, models
    from transformers import PreTrainedTokenizerFast

    specials = ["<pad>", "<eos>", "<unk>"]
    vocab = {token: i for i, token in enumerate(specials + sorted(set(alphabet) - set(specials)))}
    backend = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token="<unk>"))
    backend.decoder = decoders.Fuse()
    return PreTrainedTokenizerFast(tokenizer_object=backend, eos_token="<eos>", pad_token="<pad>", unk_token="<unk>")


def train_tiny_svg_lm(pairs: list[tuple[str, str]], steps: int = 120, lr: float = 1e-2, seed: int = 0):
    """A 2-layer GPT-2 that has memorised ``(prompt, svg)`` pairs in the SVG pipeline's plain format.

    Sampling it gives real, mostly valid SVG with some variation: enough to exercise generation,
    repair and ranking end to end without any download.
    """
    import string

    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    from svg.prompts import build_messages, render_plain

    texts = [render_plain(build_messages(prompt)) + svg for prompt, svg in pairs]
    tokenizer = char_tokenizer(string.printable + "".join(texts))
    torch.manual_seed(seed)
    config = GPT2Config(
        vocab_size=len(tokenizer), n_positions=1024, n_embd=64, n_layer=2, n_head=2,
        bos_token_id=tokenizer.eos_token_id, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
    )
    model = GPT2LMHeadModel(config)
    optimiser = torch.optim.AdamW(model.parameters(), lr=lr)
    batch = [tokenizer(t)["input_ids"] + [tokenizer.eos_token_id] for t in texts]
    for step in range(steps):
        ids = torch.tensor(batch[step % len(batch)]).unsqueeze(0)
        loss = model(input_ids=ids, labels=ids).loss
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    return model.eval(), tokenizer


VLM_SPECIALS = ["<pad>", "<|im_start|>", "<|im_end|>", "<image>"]
VLM_CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{% if m['content'] is string %}{{ m['content'] }}{% else %}"
    "{% for c in m['content'] %}{% if c['type'] == 'image' %}<image>{% else %}{{ c['text'] }}{% endif %}{% endfor %}"
    "{% endif %}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def tiny_vlm(texts: list[str], vocab_size: int = 600):
    """A random LLaVA-architecture model (CLIP vision tower, Qwen2 text model) and its processor,
    with a byte-level BPE tokenizer trained in code on ``texts`` and a ChatML template."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import (
        CLIPImageProcessor,
        LlavaConfig,
        LlavaForConditionalGeneration,
        LlavaProcessor,
        PreTrainedTokenizerFast,
    )

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=VLM_SPECIALS,
                                                       initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token="<|im_end|>", pad_token="<pad>", chat_template=VLM_CHAT_TEMPLATE)
    ids = tokenizer.convert_tokens_to_ids
    processor = LlavaProcessor(image_processor=CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}),
                               tokenizer=tokenizer, patch_size=8, vision_feature_select_strategy="default",
                               chat_template=VLM_CHAT_TEMPLATE, image_token="<image>", num_additional_image_tokens=1)
    config = LlavaConfig(
        vision_config={"model_type": "clip_vision_model", "hidden_size": 32, "intermediate_size": 37, "num_hidden_layers": 1,
                       "num_attention_heads": 4, "image_size": 32, "patch_size": 8, "projection_dim": 32},
        text_config={"model_type": "qwen2", "vocab_size": len(tokenizer), "hidden_size": 64, "intermediate_size": 128,
                     "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 4096,
                     "eos_token_id": ids("<|im_end|>"), "pad_token_id": ids("<pad>"), "bos_token_id": ids("<|im_start|>")},
        image_token_id=ids("<image>"), vision_feature_select_strategy="default", vision_feature_layer=-1,
    )
    torch.manual_seed(0)
    return LlavaForConditionalGeneration(config), processor


def save_tiny_owlv2(directory: Path) -> Path:
    """A random OWLv2 detector (32-px images, 16 boxes) with its processor, saved like a hub checkpoint."""
    import torch
    from transformers import Owlv2Config, Owlv2ForObjectDetection, Owlv2ImageProcessor, Owlv2Processor

    config = Owlv2Config(**tiny_towers(layers=1), projection_dim=32)  # the class head needs the text width
    torch.manual_seed(0)
    Owlv2ForObjectDetection(config).save_pretrained(directory)
    Owlv2Processor(image_processor=Owlv2ImageProcessor(size={"height": 32, "width": 32}), tokenizer=clip_tokenizer(16)).save_pretrained(directory)
    return directory


def save_tiny_sam(directory: Path) -> Path:
    """A random SAM (64-px input, 16-px mask logits) with its processor, saved like a hub checkpoint."""
    import torch
    from transformers import SamConfig, SamImageProcessor, SamModel, SamProcessor

    config = SamConfig(
        vision_config={"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "image_size": 64, "patch_size": 16,
                       "output_channels": 16, "window_size": 2, "global_attn_indexes": [1], "num_pos_feats": 8, "mlp_dim": 64},
        prompt_encoder_config={"hidden_size": 16, "image_size": 64, "patch_size": 16, "mask_input_channels": 4, "num_point_embeddings": 4},
        mask_decoder_config={"hidden_size": 16, "num_hidden_layers": 2, "num_attention_heads": 2, "mlp_dim": 32,
                             "iou_head_hidden_dim": 16, "num_multimask_outputs": 3},
    )
    torch.manual_seed(0)
    SamModel(config).save_pretrained(directory)
    SamProcessor(image_processor=SamImageProcessor(size={"longest_edge": 64}, pad_size={"height": 64, "width": 64},
                                                   mask_size={"longest_edge": 16}, mask_pad_size={"height": 16, "width": 16})
                 ).save_pretrained(directory)
    return directory


def t5_tokenizer(max_length: int = 16):
    """A character-level tokenizer with T5's special tokens (<pad> 0, </s> 1, <unk> 2), appending </s> like T5's."""
    import string

    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {token: i for i, token in enumerate(["<pad>", "</s>", "<unk>", *string.printable[:-5]])}
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Split(pattern="", behavior="isolated")
    backend.decoder = decoders.Fuse()
    backend.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
    return PreTrainedTokenizerFast(tokenizer_object=backend, pad_token="<pad>", eos_token="</s>", unk_token="<unk>",
                                   model_max_length=max_length)


def tiny_flux_parts(in_channels: int, out_channels: int | None, latent_channels: int) -> dict:
    """Random FLUX components (diffusers' get_dummy_components, with the T5 side built in code)."""
    import torch
    from diffusers import AutoencoderKL, FlowMatchEulerDiscreteScheduler, FluxTransformer2DModel
    from transformers import CLIPTextConfig, CLIPTextModel, T5Config, T5EncoderModel

    tokenizer, tokenizer_2 = clip_tokenizer(16), t5_tokenizer(16)
    vocab = tokenizer.get_vocab()
    torch.manual_seed(0)
    transformer = FluxTransformer2DModel(patch_size=1, in_channels=in_channels, out_channels=out_channels, num_layers=1,
                                         num_single_layers=1, attention_head_dim=16, num_attention_heads=2, joint_attention_dim=32,
                                         pooled_projection_dim=32, axes_dims_rope=[4, 4, 8])
    text_encoder = CLIPTextModel(CLIPTextConfig(
        vocab_size=len(vocab), hidden_size=32, intermediate_size=37, num_hidden_layers=1, num_attention_heads=4,
        max_position_embeddings=16, projection_dim=32, bos_token_id=vocab["<|startoftext|>"], eos_token_id=vocab["<|endoftext|>"],
        pad_token_id=vocab["<|endoftext|>"]))
    text_encoder_2 = T5EncoderModel(T5Config(vocab_size=len(tokenizer_2), d_model=32, d_kv=8, d_ff=37, num_layers=1, num_heads=4,
                                             pad_token_id=0, eos_token_id=1, decoder_start_token_id=0))
    vae = AutoencoderKL(sample_size=32, in_channels=3, out_channels=3, block_out_channels=(4,), layers_per_block=1,
                        latent_channels=latent_channels, norm_num_groups=1, use_quant_conv=False, use_post_quant_conv=False,
                        shift_factor=0.0609, scaling_factor=1.5035)
    return {"scheduler": FlowMatchEulerDiscreteScheduler(), "vae": vae, "text_encoder": text_encoder, "tokenizer": tokenizer,
            "text_encoder_2": text_encoder_2, "tokenizer_2": tokenizer_2, "transformer": transformer}


def tiny_flux_fill_pipeline():
    """A random FluxFillPipeline."""
    from diffusers import FluxFillPipeline

    # 20 inputs: packed latents (2 channels x 2x2) + packed masked-image latents (8) + the packed mask (1 x 2x2; this VAE keeps the size)
    return FluxFillPipeline(**tiny_flux_parts(in_channels=20, out_channels=8, latent_channels=2))


def tiny_flux_kontext_pipeline():
    """A random FluxKontextPipeline (the input image's latents join the sequence, not the channels)."""
    from diffusers import FluxKontextPipeline

    return FluxKontextPipeline(**tiny_flux_parts(in_channels=4, out_channels=None, latent_channels=1), image_encoder=None,
                               feature_extractor=None)
