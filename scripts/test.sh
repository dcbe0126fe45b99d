#!/usr/bin/env bash
# Install everything and run the whole test suite, on SQLite and on the local PostgreSQL server.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup-test-env.sh

.venv/bin/ruff check .
.venv/bin/mypy  # strict, on every product package (pyproject.toml)
exec .venv/bin/pytest "$@"
