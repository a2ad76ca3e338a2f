"""Shared gRPC plumbing of the three services (no business logic: that lives in the cores).

server       - ServiceHost: server bootstrap, health, reflection, limits, graceful shutdown
calls        - the pieces of a served call below ServiceHost (event loop, tolerant decoding)
admission    - admission slots that cannot leak; the watchdog that tells a wedged service
batching     - bounded admission queue and dynamic batches on one model thread
backpressure - a hop never sends its downstream more calls than the downstream admits
upstream     - the channel a forwarding hop dials its upstream with
ordered      - ordered concurrent map over a bidirectional stream
tls          - TLS / mutual-TLS credentials from PEM files (plaintext only when chosen)
errors       - exception -> status code mapping, in one place
observe      - the servicer-method decorator: status mapping, access log, RPC metrics
convert      - protobuf <-> core dataclasses, with the wire-level checks
limits       - bounds on every size a client controls, checked before any work
images       - untrusted image bytes -> RGB image (decompression-bomb cap, modes)
deadlines    - the caller's deadline carried to every hop; cancellation
metrics      - Prometheus metrics; logs - JSON logging
client       - Python client API: dial (LB, retries, TLS), SenderClient, ReceiverClient, health
retry        - transmit_all: a batch through SenderService.Transmit losing nothing
"""
