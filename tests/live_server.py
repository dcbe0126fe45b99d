"""The application under a real uvicorn server in a thread of the test process.

Sharing the process lets a test keep the scenario's product, clock and cheap password hashing, while
the requests still travel over a real socket. The server leaves logging to the test run's handlers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

from bench._server import free_port


@contextmanager
def serving(app: FastAPI, *, access_log: bool = True) -> Iterator[str]:
    """``app`` served on a free port of 127.0.0.1; its base URL while the block runs."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None,
                                           access_log=access_log))
    thread = threading.Thread(target=server.run, name="uvicorn-test-server", daemon=True)
    thread.start()
    for _ in range(500):
        if server.started:
            break
        if not thread.is_alive():
            raise RuntimeError("uvicorn stopped while starting")
        time.sleep(0.01)
    else:
        raise RuntimeError("uvicorn did not start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)
