# Sourced by run.sh and setup-test-env.sh: the Python venv (with the extras named in $PIP_EXTRAS) and the
# browser assets from the npm registry, pinned by package-lock.json and served from node_modules/.
python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -e ".${PIP_EXTRAS:-}"
if ! command -v npm >/dev/null 2>&1; then
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm
fi
npm ci --silent --no-progress
# Official documents are PDFs made by WeasyPrint: Pango from Debian, and the Noto CJK fonts it embeds.
if ! dpkg -s libpango-1.0-0 fonts-noto-cjk >/dev/null 2>&1; then
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk
fi
