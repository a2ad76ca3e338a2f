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
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

pytest.importorskip("gradio", reason="semcom[ui] not installed (pip install 'semcom[ui]')")
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed (pip install 'semcom[ui]')")

CHROMIUM = os.environ.get("SEMCOM_TEST_CHROMIUM", "/usr/bin/chromium")
if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
    pytest.skip(f"no browser at {CHROMIUM}: install it with scripts/ci_browser.sh", allow_module_level=True)

pytestmark = pytest.mark.slow
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
CAPTION = "a red kite over a green field"
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ui_url(tmp_path_factory):
    port = _free_port()
    log = tmp_path_factory.mktemp("ui") / "ui.log"
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "SEMCOM_UI_MAX_UPLOAD_BYTES": "2000000"}
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "semcom", "ui", "--profile", "tiny", "--size", "64", "--steps", "2",
             "--host", "127.0.0.1", "--port", str(port)],
            stdout=out, stderr=subprocess.STDOUT, env=env,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 240
        while True:
            if proc.poll() is not None:
                pytest.fail(f"semcom ui exited with {proc.returncode}: {log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(url, timeout=5) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"semcom ui did not answer within 240 s: {log.read_text()[-3000:]}")
            time.sleep(1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture()
def page(tmp_path):
    requests: list[str] = []
    with sync_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True, args=FLAGS,
            viewport={"width": 1400, "height": 1800},
        )
        try:
            # the network is closed: anything not on loopback is aborted, and recorded
            def route(r):
                requests.append(r.request.url)
                host = urlparse(r.request.url).hostname or ""
                return r.continue_() if host in LOOPBACK or r.request.url.startswith(("data:", "blob:")) else r.abort()

            context.route("**/*", route)
            pg = context.new_page()
            pg.set_default_timeout(240_000)
            yield pg
        finally:
            context.close()
    outside = sorted({u for u in requests if (urlparse(u).hostname or "") not in LOOPBACK
                      and not u.startswith(("data:", "blob:"))})
    assert not outside, f"the page fetched from outside loopback: {outside}"


def _photo(tmp_path: Path) -> Path:
    from PIL import Image
    from skimage import data

    path = tmp_path / "chelsea.png"
    Image.fromarray(data.chelsea()).save(path)
    return path


def _set_number(page, elem_id: str, value: str) -> None:
    box = page.locator(f"#{elem_id} input[type=number]")
    box.fill(value)
    box.press("Enter")


def test_upload_transmit_and_read_the_page(ui_url, page, tmp_path):
    from PIL import Image

    page.goto(ui_url)
    page.locator("#upload input[type=file]").set_input_files(str(_photo(tmp_path)))
    page.wait_for_selector("#upload >> text=chelsea.png")
    _set_number(page, "snr", "30")  # uncoded 16-QAM at 30 dB: the caption arrives intact
    page.locator("#caption textarea").fill(CAPTION)
    page.locator("#transmit").click()
    page.wait_for_selector("#status >> text=Done", timeout=300_000)

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
        assert recon.size == (64, 64)  # --size 64 on the tiny profile
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
    page.wait_for_selector("#status >> text=Done", timeout=300_000)
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
