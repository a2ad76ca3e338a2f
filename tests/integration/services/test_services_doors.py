"""One transmission, three doors, one result (issue 13).

The same image, seeds and channel go through (1) an evaluation sweep row (`semcom.eval.Sweep`),
(2) `semcom transmit` (the CLI's own code path, in this process) replaying the row's recorded
per-role seeds with `--seeds`, and (3) the three services on loopback (sender -> channel_sim ->
receiver) with the same seeds on the wire. Over modes x SNR convention x FEC x channel x adaptive
strength, the reports must agree exactly (bits, bit errors, symbols, MCS, drop decision, both SNR
numbers, mode, steps, seed) and the reconstructions to within 1/255 (the services run their own
torch processes; in practice the images are identical).

The SNR is one physical channel written two ways (Eb/N0 7 dB = Es/N0 13.02 dB for 16-QAM), so
the ebn0 and esn0 runs must also agree with each other on everything the receiver does with the
SNR (adaptive strength): the bug this guards against made the receiver read 7 as Eb/N0 in one
case and 13.02 in the other.

The sweep has no "auto" mode; auto is compared between `semcom transmit` and the services. On an
uncoded link every compared latent had bit errors (the comparison is not of clean channels).

Beyond that grid (issue 23): the latent policies that drop the latent (threshold, AMC), LDPC with
AMC, and the receiver's sMMSE repair go through every door a person reaches with a user seed only
(`semcom transmit --seed`, the services' `seed`, the web UI's in-process and gRPC back-ends) and
must give what `semcom transmit --seeds` gives with the seeds the derivation names
(`semcom.pipeline.seeds.derive_seed(seed, 0, role)`); the sweep's sMMSE and soft cells are replayed
through `semcom transmit` and the services with their recorded seeds. All of it reuses the one
session topology.
"""

from __future__ import annotations

import io
import itertools
import json
import math

import numpy as np
import pytest
from PIL import Image

from semcom.cli import main
from semcom.pipeline import RoleSeeds
from semcom.rpc.client import SenderClient, image_request
from semcom.rpc.convert import CHANNEL_MODELS, FEC_SCHEMES, LATENT_POLICIES, SNR_CONVENTIONS
from semcom.v1 import channel_pb2
from tests.integration.services.conftest import Topology

SCHEDULE, K = 4, 2
CAPTION = "a red disc on a blue gradient"
SNR = {"ebn0": 7.0, "esn0": 7.0 + 10 * math.log10(4)}  # the same physical channel, two conventions
COMBOS = list(itertools.product(("ebn0", "esn0"), ("none", "ldpc"), ("awgn", "rayleigh"), (False, True)))
REPORT_FIELDS = ("bits", "info_bits", "bit_errors", "symbols", "segments", "segments_failed", "mcs", "analog_symbols")


@pytest.fixture(scope="module")
def photo(tmp_path_factory) -> tuple:
    """A 64x64 structured image in a Flickr8k-style dataset folder with its caption file."""
    root = tmp_path_factory.mktemp("doors")
    (root / "images").mkdir()
    y, x = np.mgrid[0:64, 0:64].astype(np.float32)
    disc = ((x - 28) ** 2 + (y - 30) ** 2 < 200).astype(np.float32)
    rgb = np.stack([disc * 230, y / 63 * 120, x / 63 * 255], axis=-1).astype(np.uint8)
    path = root / "images" / "disc.png"
    Image.fromarray(rgb).save(path)
    (root / "captions.tsv").write_text(f"disc.png\t{CAPTION}\n")
    return root, path


@pytest.fixture(scope="module")
def offline(tmp_path_factory):
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the services run
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        yield
    torch.set_num_threads(threads)


def _sweep_rows(photo_root, out, combo) -> list[dict]:
    from semcom.eval.sweep import Sweep
    from semcom.eval.sweep_config import SweepConfig

    convention, fec, channel, adaptive = combo
    cfg = SweepConfig(
        data=photo_root,
        out=out,
        profile="tiny",
        caption_source="dataset",
        snr_db=(SNR[convention],),
        snr_convention=convention,
        channel=channel,
        fec=fec,
        mcs="auto",
        modes=("text", "text+latent", "latent"),
        encodings=("int8",),
        steps=(K,),
        schedule=SCHEDULE,
        guidance=9.0,
        size=64,
        seed=5,
        metrics=(),
        grid_images=1,
        adaptive_strength=adaptive,
    )
    Sweep(cfg).run(progress=False)
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines() if line.strip()]
    for row in rows:
        from semcom.eval.store import RunStore

        with Image.open(RunStore(out).sample_path(row["image"], row["cell"])) as image:
            row["pixels"] = np.asarray(image.convert("RGB"), dtype=np.int16)
    return rows


