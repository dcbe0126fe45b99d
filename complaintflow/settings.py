"""Configuration from the environment (DESIGN.md §6), read once at start-up."""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "dev-only-secret-change-me-0123456789abcdef"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    database_url: str = f"sqlite:///{os.getcwd()}/complaintflow.db"
    complaintflow_secret_key: str = DEV_SECRET
    complaintflow_env: str = "development"
    smtp_url: str | None = None
    complaintflow_mail_from: str = "complaintflow@localhost"
    complaintflow_webhook_url: str | None = None
    complaintflow_webhook_secret: str | None = None
    complaintflow_demo_password: str | None = None
    complaintflow_templates_dir: str | None = None
    complaintflow_worker_threads: int = Field(default=4, ge=1, le=64)

    @field_validator("database_url")
    @classmethod
    def _normalise_postgres_driver(cls, value: str) -> str:
        """Accept the common ``postgresql://`` spelling and use psycopg 3 for it."""
        if value.startswith("postgresql://"):
            return "postgresql+psycopg://" + value.removeprefix("postgresql://")
        if value.startswith("postgres://"):
            return "postgresql+psycopg://" + value.removeprefix("postgres://")
        return value

    def check_production_secrets(self) -> None:
        if self.complaintflow_env != "development" and self.complaintflow_secret_key == DEV_SECRET:
            raise RuntimeError("COMPLAINTFLOW_SECRET_KEY must be set outside development")


@lru_cache
def get_settings() -> Settings:
    return Settings()
