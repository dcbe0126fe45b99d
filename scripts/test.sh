#!/usr/bin/env bash
# Install everything and run the whole test suite, on SQLite and on the local PostgreSQL server.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup-test-env.sh

.venv/bin/ruff check .
exec .venv/bin/pytest "$@"
