"""Channel coding and adaptive modulation and coding (docs/fec.md).

One noun per module: `mcs` (the MCS table), `crc` and `ldpc` (Sionna's 5G CRC and LDPC),
`segmentation` (code blocks of a field), `link` (one field over the coded link, the hook
`semcom.link.transmission.transmit_packet` calls), `bler` (the BLER table AMC reads), `bler_sweep` (the Monte-Carlo tool that measures it),
`amc` (the MCS choice and the drop rule), `erasure` (what a receiver does with failed segments),
`coded` (the coded link registered with `semcom.link.coding`). The commands that drive it
(`semcom channel bler`, `semcom channel mcs`) are `semcom.cli.channel_fec`. Pure core: numpy,
torch and Sionna only.
"""
