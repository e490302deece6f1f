#!/usr/bin/env bash
# Regenerates src/platewise/serving/proto/platewise_pb2*.py from platewise.proto (needs grpcio-tools).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] && PY=.venv/bin/python
cd src
"$PY" -m grpc_tools.protoc -I . --python_out=. --pyi_out=. --grpc_python_out=. platewise/serving/proto/platewise.proto
echo "generated src/platewise/serving/proto/platewise_pb2{,_grpc}.py"
