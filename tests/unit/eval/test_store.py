"""Run directory: the results log (torn lines), strict JSON."""

from __future__ import annotations

import json
import math

import pytest

from semcom.eval.store import RunStore, from_json_number, json_safe, safe_name


def test_results_log_survives_a_torn_line(tmp_path):
    store = RunStore(tmp_path)
    store.append({"image": "a", "cell": "x", "ssim": 0.5, "psnr": math.inf, "lpips": math.nan})
    with store.results_path.open("a") as handle:
        handle.write('{"image": "b", "cell": "x", "ss')  # a crash mid-write
    store.append({"image": "c", "cell": "x", "ssim": 0.7})
    rows = list(store.iter_results())
    assert [r["image"] for r in rows] == ["a", "c"]
    assert store.done() == {("a", "x"), ("c", "x")}
    assert rows[0]["psnr"] == "inf" and rows[0]["lpips"] is None  # strict JSON on disk
    for line in store.results_path.read_text().splitlines()[:1]:
        json.loads(line)


def test_json_safe_round_trip():
    data = json_safe({"a": [math.nan, math.inf, -math.inf, 1.5]})
    assert data == {"a": [None, "inf", "-inf", 1.5]}
    assert math.isnan(from_json_number(None)) and from_json_number("inf") == math.inf


def test_safe_names_are_unique_and_file_safe():
    a, b = safe_name("latent|int8:pc|5|0"), safe_name("latent|int8_pc|5|0")
    assert a != b and "/" not in a and "|" not in a


def test_a_config_that_is_not_json_is_named_in_the_error(tmp_path):
    (tmp_path / "config.json").write_text('{"limit":', encoding="utf-8")
    with pytest.raises(ValueError, match=r"config\.json is not valid JSON"):
        RunStore(tmp_path).read_json("config.json")
    assert RunStore(tmp_path).read_json("absent.json") is None
