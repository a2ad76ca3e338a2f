"""The analog latent on the wire and on the link (docs/channel.md "Analog latent").

An encoding name ``analog[:OPTIONS]`` (`semcom.analog.spec.AnalogSpec`) sends the latent's values
as complex channel symbols without bits: the sender's `encode_payload` maps the float latent with
`semcom.analog.AnalogCodec` onto symbols of unit average energy; the link's `transmit_payload`
puts them through `semcom.phy.analog.analog_channel` (noise at the channel's Es/N0, Rayleigh block
fading with the configured block length) and hands the receiver the channel state it knows
(`ChannelState`: noise variance, one gain per fading block: perfect CSI, as the bit path's
equaliser assumes); the receiver's `decode_payload` gives the codec's LMMSE estimate.

The codec's side information (`meta`: the energy scale; with `stats=image` every chunk's
statistics) is the analog latent's header: it crosses the digital path as one field, always on the coded link at the most robust
MCS (`HEADER_MCS`, 5G LDPC with its CRC, whether or not the caption is coded), the way a PHY
sends its header at its most robust rate. Uncoded, a few hundred header bits would fail at every
SNR where the analog latent is still useful; a fixed MCS also makes the header's airtime a
function of its length alone. A header that fails its CRC makes the analog latent unusable, and
the link reports it lost (``latent_dropped`` with the reason), as a dropped latent.

Budget: the spec's budget (`AnalogSpec.symbols`) counts every symbol of the packet: caption,
header and analog symbols. The sender counts the caption on the reference link, uncoded 16-QAM
(the paper's), and the header at `HEADER_MCS`, so the analog symbols are ``budget - caption -
header``; on that link a packet uses exactly its budget, on another modulation or with FEC the
caption costs what that link spends (the report counts the symbols actually used). The number
of analog symbols in a packet is therefore a function of the spec, the latent's shape, the
caption's length and the header's length, which every hop checks (`check_payload`).
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from semcom.analog import AnalogCodec
from semcom.analog.spec import SCHEMES, AnalogSpec
from semcom.link.coding import coded_link
from semcom.link.types import MODULATIONS, ChannelConfig, FieldReport
from semcom.payload.latent import get_encoding
from semcom.payload.packet import AnalogPayload, ChannelState, LatentPayload
from semcom.phy.analog import analog_channel

ANALOG = "analog"  # LatentPayload.encoding of an analog latent
SYMBOL_BYTES = 8  # float32 (I, Q)
HEADER_MCS = "qpsk-r1/3"  # the most robust MCS of semcom.fec.mcs (amc.MOST_ROBUST)
REFERENCE_BITS_PER_SYMBOL = MODULATIONS["16qam"]  # the budget's accounting of the digital fields
ENERGY_TOLERANCE = 0.01  # relative: the link sends at unit average energy
FADING_MODELS = {"awgn": "awgn", "rayleigh": "rayleigh", "none": "none"}


def is_analog(name: str | None) -> bool:
    """Whether an encoding name selects the analog latent ("analog" or "analog:OPTIONS")."""
    return name is not None and str(name).strip().split(":")[0].strip().lower() == ANALOG


def names_scheme(name: str | None) -> bool:
    """Whether an encoding name names an analog scheme at all ("analog..." or the pixel scheme
    "softcast...", which `parse_spec` refuses with the reason)."""
    return name is not None and str(name).strip().split(":")[0].strip().lower() in SCHEMES


def parse_spec(text: str) -> Any:
    """`AnalogSpec` of an encoding name; ValueError for a malformed one or a pixel scheme."""
    spec = AnalogSpec.parse(text)
    if spec.scheme != ANALOG:
        raise ValueError(
            f"{text!r}: {spec.scheme} sends the image's pixels, an evaluation baseline (semcom eval); "
            "a latent door takes analog[:OPTIONS]"
        )
    if spec.scale != 1:
        raise ValueError(
            f"{text!r}: scale={spec.scale} (the latent of a downscaled image, upsampled at the receiver) is an "
            "option of semcom eval; a latent door sends the latent at the encoder's size (--image-size)"
        )
    # alloc=decoder needs decoder weights shipped for the latent's shape (the TAEF2 latent of a 256 px
    # image); the codec refuses any other shape with the reason when it is built (semcom.analog.codec)
    return spec


def canonical(text: str) -> str:
    """The canonical spec text of an analog encoding name (ValueError when malformed)."""
    return str(parse_spec(text).spec)


def reference_symbols(n_bytes: int) -> int:
    """Symbols `n_bytes` take on the reference link (uncoded 16-QAM)."""
    return -(-8 * int(n_bytes) // REFERENCE_BITS_PER_SYMBOL)


def header_symbols(n_bytes: int) -> int:
    """Symbols of an `n_bytes` header at `HEADER_MCS` (LDPC segments with their CRC)."""
    if n_bytes <= 0:
        return 0
    return coded_link().field_symbols(8 * int(n_bytes), HEADER_MCS)


def budget(spec: Any, shape: tuple[int, ...], caption_bytes: int) -> int:
    """The whole packet's budget in channel symbols (caption, side information, analog symbols)."""
    values = math.prod(shape)
    int8_symbols = reference_symbols(values)  # one byte per value

    def enc_symbols(name: str) -> int:
        return reference_symbols(caption_bytes) + reference_symbols(get_encoding(name).payload_bytes(values))

    return int(spec.symbols(int8_symbols=int8_symbols, enc_symbols=enc_symbols))


