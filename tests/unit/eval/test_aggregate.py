"""Mean and 95% t-interval per cell, CSV schemas, FID from stored features."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest

from semcom.eval.aggregate import (
    AGGREGATE_COLUMNS,
    PER_IMAGE_COLUMNS,
    aggregate_rows,
    aggregate_run,
    cell_fid,
    summarize,
)
from semcom.eval.store import RunStore


def test_summary_matches_the_t_interval_by_hand():
    stat = summarize([1.0, 2.0, 3.0, 4.0, math.nan])  # NaN = unavailable, not counted
    s = math.sqrt(sum((v - 2.5) ** 2 for v in (1, 2, 3, 4)) / 3)
    assert (stat.n, stat.mean, stat.std) == (4, 2.5, pytest.approx(s))
    assert stat.ci95 == pytest.approx(3.182446305284263 * s / 2)  # t_{0.975, 3}


def test_summary_edge_cases():
    assert summarize([]).n == 0 and math.isnan(summarize([]).mean)
    one = summarize([0.3])
    assert one.mean == 0.3 and math.isnan(one.ci95)
    inf = summarize([20.0, math.inf])
    assert inf.mean == math.inf and math.isnan(inf.ci95)


def _row(image, snr, ssim, variant="int8"):
    return {
        "image": image,
        "cell": f"latent|{variant}|{snr:g}|0",
        "mode": "latent",
        "variant": variant,
        "encoding": variant,
        "snr_db": snr,
        "steps": 0,
        "ssim": ssim,
        "psnr": 20.0 + ssim,
        "lpips": math.nan,
        "clip_caption": math.nan,
        "clip_image": math.nan,
        "latent_bytes": 16,
        "latent_ber": 0.01,
        "values_sanitised": 1,
        "chars_replaced": 0,
        "seconds": 1.0,
    }


def test_rows_are_grouped_and_ordered_by_cell():
    rows = [_row("a", 10.0, 0.8), _row("a", 5.0, 0.4), _row("b", 5.0, 0.6), _row("b", 10.0, 0.9)]
    table = aggregate_rows(rows)
    assert [r["snr_db"] for r in table] == [5.0, 10.0]
    assert table[0]["ssim_mean"] == pytest.approx(0.5) and table[0]["n_images"] == 2
    assert math.isnan(table[0]["lpips_mean"]) and table[0]["lpips_n"] == 0


def test_fid_from_stored_features(tmp_path):
    store = RunStore(tmp_path)
    rng = np.random.default_rng(0)
    shift = np.array([1.0, -2.0, 0.5])
    for i in range(40):
        ref = rng.normal(size=3)
        np.save(_mk(store.feature_path(f"im{i}", None)), ref)
        np.save(_mk(store.feature_path(f"im{i}", "c")), ref + shift)
    value, n = cell_fid(store, [f"im{i}" for i in range(40)], "c")
    assert n == 40 and value == pytest.approx(float(shift @ shift), rel=1e-5)
    assert math.isnan(cell_fid(store, ["im0"], "c")[0])  # one image: no Gaussian fit


def _mk(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def test_csv_schemas_and_nan_spelling(tmp_path):
    store = RunStore(tmp_path)
    for row in (_row("a", 5.0, 0.4), _row("b", 5.0, 0.6)):
        store.append(row)
    store.write_json("metrics.json", {"lpips": {"available": False, "reason": "lpips not installed"}})
    aggregate_run(tmp_path)
    with (tmp_path / "per_image.csv").open() as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == PER_IMAGE_COLUMNS
        first = next(reader)
        assert first["lpips"] == "nan" and float(first["ssim"]) == 0.4
    with (tmp_path / "aggregate.csv").open() as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == AGGREGATE_COLUMNS
        (row,) = list(reader)
        assert float(row["ssim_mean"]) == pytest.approx(0.5) and row["lpips_mean"] == "nan"
    summary = store.read_json("aggregate.json")
    assert summary["unavailable"] == {"lpips": "lpips not installed"}
    assert summary["cells"][0]["lpips_mean"] is None  # strict JSON: NaN -> null


def test_empty_run_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match="holds no results"):
        aggregate_run(tmp_path)
