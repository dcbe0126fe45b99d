"""Real ``complaintflow serve`` processes for the HTTP benchmarks."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def servers(env: dict[str, str], count: int = 1, logs: Path | None = None,
            ) -> Iterator[tuple[list[str], list[subprocess.Popen[bytes]]]]:
    """``count`` servers (each with its scheduler) on the database in ``env``; their base URLs once all
    answer ``/healthz``, and the processes (to sample their CPU and memory, or to kill one). With ``logs``
    each server's output goes to ``logs/server-N.log`` (to explain a failure), else nowhere."""
    ports = [free_port() for _ in range(count)]
    sinks = [(logs / f"server-{n}.log").open("wb") if logs else None for n in range(count)]
    processes = [subprocess.Popen([sys.executable, "-m", "complaintflow.cli", "serve", "--port", str(port)],
                                  cwd=ROOT, env=env, stdout=sink or subprocess.DEVNULL,
                                  stderr=subprocess.STDOUT if sink else subprocess.DEVNULL)
                 for port, sink in zip(ports, sinks, strict=True)]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for url in urls:
            for _ in range(300):
                try:
                    if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            else:
                raise RuntimeError(f"the server at {url} did not start")
        yield urls, processes
    finally:
        for process in processes:
            process.terminate()  # nothing to do for one already killed
            process.wait(30)
        for sink in sinks:
            if sink:
                sink.close()
