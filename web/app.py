"""The FastAPI application: a thin layer over the service functions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from anyio import to_thread
from fastapi import FastAPI
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from agencies import regions
from agencies.attachments import limit_bytes
from complaintflow.settings import Settings, get_settings
from complaintflow.wiring import Product, build_product
from engine.clock import Clock
from web import docs, errors, pages
from web.access_log import install_access_log_filter
from web.middleware import RequestContext
from web.routers import (
    admin,
    admin_businesses,
    archive,
    attachments,
    auth,
    business,
    calendar,
    cases,
    complaints,
    diagrams,
    directory,
    documents,
    notices,
    ops,
    people,
    public,
    tasks,
    workflows,
)

HASHING_THREADS = 2  # Argon2 takes 64 MiB per hash: more at once would only add memory, not speed


def create_app(settings: Settings | None = None, *, clock: Clock | None = None, with_scheduler: bool = False,
               product: Product | None = None) -> FastAPI:
    settings = settings or get_settings()
    product = product or build_product(settings, clock)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        scheduler = None
        # request work (sync endpoints and dependencies) runs in this many threads: the work is mostly
        # Python holding the GIL, and more threads only add switching (bench/load.py: 40 threads gave
        # 0.8× the throughput of 1–4)
        to_thread.current_default_thread_limiter().total_tokens = settings.complaintflow_worker_threads
        regions.preload()
        install_access_log_filter()  # no query string (tracking codes, search terms) in uvicorn's log
        if with_scheduler:
            from complaintflow.jobs import dispatch_notices, release_daily_digests, run_sweep
            from engine.scheduler import start_scheduler

            scheduler = start_scheduler({
                "sweep": (lambda: run_sweep(product), 60),
                "notices": (lambda: dispatch_notices(product), 15),
                "digests": (lambda: release_daily_digests(product), 24 * 3600),
            })
        try:
            yield
        finally:
            if scheduler is not None:
                scheduler.shutdown(wait=False)
            product.close()

    app = FastAPI(title="complaintflow", version="0.1.0", lifespan=lifespan,
                  description="消费投诉多部门协同办理平台 API v1",
                  docs_url=None, redoc_url=None)  # their pages load from a CDN: web/docs.py serves /docs
    app.state.product = product
    app.state.settings = settings  # what this server was started with (e.g. the /metrics token)
    app.state.hashing = anyio.CapacityLimiter(HASHING_THREADS)
    errors.install(app)
    for module in (auth, directory, complaints, diagrams, tasks, cases, workflows, admin, people, calendar, notices,
                   ops, business, admin_businesses, public, attachments, archive, documents):
        app.include_router(module.router)
    app.include_router(docs.router)
    for page_router in pages.ROUTERS:  # the Chinese web workspace (server-rendered)
        app.include_router(page_router)
    app.add_middleware(RequestContext, file_limit=limit_bytes(settings.complaintflow_max_attachment_mb))
    if settings.complaintflow_forwarded_allow_ips:
        # outermost, so that everything inside sees the client's address a trusted proxy forwarded
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.complaintflow_forwarded_allow_ips)
    return app
