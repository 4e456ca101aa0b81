#!/usr/bin/env bash
# The bundled slos.yaml must stay valid: it is what the demo runs on.
set -euo pipefail
cd "$(dirname "$0")/.."
go run ./cmd/spanslo validate slos.yaml
