"""receiver_service: the gRPC ReceiverService (packet -> reconstructed image). See docs/services.md."""
