"""`semcom demo`, the run: start the three services locally, send every cell, collect the
records, then the sheet and the report."""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image

from semcom.cli.demo.plan import (
    CLEAN,
    ESN0_OFFSET_DB,
    Plan,
    amc_drop_reason,
    build_request,
    cell_seeds,
    make_plan,
)
from semcom.cli.demo.report import markdown_report, print_cpu, print_summary, summarise, write_report
from semcom.cli.demo.sheet import draw_figures
from semcom.payload.caption import corrupted_positions
from semcom.variants import Variant

if TYPE_CHECKING:
    from semcom.rpc.client import SenderClient


def run(args: argparse.Namespace) -> int:
    args.snr_db = tuple(args.snr_db or ())
    try:
        return run_demo(args)
    except (RuntimeError, ValueError, OSError) as exc:
        print(f"semcom demo: error: {exc}", file=sys.stderr)
        return 1


def run_demo(args: argparse.Namespace) -> int:
    started = time.monotonic()
    plan = make_plan(args)
    if plan.notice:
        print(f"NOTE: {plan.notice}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print(f"starting receiver, channel and sender ({plan.spec.name} profile, {plan.size}x{plan.size}) ...")
    datas = {p.name: p.png() for p in plan.photos}
    originals = {name: Image.open(io.BytesIO(data)).convert("RGB") for name, data in datas.items()}
    streams = Streams(args, plan, datas, originals)
    services_run = streams.run(args.timeout, started)
    summary = summarise(streams.records, plan.variants, tuple(args.snr_db), streams.drops)
    print_summary(summary)
    draw_figures(out, plan, streams, tuple(args.snr_db), summary)
    report = write_report(args, plan, streams, services_run, summary, started)
    (out / "report.json").write_text(json.dumps(report, indent=2))
    (out / "report.md").write_text(markdown_report(report))
    print_cpu(services_run.cpu_s)
    print(
        f"wrote {out / 'contact_sheet.png'}, {out / 'ssim_vs_snr.png'}, {out / 'report.json'}, {out / 'report.md'} "
        f"({report['wall_s']:.1f} s in all)"
    )
    return 0


@dataclass(frozen=True)
class ServicesRun:
    """Where the services ran and what they cost."""

    services: dict[str, str]  # role -> address
    startup_s: float  # from the start of the demo until the services were up
    cpu_s: dict[str, float | None]  # CPU seconds per process (None: unknown)


@dataclass
class Streams:
    """The demo's transmissions: the clean channel first, then one stream per SNR with every photo
    and variant in it. Photo i gets the same sender/receiver seeds everywhere; channel noise
    differs per cell."""

    args: argparse.Namespace
    plan: Plan
    datas: dict[str, bytes]
    originals: dict[str, Image.Image]
    records: list[dict[str, Any]] = field(default_factory=list)
    # LDPC + AMC cells whose latent AMC drops (no MCS fits the airtime budget)
    drops: list[dict[str, Any]] = field(default_factory=list)
    images: dict[tuple[str, str, float | None], Image.Image] = field(default_factory=dict)
    latent_values: int = 0  # values per latent, learnt from the clean channel's float64 latent

    def run(self, timeout_s: float, started: float) -> ServicesRun:
        """Start the three services, send every stream through them, stop them."""
        from semcom.loadtest.cluster import LocalServices
        from semcom.rpc.client import SenderClient
        from semcom.rpc.tls import TlsConfig

        plan = self.plan
        with LocalServices(
            profile=plan.profile, image_size=plan.size, env=_service_env(self.args.preset), start_timeout_s=timeout_s
        ) as pipe:
            services = {role: pipe.address(role) for role in ("sender", "channel", "receiver")}
            startup_s = time.monotonic() - started
            print(f"services up after {startup_s:.1f} s: {services}")
            with SenderClient(pipe.sender, tls=TlsConfig(insecure=True), deadline_s=timeout_s) as client:
                streams = [(None, (CLEAN,))] + [(snr, plan.variants) for snr in self.args.snr_db]
                for j, (snr, group) in enumerate(streams):
                    self._stream(client, j, snr, group)
            # CPU seconds each process used: on a shared machine these move far less with other
            # people's load than wall time does (the 90 s target is for 2 otherwise idle cores).
            cpu_s = {role: pipe.services[role].cpu_seconds() for role in ("sender", "channel", "receiver")}
        cpu_s["demo"] = time.process_time()
        return ServicesRun(services=services, startup_s=startup_s, cpu_s=cpu_s)

    def _stream(self, client: SenderClient, j: int, snr: float | None, group: tuple[Variant, ...]) -> None:
        """Stream j: every photo through every variant of `group` at Eb/N0 `snr` (None: clean channel)."""
        import grpc

        esn0 = (snr if snr is not None else 0.0) + ESN0_OFFSET_DB
        dropped = self._amc_drops(snr, esn0)
        photos, steps = self.plan.photos, self.plan.steps
        requests = [
            build_request(
                v,
                p.name,
                self.datas[p.name],
                p.caption if self.plan.captions_given else None,
                esn0,
                seeds=cell_seeds(self.args.seed, i, j, k),
                steps=steps,
            )
            for i, p in enumerate(photos)
            for k, v in enumerate(group)
            if not (dropped and v.name == "ldpc-amc")
        ]
        t0 = time.monotonic()
        try:
            results = list(client.transmit(requests))
        except grpc.RpcError as exc:
            where = "clean channel" if snr is None else f"Eb/N0 {snr:g} dB"
            raise RuntimeError(f"stream at {where}: {exc.code().name}: {exc.details()}") from None
        for result in results:
            self._record(result, snr, esn0)
        where = "clean channel" if snr is None else f"Eb/N0 {snr:5.2f} dB (Es/N0 {esn0:.2f})"
        print(f"  {where}: {len(results)} transmissions in {time.monotonic() - t0:.1f} s")

    def _amc_drops(self, snr: float | None, esn0: float) -> str:
        """Why AMC drops the LDPC cells' latent at this SNR ("" when it sends it; always "" on the
        clean channel); a drop is recorded for every photo. The LDPC cells decode at k = 0: a
        dropped latent leaves no image."""
        if snr is None:
            return ""
        dropped = amc_drop_reason(esn0, self.latent_values)
        if dropped:
            self.drops.extend(
                {"image": p.name, "variant": "ldpc-amc", "ebn0_db": snr, "reason": dropped} for p in self.plan.photos
            )
        return dropped

    def _record(self, result: Any, snr: float | None, esn0: float) -> None:
        """Score one transmission result against its original and keep its record and image."""
        name, key, _ = result.request_id.split("|")
        recon = Image.open(io.BytesIO(result.reconstruction.data)).convert("RGB")
        reference = self.originals[name].resize(recon.size, Image.Resampling.LANCZOS)
        self.records.append(transmission_record(result, name, key, snr, esn0, reference, recon))
        self.images[(name, key, snr)] = recon
        if key == "clean":  # float64: 64 bits per latent value
            self.latent_values = int(result.report.latent.info_bits) // 64


def _service_env(preset: str | None) -> dict[str, str]:
    """Environment of the three service processes."""
    # Two model processes (sender, receiver) work at once when pipelined: give each half the cores,
    # so torch's OpenMP threads do not oversubscribe the machine (which slows them tenfold).
    threads = max(1, (os.cpu_count() or 2) // 2)
    env = {"SEMCOM_TORCH_THREADS": str(threads)}
    if preset:
        env["SEMCOM_PRESET"] = preset  # sender (BLIP decoding) and receiver (diffusion) alike
    return env


def transmission_record(
    result: Any, name: str, key: str, snr: float | None, esn0: float, reference: Image.Image, recon: Image.Image
) -> dict[str, Any]:
    """One transmission's row of report.json: quality against the original, the link's counts, captions, timings."""
    from semcom.metrics import psnr, ssim

    sent = result.caption_sent.decode("ascii", "replace")
    received = result.caption_received.decode("ascii", "replace")
    value_psnr = float(psnr(reference, recon))
    latent = result.report.latent
    return {
        "image": name,
        "variant": key,
        "ebn0_db": snr,
        "esn0_db": round(esn0, 4),
        "ssim": float(ssim(reference, recon)),
        "psnr_db": value_psnr if math.isfinite(value_psnr) else None,
        "latent_symbols": int(latent.symbols),
        "latent_analog_symbols": int(latent.analog_symbols),
        "latent_bits": int(latent.bits),
        "latent_info_bits": int(latent.info_bits),
        "latent_bit_errors": int(latent.bit_errors),
        "latent_values_sanitised": int(latent.values_sanitised),
        "mcs": latent.mcs,
        "segments": int(latent.segments),
        "segments_failed": int(latent.segments_failed),
        "latent_dropped": bool(result.report.latent_dropped),
        "drop_reason": result.report.drop_reason,
        "caption_symbols": int(result.report.caption.symbols),
        "caption_bit_errors": int(result.report.caption.bit_errors),
        "caption_sent": sent,
        "caption_received": received,
        "caption_corrupted": corrupted_positions(sent, received),
        "steps_executed": int(result.steps_executed),
        "timings": dict(sorted(result.timings.items())),
    }
