"""semcom: language-oriented semantic image transmission.

Pure cores (no gRPC, no model imports):
  semcom.payload  - caption and latent bit formats, the semantic packet
  semcom.phy      - QAM mapping/demapping, AWGN / fading / BSC channels, SNR conventions
  semcom.link     - a packet through the bit-level channel, latent drop policy
  semcom.fec      - channel coding (LDPC via Sionna), MCS table, AMC
  semcom.metrics  - image quality metrics
Model and service layers:
  semcom.models   - captioner, VAE/TAESD codecs, diffusion receiver, profiles
  semcom.v1       - generated protobuf / gRPC stubs (from proto/)
  semcom.rpc      - shared gRPC plumbing (server bootstrap, TLS, status mapping, clients)
  sender_service, channel_sim, receiver_service - the three gRPC services
"""

__version__ = "0.1.0"


def _load_coded_link() -> None:
    """The FEC package's coded link registers itself with the link when imported (needs the 'fec' extra)."""
    import semcom.fec.coded  # noqa: F401


def _compose() -> None:
    """The package root composes the layers: the link (lower) gets the FEC package's coded link
    (higher) by registration, on first use, so that no module imports a layer above its own."""
    from semcom.link import coding

    coding.register_loader(_load_coded_link)


_compose()
