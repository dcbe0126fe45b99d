#!/usr/bin/env bash
# Install everything and run one benchmark: bash scripts/bench.sh lifecycle|inbox|sweep|load|growth [ARGS]
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  lifecycle|inbox|sweep|load|growth) ;;
  *) echo "usage: bash scripts/bench.sh lifecycle|inbox|sweep|load|growth [ARGS]" >&2; exit 2 ;;
esac
source scripts/setup-test-env.sh
exec .venv/bin/python -m "bench.$1" "${@:2}"
