#!/usr/bin/env bash
# Install everything and run the product: server + scheduler on a SQLite file, demo data seeded.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/install.sh
.venv/bin/complaintflow seed --demo
exec .venv/bin/complaintflow serve --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}"
