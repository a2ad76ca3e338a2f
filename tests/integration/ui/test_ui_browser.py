"""`semcom ui` driven in a real headless browser (Debian's chromium through Playwright).

The page is started as `semcom ui` on a free loopback port (the tiny profile at 64x64, 2 DDIM
steps, so a transmission takes seconds on a CPU); the browser uploads a photo, sets the SNR,
transmits, and reads the reconstruction and the received caption off the page; a garbage upload
must come back as a message. Every request the page makes is recorded: none may leave loopback
(the page works offline). Skipped, with the reason, without gradio, playwright or chromium.
"""

from __future__ import annotations

import io
import os

import pytest

from tests.integration.ui.conftest import CAPTION
from tests.integration.ui.conftest import photo as _photo
from tests.integration.ui.conftest import set_number as _set_number

pytestmark = pytest.mark.slow


def test_upload_transmit_and_read_the_page(ui_url, page, tmp_path):
    from PIL import Image

    page.goto(ui_url)
    page.locator("#upload input[type=file]").set_input_files(str(_photo(tmp_path)))
    page.wait_for_selector("#upload >> text=chelsea.png")
    _set_number(page, "snr", "30")  # uncoded 16-QAM at 30 dB: the caption arrives intact
    page.locator("#caption textarea").fill(CAPTION)
    page.locator("#transmit").click()
    page.wait_for_selector("#status >> text=/Done:/", timeout=300_000)  # not the progress overlay's "done"

    assert "at 30 dB" in page.locator("#status").inner_text()
    assert page.locator("#caption-sent").inner_text() == CAPTION
    assert page.locator("#caption-received").inner_text() == CAPTION
    report = page.locator("#report").inner_text()
    for word in ("bit errors", "symbols", "MCS", "caption", "latent", "stage timings"):
        assert word in report
    # the reconstruction is a real picture on the page: fetch it the way the browser does
    src = page.locator("#reconstruction img").get_attribute("src")
    assert src
    body = page.request.get(src if "://" in src else ui_url.rstrip("/") + "/" + src.lstrip("/")).body()
    with Image.open(io.BytesIO(body)) as recon:
        assert recon.size == (64, 64)  # --image-size 64 on the tiny profile
    assert page.locator("#paper img").count() == 1  # the paper's float64 at the same SNR
    page.screenshot(path=str(tmp_path / "ui.png"), full_page=True)


def test_low_snr_corrupts_and_highlights_the_caption(ui_url, page, tmp_path):
    page.goto(ui_url)
    page.locator("#upload input[type=file]").set_input_files(str(_photo(tmp_path)))
    page.wait_for_selector("#upload >> text=chelsea.png")
    _set_number(page, "snr", "-5")  # uncoded 16-QAM at -5 dB Eb/N0: about a fifth of the bits flip
    page.locator("#caption textarea").fill(CAPTION)
    page.get_by_label("also show the paper's float64 (uncoded) at the same SNR").uncheck()
    page.locator("#transmit").click()
    page.wait_for_selector("#status >> text=/Done:/", timeout=300_000)  # not the progress overlay's "done"
    received = page.locator("#caption-received").inner_text()
    assert len(received) == len(CAPTION) and received != CAPTION
    marked = page.locator("#caption-received mark.corrupted")
    assert marked.count() >= 1
    wrong = sum(a != b for a, b in zip(received, CAPTION))
    assert sum(len(t) for t in marked.all_inner_texts()) == wrong


def test_garbage_upload_is_refused_with_a_message(ui_url, page, tmp_path):
    junk = tmp_path / "holiday.png"
    junk.write_bytes(os.urandom(4096))
    page.goto(ui_url)
    page.locator("#upload input[type=file]").set_input_files(str(junk))
    page.wait_for_selector("#upload >> text=holiday.png")
    page.locator("#transmit").click()
    page.wait_for_selector("#status >> text=upload refused", timeout=120_000)
    status = page.locator("#status").inner_text()
    assert "not an image" in status
    assert "Traceback" not in page.content()
    assert page.locator("#reconstruction img").count() == 0


def test_too_large_upload_is_refused_with_a_message(ui_url, page, tmp_path):
    from PIL import Image

    big = tmp_path / "huge.png"  # a valid PNG of ~3 MB (noise does not compress) over the 2 MB cap
    Image.frombytes("RGB", (1024, 1024), os.urandom(1024 * 1024 * 3)).save(big)
    assert big.stat().st_size > 2_000_000
    page.goto(ui_url)
    page.locator("#upload input[type=file]").set_input_files(str(big))
    page.wait_for_selector("#upload >> text=huge.png")
    page.locator("#transmit").click()
    page.wait_for_selector("#status >> text=upload refused", timeout=120_000)
    assert "more than the limit of 2000000 bytes" in page.locator("#status").inner_text()
    assert "Traceback" not in page.content()
    assert page.locator("#reconstruction img").count() == 0


def test_sweep_tab_plots_ssim_against_snr(ui_url, page, tmp_path):
    page.goto(ui_url)
    page.locator("#caption textarea").fill(CAPTION)  # the first sample photo, the form's settings
    page.get_by_role("tab", name="SNR sweep").click()
    page.get_by_label("float64 (the paper), uncoded").uncheck()  # one variant ...
    page.locator("#snrs textarea").fill("0 20")  # ... at two SNRs
    page.locator("#sweep").click()
    page.wait_for_selector("#status >> text=Sweep done: 2 transmissions", timeout=300_000)
    rows = page.locator("#sweep-table tr")
    assert rows.count() == 3  # header + 2 cells
    cells = [rows.nth(i).locator("td").all_inner_texts() for i in (1, 2)]
    assert [c[0] for c in cells] == ["as set on the form"] * 2 and [c[1] for c in cells] == ["0", "20"]
    assert all(0.0 < float(c[2]) <= 1.0 and 0.0 < float(c[3]) <= 1.0 for c in cells)  # SSIM, MS-SSIM
    # latent policy auto on an uncoded link = the 5 dB threshold: dropped at 0 dB, sent at 20 dB
    assert [c[5] for c in cells] == ["dropped", ""]
    assert page.locator("#sweep-plot img, #sweep-plot svg, #sweep-plot canvas").count() >= 1