def analog_symbols(spec: Any, shape: tuple[int, ...], caption_bytes: int, meta: bytes) -> int:
    """Analog symbols of a packet: the budget less the caption and the side information."""
    total = budget(spec, shape, caption_bytes)
    n = total - reference_symbols(caption_bytes) - header_symbols(len(meta))
    if n < 1:
        raise ValueError(
            f"{spec.spec}: a budget of {total} symbols leaves no analog symbols after the caption "
            f"({caption_bytes} bytes) and the side information ({len(meta)} bytes)"
        )
    return n


def _codec(spec: Any, shape: tuple[int, ...]) -> Any:
    return AnalogCodec.for_spec(spec, source_shape=tuple(shape))


def symbols_to_bytes(symbols: NDArray[Any]) -> bytes:
    return np.ascontiguousarray(symbols, dtype=np.complex64).view(np.float32).astype("<f4").tobytes()


def symbols_from_bytes(data: bytes) -> NDArray[np.complex64]:
    return np.frombuffer(data, dtype="<f4").astype(np.float32).view(np.complex64)


# ----------------------------------------------------------------------------- sender


def encode_payload(
    latent: NDArray[Any], encoding: str, caption_bytes: int, max_bytes: int | None = None
) -> LatentPayload:
    """The float latent (C, H, W) as an analog payload whose symbols fill the budget left by the
    caption and the side information (on the reference link).

    `max_bytes`: refuse (ValueError, before encoding) a budget whose symbols would take more bytes
    on the wire, the bound every hop applies (SEMCOM_MAX_LATENT_BYTES)."""
    spec = parse_spec(encoding)
    x = np.asarray(latent, dtype=np.float32)
    shape = tuple(int(d) for d in x.shape)
    n = budget(spec, shape, caption_bytes) - reference_symbols(caption_bytes)
    if max_bytes is not None and SYMBOL_BYTES * n > max_bytes:
        raise ValueError(
            f"{spec.spec}: {n} analog symbols for a latent of shape {list(shape)} take {SYMBOL_BYTES * n} bytes, "
            f"over the cap of {max_bytes} (SEMCOM_MAX_LATENT_BYTES)"
        )
    codec = _codec(spec, shape)
    frame = None
    for _ in range(4):  # the side information's size may depend on the symbols it describes
        frame = codec.encode(x, max(n, 1))
        want = analog_symbols(spec, shape, caption_bytes, bytes(frame.meta))
        if want == n:
            break
        n = want
    else:
        raise ValueError(f"{spec.spec}: the side information's size does not settle for a {shape} latent")
    assert frame is not None
    symbols = np.asarray(frame.symbols, dtype=np.complex64).reshape(-1)
    if symbols.size != n:
        raise ValueError(f"{spec.spec}: the codec made {symbols.size} symbols for a budget of {n}")
    return LatentPayload(
        shape=shape,
        encoding=ANALOG,
        data=b"",
        analog=AnalogPayload(
            spec=str(spec.spec),
            symbols=symbols_to_bytes(symbols),
            meta=bytes(frame.meta),
        ),
    )


