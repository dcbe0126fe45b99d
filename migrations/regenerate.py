"""Developer tool: rewrite the initial migration from the current tables.

Only valid while nothing has been released: once a version ships, add migrations instead.
Usage: ``.venv/bin/python -m migrations.regenerate``
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from alembic import command

from engine.db.migrate import MIGRATIONS_DIR, alembic_config


def later_migrations(versions: Path) -> list[Path]:
    """Migrations after the initial one: once one exists, databases may stand at 0001 with later
    changes applied on top, and rewriting 0001 would silently give them a different schema."""
    return sorted(p for p in versions.glob("[0-9][0-9][0-9][0-9]_*.py") if not p.name.startswith("0001_"))


def main() -> None:
    later = later_migrations(MIGRATIONS_DIR / "versions")
    if later:
        raise SystemExit("拒绝重写 0001：已有后续迁移 / refusing to rewrite 0001, later migrations exist: "
                         + ", ".join(p.name for p in later) + "; add a new migration instead")
    for old in (MIGRATIONS_DIR / "versions").glob("0001_*.py"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'empty.db'}"
        command.revision(alembic_config(url), message="initial schema", autogenerate=True, rev_id="0001")
    for new in (MIGRATIONS_DIR / "versions").glob("0001_*.py"):
        print(f"wrote {new}")


if __name__ == "__main__":
    main()
