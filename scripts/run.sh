#!/usr/bin/env bash
# Install everything and run the product: server + scheduler on a SQLite file, demo data and (into an
# empty database) a few sample complaints seeded.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/install.sh
.venv/bin/complaintflow seed --demo --samples
echo "打开 / open http://${HOST:-127.0.0.1}:${PORT:-8000}/ 用上面的演示账号登录 (e.g. th-amr.liaison) / sign in with a demo user above"
exec .venv/bin/complaintflow serve --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}"
