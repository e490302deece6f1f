#!/usr/bin/env bash
# Regenerates src/platewise/serving/proto/platewise_pb2*.py from platewise.proto (needs grpcio-tools).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] && PY=.venv/bin/python
cd src
"$PY" -m grpc_tools.protoc -I . --python_out=. --pyi_out=. --grpc_python_out=. platewise/serving/proto/platewise.proto
for f in platewise/serving/proto/platewise_pb2*.py*; do  # generated code: keep linters out
  grep -q '^# ruff: noqa' "$f" || sed -i '1i # ruff: noqa' "$f"
done
echo "generated src/platewise/serving/proto/platewise_pb2{,_grpc}.py"
