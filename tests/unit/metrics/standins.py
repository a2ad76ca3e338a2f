"""Stand-in networks for metric tests: real library code paths with tiny random weights."""

from __future__ import annotations


def build_tiny_clip(seed: int = 0):
    """(CLIPModel, image processor, tokenizer): 2 layers, width 32, 32x32 images, a 14-word vocabulary.

    Tokenizer: a word-level `tokenizers` vocabulary wrapped in PreTrainedTokenizerFast, with
    [BOS] ... [EOS] framing so CLIP's EOS pooling works as with the real tokenizer.
    """
    import torch
    import transformers
    from tokenizers import Tokenizer, models, pre_tokenizers, processors

    words = ["a", "dog", "cat", "runs", "on", "the", "grass", "beach", "red", "ball"]
    vocab = {"[PAD]": 0, "[UNK]": 1, "[BOS]": 2, "[EOS]": 3} | {w: i + 4 for i, w in enumerate(words)}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    backend.post_processor = processors.TemplateProcessing(
        single="[BOS] $A [EOS]", special_tokens=[("[BOS]", 2), ("[EOS]", 3)]
    )
    tokenizer = transformers.PreTrainedTokenizerFast(tokenizer_object=backend, pad_token="[PAD]", unk_token="[UNK]")
    text = dict(
        vocab_size=len(vocab),
        hidden_size=32,
        intermediate_size=37,
        num_attention_heads=4,
        num_hidden_layers=2,
        max_position_embeddings=77,
        projection_dim=16,
        bos_token_id=2,
        eos_token_id=3,
        pad_token_id=0,
    )
    vision = dict(
        image_size=32,
        patch_size=8,
        hidden_size=32,
        intermediate_size=37,
        num_attention_heads=4,
        num_hidden_layers=2,
        projection_dim=16,
    )
    torch.manual_seed(seed)
    model = transformers.CLIPModel(transformers.CLIPConfig(text_config=text, vision_config=vision, projection_dim=16))
    image_processor = transformers.CLIPImageProcessorPil(
        size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}
    )
    return model, image_processor, tokenizer
