"""docs/configuration.md is generated from semcom/config.py and must not drift from it."""

from pathlib import Path

from semcom import config

REPO = Path(__file__).resolve().parents[2]


def test_configuration_doc_lists_every_setting_with_its_default():
    doc = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert config.markdown_table() in doc, "regenerate: semcom config --markdown (see docs/configuration.md)"


def test_every_default_parses():
    for env in config.SETTINGS:
        config.get(env, environ={})


def test_latent_encoding_setting_names_every_encoding():
    from semcom.payload.latent import ENCODINGS

    help_text = config.SETTINGS["SEMCOM_LATENT_ENCODING"].help
    missing = [name for name in ENCODINGS if f" {name} " not in f" {help_text.replace('|', ' ')} "]
    assert not missing, f"SEMCOM_LATENT_ENCODING help omits {missing}"