def _transmit(
    photo_path,
    out,
    combo,
    mode,
    strength,
    seeds: RoleSeeds | int,
    capsys,
    encoding="int8",
    policy="always",
    snr: float | None = None,
    extra: tuple[str, ...] = (),
) -> dict:
    """`semcom transmit` in this process; `seeds`: explicit per-role seeds (--seeds) or a user seed
    (--seed alone, as a person types it)."""
    convention, fec, channel, adaptive = combo
    seed_args = (
        ["--seeds", str(seeds.sender), str(seeds.channel), str(seeds.receiver)]
        if isinstance(seeds, RoleSeeds)
        else ["--seed", str(seeds)]
    )
    args = [
        "transmit",
        str(photo_path),
        "--profile",
        "tiny",
        "--image-size",
        "64",
        "--caption",
        CAPTION,
        "--encoding",
        encoding,
        "--snr-db",
        repr(SNR[convention] if snr is None else snr),
        "--snr-convention",
        convention,
        "--channel-model",
        channel,
        "--fec",
        fec,
        "--mcs",
        "auto",
        "--latent-policy",
        policy,
        "--mode",
        mode,
        "--steps",
        str(SCHEDULE),
        "--strength",
        repr(strength),
        "--guidance",
        "9",
        *seed_args,
        "--out",
        str(out),
        "--json",
        *extra,
    ]
    if adaptive:
        args.append("--adaptive-strength")
    capsys.readouterr()
    assert main(args) == 0
    (record,) = json.loads(capsys.readouterr().out)
    with Image.open(record["reconstruction"]) as image:
        record["pixels"] = np.asarray(image.convert("RGB"), dtype=np.int16)
    return record


def _service_request(
    photo_path,
    combo,
    mode,
    strength,
    seeds: RoleSeeds | int,
    request_id: str,
    encoding="int8",
    policy="always",
    snr: float | None = None,
    **options,
):
    """The services' request; `seeds`: explicit per-role seeds or a user seed (image index 0);
    `options`: image_request's sender/receiver options (per_channel, clip_percentile, latent_repair)."""
    convention, fec, channel, adaptive = combo
    link = channel_pb2.ChannelConfig(
        snr_db=SNR[convention] if snr is None else snr,
        snr_convention=SNR_CONVENTIONS[convention],
        model=CHANNEL_MODELS[channel],
        fec=FEC_SCHEMES[fec],
        mcs="auto",
        latent_policy=LATENT_POLICIES[policy],
        fading_block_length=128,
    )
    return image_request(
        photo_path,
        request_id=request_id,
        caption=CAPTION,
        latent_encoding=encoding,
        mode=mode,
        steps=SCHEDULE,
        strength=strength,
        guidance_scale=9.0,
        **({"seeds": seeds} if isinstance(seeds, RoleSeeds) else {"seed": seeds, "index": 0}),
        adaptive_strength=adaptive,
        channel=link,
        **options,
    )


def _assert_same_report(a: dict, b: dict, where: str) -> None:
    for part in ("caption", "latent"):
        for name in REPORT_FIELDS:
            assert a[part][name] == b[part][name], f"{where}: report.{part}.{name} {a[part][name]} != {b[part][name]}"
    assert a["latent_dropped"] == b["latent_dropped"], where
    assert a["drop_reason"] == b["drop_reason"], where
    assert a["latent_analog"] == b["latent_analog"], where
    assert a["total_symbols"] == b["total_symbols"], where
    assert a["esn0_db"] == pytest.approx(b["esn0_db"], abs=1e-4), where  # float32 on the wire
    assert a["ebn0_db"] == pytest.approx(b["ebn0_db"], abs=1e-4), where


def _assert_same_pixels(a: np.ndarray, b: np.ndarray, where: str) -> None:
    assert a.shape == b.shape, where
    assert int(np.abs(a - b).max()) <= 1, f"{where}: reconstructions differ by {int(np.abs(a - b).max())}/255"


def _report_dict(proto) -> dict:
    import dataclasses

    from semcom.rpc.convert import report_from_proto

    return dataclasses.asdict(report_from_proto(proto))