# ----------------------------------------------------------------------------- checks


def check_payload(payload: LatentPayload, caption_bytes: int) -> None:
    """ValueError naming the fault of an analog payload as a hop receives it: a spec that does not
    parse, symbols that are not float32 (I, Q) pairs or not finite, a symbol count other than the
    budget's, an average energy other than 1, side information the codec refuses, a channel state
    that does not fit the symbols."""
    analog = payload.analog
    if analog is None:
        raise ValueError("an analog latent carries its symbols in latent.analog")
    spec = parse_spec(analog.spec)
    if analog.spec != spec.spec:
        raise ValueError(f"spec {analog.spec!r} is not canonical; send {spec.spec!r}")
    if payload.data or payload.quant is not None:
        raise ValueError("an analog latent has no data bytes and no quantisation parameters")
    if len(analog.symbols) % 4:
        raise ValueError(f"symbols: {len(analog.symbols)} bytes is not a whole number of float32 values")
    floats = len(analog.symbols) // 4
    if floats % 2:
        raise ValueError(f"symbols: {floats} float32 values is an odd count; symbols are (I, Q) pairs")
    x = symbols_from_bytes(analog.symbols)
    want = analog_symbols(spec, payload.shape, caption_bytes, analog.meta)
    if x.size != want:
        raise ValueError(
            f"symbols: {x.size} complex symbols, but {spec.spec} for a latent of shape {list(payload.shape)} "
            f"with a {caption_bytes}-byte caption and {len(analog.meta)} bytes of side information "
            f"has {want}"
        )
    if not np.isfinite(x.view(np.float32)).all():
        raise ValueError("symbols: not every I/Q value is finite (NaN or inf)")
    if analog.csi is None:  # as the sender sends them: unit average energy
        energy = float(np.mean(np.abs(x.astype(np.complex128)) ** 2)) if x.size else 1.0
        if abs(energy - 1.0) > ENERGY_TOLERANCE:
            raise ValueError(f"symbols: average energy {energy:.6g}; the link sends at unit average energy")
    else:
        _check_csi(analog.csi, x.size)
    try:
        _codec(spec, payload.shape).validate_meta(analog.meta, x.size)
    except ValueError as exc:
        raise ValueError(f"meta: {exc}") from None


