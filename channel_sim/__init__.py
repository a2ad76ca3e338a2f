"""channel_sim: a ReceiverService proxy that puts every packet through the simulated channel
(semcom.link) before forwarding it to its upstream receiver(s). See docs/services.md."""
