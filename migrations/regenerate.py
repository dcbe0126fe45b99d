"""Developer tool: rewrite the initial migration from the current tables.

Only valid while nothing has been released: once a version ships, add migrations instead.
Usage: ``.venv/bin/python -m migrations.regenerate``
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from alembic import command

from engine.db.migrate import MIGRATIONS_DIR, alembic_config


def main() -> None:
    for old in (MIGRATIONS_DIR / "versions").glob("0001_*.py"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'empty.db'}"
        command.revision(alembic_config(url), message="initial schema", autogenerate=True, rev_id="0001")
    for new in (MIGRATIONS_DIR / "versions").glob("0001_*.py"):
        print(f"wrote {new}")


if __name__ == "__main__":
    main()
