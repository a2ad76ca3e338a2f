#!/usr/bin/env bash
# Regenerate semcom/v1/*_pb2*.py from proto/. `--check` fails when the checked-in stubs are stale.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
py="${PYTHON:-$root/.venv/bin/python}"
out="$root/semcom"
if [[ "${1:-}" == "--check" ]]; then
  tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
  "$py" -m grpc_tools.protoc -I"$root/proto" --python_out="$tmp" --pyi_out="$tmp" --grpc_python_out="$tmp" "$root"/proto/semcom/v1/*.proto
  if ! diff -r -x __init__.py -x __pycache__ "$tmp/semcom/v1" "$root/semcom/v1"; then
    echo "generated protobuf stubs are stale: run scripts/gen_proto.sh" >&2; exit 1
  fi
  echo "protobuf stubs up to date"; exit 0
fi
"$py" -m grpc_tools.protoc -I"$root/proto" --python_out="$root" --pyi_out="$root" --grpc_python_out="$root" "$root"/proto/semcom/v1/*.proto
touch "$out/v1/__init__.py"
echo "generated: $(ls "$out"/v1/*_pb2*.py | wc -l) files in semcom/v1"
