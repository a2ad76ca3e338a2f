"""sender_service: the gRPC SenderService (image -> semantic packet, and end-to-end transmission
through the channel proxy to a receiver). See docs/services.md."""
