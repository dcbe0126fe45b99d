"""Configuration from the environment, read once at start-up."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MIN_SECRET_BYTES = 32  # HS256 keys shorter than the hash output can be brute-forced offline from one token


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    database_url: str = f"sqlite:///{os.getcwd()}/complaintflow.db"
    # unset: a random key is generated at first start and kept in a file (complaintflow/secret_key.py)
    complaintflow_secret_key: str | None = None
    complaintflow_secret_file: str | None = None
    complaintflow_env: str = "development"
    smtp_url: str | None = None
    complaintflow_mail_from: str = "complaintflow@localhost"
    complaintflow_webhook_url: str | None = None
    complaintflow_webhook_secret: str | None = None
    complaintflow_demo_password: str | None = None
    complaintflow_templates_dir: str | None = None
    complaintflow_worker_threads: int = Field(default=4, ge=1, le=64)
    # addresses of reverse proxies whose X-Forwarded-For is believed (comma-separated IPs or networks);
    # from anyone else the header is ignored, so a client cannot choose the address it is rate-limited by
    complaintflow_forwarded_allow_ips: str = ""
    # bearer token for GET /metrics; unset: /metrics answers only direct requests from this machine
    complaintflow_metrics_token: str | None = None
    # where stored files (evidence, documents, case files) live: "database", "directory" or "s3"; unset: the
    # database on PostgreSQL, a directory beside the database file on SQLite (agencies/blobs.py)
    complaintflow_blob_store: Literal["database", "directory", "s3"] | None = None
    complaintflow_blob_dir: str | None = None  # the directory store's directory (default: beside the SQLite file)
    # the S3 store ("s3"): an S3-compatible service (unset endpoint: AWS itself); without the key fields, boto3's
    # usual sources (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, ~/.aws, an instance role) are used
    complaintflow_s3_endpoint_url: str | None = None
    complaintflow_s3_bucket: str | None = None
    complaintflow_s3_region: str | None = None
    complaintflow_s3_access_key_id: str | None = None
    complaintflow_s3_secret_access_key: SecretStr | None = None
    # the largest evidence file accepted, in MB (agencies/attachments.py: 20 unless set)
    complaintflow_max_attachment_mb: int | None = Field(default=None, ge=1, le=1024)

    @field_validator("database_url")
    @classmethod
    def _normalise_postgres_driver(cls, value: str) -> str:
        """Accept the common ``postgresql://`` spelling and use psycopg 3 for it."""
        if value.startswith("postgresql://"):
            return "postgresql+psycopg://" + value.removeprefix("postgresql://")
        if value.startswith("postgres://"):
            return "postgresql+psycopg://" + value.removeprefix("postgres://")
        return value

    @field_validator("complaintflow_secret_key")
    @classmethod
    def _long_enough(cls, value: str | None) -> str | None:
        if value is not None and len(value.encode()) < MIN_SECRET_BYTES:
            raise ValueError(f"COMPLAINTFLOW_SECRET_KEY 至少需要 {MIN_SECRET_BYTES} 字节，"
                             f"可用 `python3 -c 'import secrets; print(secrets.token_urlsafe(48))'` 生成")
        return value

    @property
    def is_postgresql(self) -> bool:
        return self.database_url.startswith("postgresql")


@lru_cache
def get_settings() -> Settings:
    return Settings()
