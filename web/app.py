"""The FastAPI application: a thin layer over the service functions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from anyio import to_thread
from fastapi import FastAPI

from agencies import regions
from complaintflow.settings import Settings, get_settings
from complaintflow.wiring import Product, build_product
from engine.clock import Clock
from web import errors
from web.middleware import RequestContext
from web.routers import admin, auth, cases, complaints, directory, misc, people, tasks, workflows
from web.security import RateLimiter

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
                  description="消费投诉多部门协同办理平台 API v1")
    app.state.product = product
    app.state.hashing = anyio.CapacityLimiter(HASHING_THREADS)
    app.state.limits = {  # per application, in memory (see web/security.py)
        "login": RateLimiter(limit=5, window=300),
        "public_intake": RateLimiter(limit=20, window=3600),
        "public_lookup": RateLimiter(limit=60, window=300),
    }
    errors.install(app)
    for module in (auth, directory, complaints, tasks, cases, workflows, admin, people, misc):
        app.include_router(module.router)
    app.add_middleware(RequestContext)
    return app
