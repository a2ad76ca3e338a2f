"""Channel coding and adaptive modulation and coding (docs/fec.md).

One noun per module: `mcs` (the MCS table), `crc` and `ldpc` (Sionna's 5G CRC and LDPC), `minsum` (the fast LDPC
decoder), `segmentation` (code blocks of a field), `codewords` (codewords over the channel), `transmit` (one field
over the coded link), `bler` (the BLER table AMC reads), `bler_sweep` (the Monte-Carlo tool that measures it), `bench`
(the decoder benchmark), `amc` (the MCS choice and the drop rule), `erasure` (what a receiver does with failed
segments), `coded` (the coded link registered with `semcom.link.coding`, which `transmit_packet` calls). The commands
that drive it (`semcom channel bler`, `semcom channel mcs`) are `semcom.cli.channel_fec`. Pure core: numpy, torch and
Sionna only.
"""
