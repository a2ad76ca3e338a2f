"""Screenshot of `semcom ui` for the README: docs/images/ui.png.

Starts `semcom ui` on a free loopback port (its default back-end: the TAEF2 codec when the shared
weights load, else tiny), transmits the first sample photo at the given SNR in headless chromium
and saves the page.

    PYTHONPATH=$PWD python scripts/ui_screenshot.py --snr 7 --out docs/images/ui.png [-- extra semcom ui args]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import urllib.request

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


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--snr", default="7")
    ap.add_argument("--out", default="docs/images/ui.png")
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("ui_args", nargs="*")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    from semcom.loadtest.cluster import free_port, stop_process

    port = free_port()
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"}
    proc = subprocess.Popen([sys.executable, "-m", "semcom", "ui", "--port", str(port), *args.ui_args], env=env)
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(url, timeout=5)
                break
            except OSError:
                if proc.poll() is not None:
                    return 1
                time.sleep(1)
        import tempfile

        with sync_playwright() as pw, tempfile.TemporaryDirectory() as profile:
            ctx = pw.chromium.launch_persistent_context(
                profile,
                executable_path=args.chromium,
                headless=True,
                args=FLAGS,
                viewport={"width": 1400, "height": 1000},
            )
            page = ctx.new_page()
            page.set_default_timeout(600_000)
            page.goto(url)
            box = page.locator("#snr input[type=number]")
            box.fill(args.snr)
            box.press("Enter")
            page.locator("#transmit").click()
            page.wait_for_selector("#status >> text=Done")
            time.sleep(1)
            page.screenshot(path=args.out, full_page=True)
            ctx.close()
    finally:
        stop_process(proc, 30)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
