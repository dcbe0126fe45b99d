"""The key that signs tokens and tracking codes: configured, or generated once and kept in a file.

A key in the source would let anyone sign a token for ``admin``, so there is none. Without
``COMPLAINTFLOW_SECRET_KEY`` the first start writes a random key to a file readable by its owner
only (beside a SQLite database file, else in the working directory, or at
``COMPLAINTFLOW_SECRET_FILE``), and every later start and every command reads the same file. The
key must not change afterwards: tracking codes already handed out are checked against it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

from sqlalchemy.engine import make_url

from complaintflow.settings import MIN_SECRET_BYTES, Settings

KEY_FILE_SUFFIX = ".secret-key"


class SecretKeyError(Exception):
    """The key cannot be used; the message says what to do (in Chinese, for the operator)."""


def secret_key(settings: Settings) -> str:
    if settings.complaintflow_secret_key is not None:  # its length is checked by Settings
        return settings.complaintflow_secret_key
    if settings.complaintflow_env != "development" and settings.is_postgresql \
            and settings.complaintflow_secret_file is None:
        raise SecretKeyError("生产环境使用 PostgreSQL 时须设置 COMPLAINTFLOW_SECRET_KEY"
                             "（或 COMPLAINTFLOW_SECRET_FILE），各服务器进程须使用同一密钥")
    return read_or_create(key_file(settings))


def key_file(settings: Settings) -> Path:
    """Where the generated key lives: ``COMPLAINTFLOW_SECRET_FILE``, else beside the SQLite file."""
    if settings.complaintflow_secret_file:
        return Path(settings.complaintflow_secret_file)
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        database = Path(url.database)
        return database.with_name(database.name + KEY_FILE_SUFFIX)
    return Path.cwd() / f"complaintflow{KEY_FILE_SUFFIX}"


def read_or_create(path: Path) -> str:
    """The key in ``path``, written first if the file does not exist yet.

    Written to a private temporary file and hard-linked into place, so two processes starting at
    once both end up with the one key that won, and nobody ever reads a half-written file."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_urlsafe(48) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            with contextlib.suppress(FileExistsError):  # another process won the race: use its key
                os.link(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
    return _read(path)


def _read(path: Path) -> str:
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SecretKeyError(f"密钥文件 {path} 的权限过宽（{stat.filemode(mode)}），请执行 chmod 600 {path}")
    key = path.read_text(encoding="utf-8").strip()
    if len(key.encode()) < MIN_SECRET_BYTES:
        raise SecretKeyError(f"密钥文件 {path} 中的密钥短于 {MIN_SECRET_BYTES} 字节")
    return key
