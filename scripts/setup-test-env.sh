# Sourced by test.sh and bench.sh: everything installed (with the test extras), and the local PostgreSQL server up.
PIP_EXTRAS='[test]' source scripts/install.sh

# PostgreSQL: install it if the machine lacks it, start it if it is down.
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql
fi
if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
fi
for _ in $(seq 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done

# Chromium for tests/browser: Debian's package, driven by Playwright through its executable_path (Playwright's
# own browser download is not used); the CJK fonts so that screenshots show the Chinese pages, not boxes.
if [ ! -x /usr/bin/chromium ]; then
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-noto-cjk
fi
