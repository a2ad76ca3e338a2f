"""CLIP score with a tiny randomly initialised transformers CLIPModel (real code, random weights)."""

from __future__ import annotations

import numpy as np
import pytest

from semcom.metrics import ClipScorer, MetricUnavailable, cosine_to_score


def test_cosine_to_score_clips_negative_to_zero():
    np.testing.assert_allclose(cosine_to_score([-0.5, 0.0, 0.31, 1.0]), [0.0, 0.0, 31.0, 100.0])


def test_scores_are_in_range_and_pairwise(tiny_clip, images):
    scorer = ClipScorer(*tiny_clip)
    texts = ["a dog runs on the grass", "a red ball", "a cat on the beach", "the dog"]
    scores = scorer.text_score(images, texts)
    assert scores.shape == (4,) and np.all((scores >= 0) & (scores <= 100))
    # Pairwise: scoring a subset gives the same numbers as the full batch.
    np.testing.assert_allclose(scorer.text_score(images[1:3], texts[1:3]), scores[1:3], rtol=1e-4, atol=1e-4)


def test_image_against_itself_scores_100(tiny_clip, images):
    scorer = ClipScorer(*tiny_clip)
    np.testing.assert_allclose(scorer.image_score(images, images), 100.0, rtol=1e-5)
    other = scorer.image_score(images, images[::-1])
    assert np.all(other < 100.0) and np.all(other >= 0.0)


def test_text_embeddings_depend_on_the_words(tiny_clip):
    scorer = ClipScorer(*tiny_clip)
    emb = scorer.text_embeddings(["a dog", "a cat", "a dog"])
    assert float((emb[0] - emb[2]).abs().max()) < 1e-6
    assert float((emb[0] - emb[1]).abs().max()) > 1e-4


def test_mismatched_inputs_raise(tiny_clip, images):
    scorer = ClipScorer(*tiny_clip)
    with pytest.raises(ValueError, match="one text per image"):
        scorer.text_score(images, ["a dog"])
    with pytest.raises(ValueError, match="no tokenizer"):
        ClipScorer(tiny_clip[0], tiny_clip[1]).text_score(images[:1], ["a dog"])


def test_pretrained_missing_from_cache_is_unavailable(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(MetricUnavailable, match="not in HF cache; set HF_HOME or run with hub access"):
        ClipScorer.pretrained("openai/clip-vit-base-patch32")
