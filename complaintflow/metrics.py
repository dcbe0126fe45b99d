"""Prometheus metrics shared by the web layer and the scheduler jobs."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

REQUESTS = Counter("complaintflow_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("complaintflow_http_request_seconds", "HTTP request latency", ["method", "route"])
SWEEP_SECONDS = Histogram("complaintflow_sweep_seconds", "Duration of one deadline sweep")
