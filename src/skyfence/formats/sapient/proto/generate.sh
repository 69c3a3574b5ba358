#!/bin/sh
# Regenerate the Python bindings of the vendored SAPIENT (BSI Flex 335 v2.0) protos.
# Dev-only: needs grpcio-tools in the environment (never a runtime dependency):
#   .venv/bin/pip install grpcio-tools
#   sh src/skyfence/formats/sapient/proto/generate.sh
# Messages only (--python_out, --pyi_out): no gRPC services are generated.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
PY=${PYTHON:-python}
cd "$HERE"
"$PY" -m grpc_tools.protoc -I. --python_out=. --pyi_out=. \
    sapient_msg/proto_options.proto sapient_msg/bsi_flex_335_v2_0/*.proto
# The one post-processing step: protoc writes the imports as top-level
# "sapient_msg..." modules; make them absolute within skyfence.
sed -i 's/^from sapient_msg\(\.\| \)/from skyfence.formats.sapient.proto.sapient_msg\1/' \
    sapient_msg/*_pb2.py sapient_msg/*_pb2.pyi \
    sapient_msg/bsi_flex_335_v2_0/*_pb2.py sapient_msg/bsi_flex_335_v2_0/*_pb2.pyi
