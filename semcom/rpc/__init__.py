"""Shared gRPC plumbing of the three services (no business logic: that lives in the cores).

server     - ServiceHost: server bootstrap, health, reflection, limits, graceful shutdown
tls        - TLS / mutual-TLS credentials from PEM files (plaintext only when chosen)
errors     - exception -> status code mapping, in one place
observe    - the servicer-method decorator: status mapping, access log, RPC metrics
convert    - protobuf <-> core dataclasses, with the wire-level checks
images     - untrusted image bytes -> RGB image (decompression-bomb cap, modes)
deadlines  - the caller's deadline carried to every hop; cancellation
pipeline   - ordered pipelining of streaming RPCs
metrics    - Prometheus metrics; logs - JSON logging
client     - Python client API: dial (LB, retries, TLS), SenderClient, ReceiverClient, health
"""