def _check_csi(csi: ChannelState, n: int) -> None:
    if not (math.isfinite(csi.noise_var) and csi.noise_var >= 0):
        raise ValueError(f"csi.noise_var must be finite and >= 0, got {csi.noise_var}")
    if not csi.gains:
        if csi.block_length:
            raise ValueError("csi.block_length is set without gains")
        return
    if len(csi.gains) % SYMBOL_BYTES:
        raise ValueError(f"csi.gains: {len(csi.gains)} bytes is not a whole number of float32 (I, Q) pairs")
    if csi.block_length < 1:
        raise ValueError("csi.gains need csi.block_length >= 1")
    blocks = -(-n // csi.block_length)
    if len(csi.gains) // SYMBOL_BYTES != blocks:
        raise ValueError(
            f"csi.gains: {len(csi.gains) // SYMBOL_BYTES} gains for {n} symbols in blocks of "
            f"{csi.block_length} ({blocks} blocks)"
        )
    if not np.isfinite(np.frombuffer(csi.gains, dtype="<f4")).all():
        raise ValueError("csi.gains: not every value is finite")


# ----------------------------------------------------------------------------- link


def transmit_payload(
    payload: LatentPayload, cfg: ChannelConfig, rng: np.random.Generator
) -> tuple[LatentPayload | None, FieldReport, str]:
    """An analog latent over `cfg`: (the payload as received with its channel state, or None when
    its side information failed its CRC; the field's report; the reason it was lost)."""
    analog = payload.analog
    if analog is None:
        raise ValueError("transmit_payload needs an analog latent")
    if cfg.model not in FADING_MODELS:
        raise ValueError(f"the analog latent needs a symbol channel (awgn, rayleigh or none); {cfg.model!r} flips bits")
    side_rng, symbol_rng = rng.spawn(2)
    side = analog.meta
    report = FieldReport()
    rx_side = b""
    crc_ok = True
    if side:
        bits = np.unpackbits(np.frombuffer(side, dtype=np.uint8))
        # over the coded link (semcom.link.coding) at HEADER_MCS, on cfg's channel
        result = coded_link().transmit_field(bits, replace(cfg, fec="ldpc", mcs=HEADER_MCS), side_rng, "caption")
        rx_side = np.packbits(result.rx_bits).tobytes()
        crc_ok = result.segments_failed == 0
        report = result.report(bits.size)
    x = symbols_from_bytes(analog.symbols)
    y, csi = _symbol_channel(x, cfg, symbol_rng)
    report.symbols += int(x.size)
    report.analog_symbols = int(x.size)
    if not crc_ok:
        lost = f"({report.segments_failed} of {report.segments} segments)"
        return None, report, f"analog latent lost: its header (side information, {HEADER_MCS}) failed its CRC {lost}"
    return replace(payload, analog=replace(analog, symbols=symbols_to_bytes(y), meta=rx_side, csi=csi)), report, ""


def _symbol_channel(
    x: NDArray[np.complex64], cfg: ChannelConfig, rng: np.random.Generator
) -> tuple[NDArray[np.complex64], ChannelState]:
    """Received symbols and the receiver's channel state (noise variance, one gain per block)."""
    if cfg.model == "none":
        return x.copy(), ChannelState(noise_var=0.0)
    block = int(cfg.fading_block_length)
    y, gains, noise_var = analog_channel(
        x, cfg.snr_pair[0], rng, fading="rayleigh" if cfg.model == "rayleigh" else "awgn", block_length=block
    )
    y = np.asarray(y, dtype=np.complex64).reshape(-1)
    if gains is None or cfg.model != "rayleigh":
        return y, ChannelState(noise_var=float(noise_var))
    g = np.asarray(gains, dtype=np.complex64).reshape(-1)
    if g.size == x.size:  # one gain per symbol: keep one per block
        g = g[::block]
    return y, ChannelState(noise_var=float(noise_var), gains=symbols_to_bytes(g), block_length=block)


# ----------------------------------------------------------------------------- receiver


def decode_payload(payload: LatentPayload) -> NDArray[np.float32]:
    """The receiver's estimate (C, H, W) of an analog latent from its received symbols, side
    information and channel state (no channel state: the symbols as sent, noise-free)."""
    analog = payload.analog
    if analog is None:
        raise ValueError("decode_payload needs an analog latent")
    spec = parse_spec(analog.spec)
    y = symbols_from_bytes(analog.symbols)
    csi = analog.csi or ChannelState(noise_var=0.0)
    gains = None
    if csi.gains:
        per_block = symbols_from_bytes(csi.gains)
        gains = np.repeat(per_block, csi.block_length)[: y.size]
    codec = _codec(spec, payload.shape)
    values = codec.decode(y, analog.meta, noise_var=float(csi.noise_var), gains=gains)
    return np.asarray(values, dtype=np.float32).reshape(payload.shape)