def _transmit_all(topology: Topology, requests: list) -> list:
    """The services' TransmitResults of `requests`, sent in one stream through the sender, in order."""
    with SenderClient(topology.sender.target, insecure=True, deadline_s=600) as client:
        served = list(client.transmit(iter(requests)))
    assert [r.request_id for r in served] == [q.request_id for q in requests]
    return served


def _served_record(result) -> dict:
    """A services TransmitResult in the shape of `semcom transmit --json`'s record."""
    from semcom.rpc.convert import MODES

    with Image.open(io.BytesIO(result.reconstruction.data)) as image:
        pixels = np.asarray(image.convert("RGB"), dtype=np.int16)
    return {
        "report": _report_dict(result.report),
        "mode_used": next(name for name, number in MODES.items() if number == result.mode_used),
        "steps_executed": result.steps_executed,
        "strength_used": result.strength_used,
        "caption_received": result.caption_received.decode("ascii"),
        "pixels": pixels,
    }


def _assert_same_record(a: dict, b: dict, where: str) -> None:
    """Two doors' records of one transmission: the same report, mode, steps, strength, received
    caption, and image within 1/255."""
    _assert_same_report(a["report"], b["report"], where)
    assert (a["mode_used"], a["steps_executed"]) == (b["mode_used"], b["steps_executed"]), where
    assert a["strength_used"] == pytest.approx(b["strength_used"], abs=1e-6), where
    assert a["caption_received"] == b["caption_received"], where
    _assert_same_pixels(a["pixels"], b["pixels"], where)


def test_every_door_gives_the_same_transmission(topology: Topology, photo, offline, tmp_path, capsys) -> None:
    root, photo_path = photo
    cases = []  # (combo, mode, strength, seeds, sweep row or None)
    for n, combo in enumerate(COMBOS):
        rows = _sweep_rows(root, tmp_path / f"sweep{n}", combo)
        assert sorted(r["mode"] for r in rows) == ["latent", "text", "text+latent"]
        for row in rows:
            seeds = RoleSeeds(**row["seeds"])
            assert len({seeds.sender, seeds.channel, seeds.receiver}) == 3  # independent roles
            cases.append((combo, row["mode"], min(1.0, (row["steps"] + 1e-9) / SCHEDULE), seeds, row))
        cases.append((combo, "auto", (K + 1e-9) / SCHEDULE, RoleSeeds.derive(11, n), None))

    requests = [
        _service_request(photo_path, combo, mode, strength, seeds, f"r{i}")
        for i, (combo, mode, strength, seeds, _row) in enumerate(cases)
    ]
    served = _transmit_all(topology, requests)

    adaptive_strengths: dict[tuple, float] = {}
    for i, ((combo, mode, strength, seeds, row), result) in enumerate(zip(cases, served)):
        where = f"{combo} {mode}"
        rec = _transmit(photo_path, tmp_path / f"transmit{i}", combo, mode, strength, seeds, capsys)
        # transmit <-> services
        _assert_same_record(rec, _served_record(result), f"{where}: transmit vs services")
        assert rec["seed"] == result.seed, where
        if row is not None:  # sweep <-> transmit
            assert row["mode"] == mode and row["steps_executed"] == rec["steps_executed"], where
            for part, key in (("caption", "caption"), ("latent", "latent")):
                assert row[f"{key}_bits"] == rec["report"][part]["info_bits"], where
                assert row[f"{key}_bit_errors"] == rec["report"][part]["bit_errors"], where
            assert row["latent_dropped"] == rec["report"]["latent_dropped"], where
            assert row["channel_symbols"] == rec["report"]["total_symbols"], where
            assert row["caption_received"] == rec["caption_received"], where
            assert row["ebn0_db"] == pytest.approx(rec["report"]["ebn0_db"], abs=1e-9), where
            _assert_same_pixels(row["pixels"], rec["pixels"], f"{where}: sweep vs transmit")
        if mode != "text" and combo[1] == "none":  # noise on an uncoded link: the compared latents were hit
            assert rec["report"]["latent"]["bit_errors"] > 0, where
        if combo[3] and mode == "text+latent":
            adaptive_strengths[(combo[0], combo[1], combo[2])] = rec["strength_used"]
        if not combo[3] and mode == "text+latent":
            assert rec["strength_used"] == pytest.approx(strength), where  # adaptive off: as asked

    # one physical channel, two conventions: the receiver's adaptive strength is the same
    for fec, channel in itertools.product(("none", "ldpc"), ("awgn", "rayleigh")):
        eb, es = adaptive_strengths[("ebn0", fec, channel)], adaptive_strengths[("esn0", fec, channel)]
        assert eb == pytest.approx(es, abs=1e-6), (fec, channel, eb, es)


