"""Placeholder: filled in by the slice that builds these pages."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
