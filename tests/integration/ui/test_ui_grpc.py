"""`semcom ui --to SENDER` in front of the three real services (tiny profile, 64x64, loopback):
the page transmits through sender -> channel_sim -> receiver and shows what came back; when the
sender is gone, the page says so in words (the gRPC status), not with a stack trace."""

from __future__ import annotations

import pytest

from tests.integration.services.procs import ServiceProcess, start_all, stop_all
from tests.integration.ui.conftest import CAPTION, photo, set_number, start_ui

pytestmark = pytest.mark.slow


def test_page_fronts_a_running_sender(page, tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    common = {"SEMCOM_INSECURE": "true"}
    receiver = ServiceProcess("receiver", logs, env=common)
    channel = ServiceProcess("channel", logs, args=["--upstream", receiver.target, "--snr-db", "10"], env=common)
    sender = ServiceProcess("sender", logs, args=["--upstream", channel.target], env=common)
    services = [receiver, channel, sender]
    try:
        start_all(services)
        with start_ui(
            ["--to", sender.target, "--insecure", "--steps", "2", "--deadline-s", "60"], tmp_path / "ui.log"
        ) as url:
            page.goto(url)
            page.locator("#upload input[type=file]").set_input_files(str(photo(tmp_path)))
            page.wait_for_selector("#upload >> text=chelsea.png")
            set_number(page, "snr", "30")
            page.locator("#caption textarea").fill(CAPTION)
            page.get_by_label("also show the paper's float64 (uncoded) at the same SNR").uncheck()
            page.locator("#transmit").click()
            page.wait_for_selector("#status >> text=/Done:/", timeout=300_000)  # not the progress overlay's "done"
            assert f"sender at {sender.target}" in page.locator("#status").inner_text()
            assert page.locator("#caption-received").inner_text() == CAPTION
            report = page.locator("#report").inner_text()
            assert "Eb/N0 30.00 dB" in report  # the page's SNR overrode the proxy's 10 dB
            assert page.locator("#reconstruction img").count() == 1

            stop_all([sender])  # the deployment goes away under the page
            page.locator("#transmit").click()
            page.wait_for_selector("#status >> text=Error", timeout=120_000)
            status = page.locator("#status").inner_text()
            assert f"the sender at {sender.target} answered UNAVAILABLE" in status
            assert "Traceback" not in page.content()
    finally:
        stop_all(services)
