"""Channel coding and adaptive modulation and coding (docs/fec.md).

One noun per module: `mcs` (the MCS table), `crc` and `ldpc` (Sionna's 5G CRC and LDPC),
`segmentation` (code blocks of a field), `link` (one field over the coded link, the hook
`semcom.link.transmission.transmit_packet` calls), `bler` (Monte-Carlo BLER and the table),
`amc` (the MCS choice and the drop rule), `erasure` (what a receiver does with failed segments),
`cli` (`semcom channel bler`, `semcom channel mcs`). Pure core: numpy, torch and Sionna only.
"""