ANALOG_SPECS = ("analog", "analog:budget=float16")  # the int8 latent's airtime, the float16 latent's


def test_analog_latent_gives_the_same_transmission_through_every_door(
    topology: Topology, photo, offline, tmp_path, capsys
) -> None:
    """The analog latent (docs/channel.md "Analog latent") through `semcom transmit` and the three
    services: modes (latent, text+latent, auto with adaptive strength) x SNR convention x FEC (the
    caption's; the analog header is always coded) x channel, the two specs alternating, latent
    policy auto (never drops an analog latent for low SNR). Reports agree field by field, the
    images within 1/255; the budget is spent exactly on the uncoded link; one physical channel in
    two conventions gives the same adaptive strength."""
    from semcom.link import analog

    _, photo_path = photo
    cases = []  # (combo, spec, mode, strength, seeds)
    for n, (convention, fec, channel) in enumerate(
        itertools.product(("ebn0", "esn0"), ("none", "ldpc"), ("awgn", "rayleigh"))
    ):
        spec = ANALOG_SPECS[(n // 2) % 2]
        seeds = RoleSeeds.derive(24, n % 4)  # the same seeds for the same (fec, channel) in both conventions
        for mode, adaptive in (("latent", False), ("text+latent", False), ("auto", True)):
            cases.append(((convention, fec, channel, adaptive), spec, mode, (K + 1e-9) / SCHEDULE, seeds))
    requests = [
        _service_request(photo_path, combo, mode, strength, seeds, f"a{i}", encoding=spec, policy="auto")
        for i, (combo, spec, mode, strength, seeds) in enumerate(cases)
    ]
    served = _transmit_all(topology, requests)

    seen: dict[tuple, tuple] = {}
    for i, ((combo, spec, mode, strength, seeds), result) in enumerate(zip(cases, served)):
        where = f"{combo} {spec} {mode}"
        rec = _transmit(
            photo_path, tmp_path / f"analog{i}", combo, mode, strength, seeds, capsys, encoding=spec, policy="auto"
        )
        _assert_same_record(rec, _served_record(result), f"{where}: transmit vs services")
        assert rec["seed"] == result.seed, where
        # an analog latent, sent (policy auto), reported with only Es/N0 defined for it
        report = rec["report"]
        assert report["latent_analog"] and not report["latent_dropped"], where
        assert rec["encoding"] == spec and "only Es/N0" in rec["snr_note"], where
        assert report["latent"]["mcs"] == analog.HEADER_MCS and report["latent"]["analog_symbols"] > 0, where
        assert rec["mode_used"] == ("latent" if mode == "latent" else "text+latent"), where
        if combo[1] == "none":  # the reference link: the whole packet is the spec's budget
            budget = analog.budget(analog.parse_spec(spec), tuple(rec["latent_shape"]), len(CAPTION))
            assert report["total_symbols"] == budget, where
        key = (combo[1], combo[2], mode)
        fingerprint = (report["latent"]["analog_symbols"], report["total_symbols"], rec["strength_used"])
        if key in seen:  # ebn0 7 dB and esn0 13.02 dB: one channel, the same counts and adaptive strength
            assert seen[key][:2] == fingerprint[:2], where
            assert seen[key][2] == pytest.approx(fingerprint[2], abs=1e-6), where
        seen[key] = fingerprint


# The latent policies that drop (threshold, AMC), LDPC + AMC, and the sMMSE repair, through every
# door a person can use with only a user seed: `semcom transmit --seed`, the services'
# `image_request(seed=...)`, and the web UI's two back-ends (`semcom.ui.backend`: the pipeline in
# process and the sender over gRPC); and the sweep's receiver treatments replayed by the doors.
# (name, convention, fec, channel, snr, encoding, policy, repair, mode, strength, dropped)
UI_CASES = [
    ("threshold drop", "ebn0", "none", "awgn", 2.0, "int8", "threshold", "none", "text+latent", K / SCHEDULE, True),
    ("amc drop", "esn0", "ldpc", "awgn", -6.0, "float16", "amc", "none", "text+latent", K / SCHEDULE, True),
    ("ldpc+amc", "esn0", "ldpc", "awgn", 10.0, "int8", "amc", "none", "text+latent", K / SCHEDULE, False),
    ("smmse", "ebn0", "none", "awgn", 4.0, "int8g", "always", "smmse", "text+latent", K / SCHEDULE, False),
    ("smmse k=0", "ebn0", "none", "rayleigh", 9.0, "int8g", "always", "smmse", "latent", 0.0, False),
]


def _outcome_record(outcome) -> dict:
    """A web UI back-end's `Outcome` in the shape of `semcom transmit --json`'s record."""
    import dataclasses

    return {
        "report": dataclasses.asdict(outcome.report),
        "mode_used": outcome.mode_used,
        "steps_executed": outcome.steps_executed,
        "strength_used": outcome.strength_used,
        "caption_received": outcome.caption_received,
        "pixels": np.asarray(outcome.image.convert("RGB"), dtype=np.int16),
    }


def test_drops_amc_smmse_and_the_web_ui_agree_with_only_a_user_seed(
    topology: Topology, photo, offline, tmp_path, capsys
) -> None:
    """Each case through `semcom transmit --seed S`, `semcom transmit --seeds` with the seeds the
    derivation gives (`derive_seed(S, 0, role)`), the services with `seed=S`, and the web UI's
    in-process and gRPC back-ends with seed S: the same report field by field (drop decision and
    reason, MCS, bit errors), mode, steps, strength, received caption and image (within 1/255); the
    receiver seed every door reports is the derivation's. The drop cases fall back to text; the
    uncoded ones had latent bit errors; the LDPC one was coded by AMC."""
    from semcom.pipeline.seeds import ROLES, derive_seed
    from semcom.ui.backend import GrpcBackend, InProcessBackend, UiSettings

    _, photo_path = photo
    with Image.open(photo_path) as opened:
        image = opened.convert("RGB")
    ui_local = InProcessBackend(profile="tiny", size=64)
    from semcom.rpc.tls import TlsConfig

    ui_grpc = GrpcBackend(topology.sender.target, tls=TlsConfig.from_settings(insecure=True), deadline_s=600)
    try:
        for n, (name, convention, fec, channel, snr, encoding, policy, repair, mode, strength, dropped) in enumerate(
            UI_CASES
        ):
            seed = 31 + n
            derived = RoleSeeds(*(derive_seed(seed, 0, role) for role in ROLES))
            assert RoleSeeds.derive(seed, 0) == derived  # what every door below is meant to use
            combo = (convention, fec, channel, False)
            is_int = encoding.startswith("int")
            clip = ("--per-channel", "--clip-percentile", "99.9") if is_int else ()
            extra = (*clip, "--latent-repair", repair)
            options = dict(per_channel=is_int, clip_percentile=99.9 if is_int else None, latent_repair=repair)
            settings = UiSettings(
                snr_db=snr,
                snr_convention=convention,
                channel_model=channel,
                mode=mode,
                encoding=encoding,
                int_clip=is_int,
                latent_repair=repair,
                fec=fec,
                mcs="auto",
                latent_policy=policy,
                seed=seed,
                steps=SCHEDULE,
                strength=strength,
                caption=CAPTION,
            )
            run = dict(encoding=encoding, policy=policy, snr=snr, extra=extra)
            by_seed = _transmit(photo_path, tmp_path / f"ui{n}s", combo, mode, strength, seed, capsys, **run)
            by_seeds = _transmit(photo_path, tmp_path / f"ui{n}d", combo, mode, strength, derived, capsys, **run)
            request = _service_request(
                photo_path, combo, mode, strength, seed, f"u{n}", encoding=encoding, policy=policy, snr=snr, **options
            )
            (served,) = _transmit_all(topology, [request])
            doors = {
                "transmit --seeds (derived)": by_seeds,
                "services": _served_record(served),
                "web UI in process": _outcome_record(ui_local.transmit(image, settings)),
                "web UI over gRPC": _outcome_record(ui_grpc.transmit(image, settings)),
            }
            assert by_seed["seed"] == by_seeds["seed"] == served.seed == derived.receiver, name
            for door, got in doors.items():
                _assert_same_record(by_seed, got, f"{name}: transmit --seed vs {door}")
            report = by_seed["report"]
            assert report["latent_dropped"] is dropped, name
            if dropped:  # the policy named in the reason; the receiver fell back to text
                assert policy in report["drop_reason"] and by_seed["mode_used"] == "text", name
            elif fec == "ldpc":  # AMC chose an MCS and the latent crossed coded
                assert report["latent"]["mcs"] and report["latent"]["bits"] > report["latent"]["info_bits"], name
            else:  # noise on an uncoded link: the compared latents were hit, and the receiver repaired them
                assert report["latent"]["bit_errors"] > 0 and by_seed["latent_repair_used"] == repair, name
    finally:
        ui_grpc.close()


def test_the_sweeps_receiver_repairs_replay_through_the_doors(topology: Topology, photo, offline, tmp_path, capsys):
    """The sweep's sMMSE cells (int8g per channel, p99.9, repaired in the receiver) replayed with
    their recorded seeds by `semcom transmit` and the services: the same reports and images. Its
    soft cells (a treatment only the in-process link can feed: LLRs) received the very bits the
    doors receive with the same seeds, and the treatment changed the image the receiver's default
    decoding gives. Every compared latent had bit errors."""
    from semcom.eval.store import RunStore
    from semcom.eval.sweep import Sweep
    from semcom.eval.sweep_config import SweepConfig

    root, photo_path = photo
    combo = ("ebn0", "none", "awgn", False)
    snr = 4.0
    cfg = SweepConfig(
        data=root,
        out=tmp_path / "sweep",
        profile="tiny",
        caption_source="dataset",
        snr_db=(snr,),
        snr_convention="ebn0",
        channel="awgn",
        fec="none",
        modes=("latent", "text+latent"),
        encodings=("int8g:pc:p99.9:smmse", "int8g:pc:p99.9:soft"),
        steps=(0, K),
        schedule=SCHEDULE,
        guidance=9.0,
        size=64,
        seed=8,
        metrics=(),
        grid_images=1,
    )
    Sweep(cfg).run(progress=False)
    rows = [json.loads(line) for line in (cfg.out / "results.jsonl").read_text().splitlines() if line.strip()]
    assert sorted(r["cell"] for r in rows) == sorted(
        f"{m}|int8g:pc:p99.9:{r}|{snr:g}|{k}"
        for m, r, k in [("latent", "smmse", 0), ("text+latent", "smmse", 0), ("text+latent", "smmse", K)]
        + [("latent", "soft", 0), ("text+latent", "soft", 0)]
    )
    clip = ("--per-channel", "--clip-percentile", "99.9")
    for i, row in enumerate(rows):
        with Image.open(RunStore(cfg.out).sample_path(row["image"], row["cell"])) as sample:
            swept = np.asarray(sample.convert("RGB"), dtype=np.int16)
        where = row["cell"]
        seeds = RoleSeeds(**row["seeds"])
        strength = (row["steps"] + 1e-9) / SCHEDULE
        repair = "smmse" if row["variant"].endswith("smmse") else "none"  # soft: the doors decode plainly
        run = dict(encoding="int8g", snr=snr)
        rec = _transmit(
            photo_path,
            tmp_path / f"rep{i}",
            combo,
            row["mode"],
            strength,
            seeds,
            capsys,
            **run,
            extra=(*clip, "--latent-repair", repair),
        )
        request = _service_request(
            photo_path,
            combo,
            row["mode"],
            strength,
            seeds,
            f"s{i}",
            per_channel=True,
            clip_percentile=99.9,
            latent_repair=repair,
            **run,
        )
        (served,) = _transmit_all(topology, [request])
        _assert_same_record(rec, _served_record(served), f"{where}: transmit vs services")
        for part in ("caption", "latent"):
            assert row[f"{part}_bits"] == rec["report"][part]["info_bits"], where
            assert row[f"{part}_bit_errors"] == rec["report"][part]["bit_errors"], where
        assert row["latent_bit_errors"] > 0 and row["caption_received"] == rec["caption_received"], where
        assert row["steps_executed"] == rec["steps_executed"], where
        if repair == "smmse":
            assert rec["latent_repair_used"] == "smmse", where
            _assert_same_pixels(swept, rec["pixels"], f"{where}: sweep vs transmit")
        else:  # soft: same bits received, another image than the default decoding
            assert rec["latent_repair_used"] == "none", where
            assert int(np.abs(swept - rec["pixels"]).max()) > 1, f"{where}: soft repair changed nothing"
