"""Shared by the browser tests of `semcom ui`: start the page as a real `semcom ui` process on a
free loopback port, and a headless chromium page (Playwright) whose every request is recorded and
anything not on loopback aborted (the network is closed; the page must not need it).

Skips, with the reason, when gradio, playwright or the browser is missing (scripts/ci_browser.sh
installs them)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import pytest

from semcom.loadtest.cluster import free_port, stop_process  # the one free-port and stop helpers

CHROMIUM = os.environ.get("SEMCOM_TEST_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CAPTION = "a red kite over a green field"
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
START_TIMEOUT_S = 240


def _missing() -> str:
    import importlib.util

    if importlib.util.find_spec("gradio") is None:
        return "gradio not installed (pip install 'semcom[ui]')"
    if importlib.util.find_spec("playwright") is None:
        return "playwright not installed (pip install playwright, or scripts/ci_browser.sh)"
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        return f"no browser at {CHROMIUM}: install it with scripts/ci_browser.sh"
    return ""


def pytest_collection_modifyitems(config, items):
    reason = _missing()
    if reason:
        for item in items:
            if "tests/integration/ui" in str(item.fspath).replace(os.sep, "/"):
                item.add_marker(pytest.mark.skip(reason=reason))


@contextmanager
def start_ui(args: list[str], log: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """`semcom ui ARGS` on a free loopback port; yields its URL once it answers; always stopped."""
    port = free_port()
    full_env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", **(env or {})}
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "semcom", "ui", "--host", "127.0.0.1", "--port", str(port), *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=full_env,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
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
                pytest.fail(f"semcom ui did not answer within {START_TIMEOUT_S} s: {log.read_text()[-3000:]}")
            time.sleep(1)
        yield url
    finally:
        stop_process(proc, 20)


@pytest.fixture(scope="module")
def ui_url(tmp_path_factory):
    """The in-process page: tiny profile, 64x64, 2 DDIM steps, a 2 MB upload cap."""
    log = tmp_path_factory.mktemp("ui") / "ui.log"
    with start_ui(
        ["--profile", "tiny", "--image-size", "64", "--steps", "2"], log, env={"SEMCOM_UI_MAX_UPLOAD_BYTES": "2000000"}
    ) as url:
        yield url


@pytest.fixture()
def page(tmp_path):
    from playwright.sync_api import sync_playwright

    requests: list[str] = []
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS,
            viewport={"width": 1400, "height": 1800},
        )
        try:

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
    assert any(urlparse(u).hostname in LOOPBACK for u in requests), "the request recorder saw nothing"
    outside = sorted(
        {u for u in requests if (urlparse(u).hostname or "") not in LOOPBACK and not u.startswith(("data:", "blob:"))}
    )
    assert not outside, f"the page fetched from outside loopback: {outside}"


def photo(tmp_path: Path) -> Path:
    from PIL import Image
    from skimage import data

    path = tmp_path / "chelsea.png"
    Image.fromarray(data.chelsea()).save(path)
    return path


def set_number(page, elem_id: str, value: str) -> None:
    box = page.locator(f"#{elem_id} input[type=number]")
    box.fill(value)
    box.press("Enter")
