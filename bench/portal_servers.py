"""Servers under test as subprocesses on loopback: started, awaited, measured, always stopped."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

HOST = "127.0.0.1"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class Server:
    name: str
    base_url: str
    pid: int


@asynccontextmanager
async def serve(
    name: str,
    command: Sequence[str],
    port_option: str,
    environment: Mapping[str, str],
    directory: Path,
) -> AsyncIterator[Server]:
    """Run `command` with `port_option <free port>` until the block ends, even on error.

    The developer's own GROUPGATE_* variables are left out, so only `environment` configures it;
    it runs in `directory`, so no `.env` file of the developer's is read either.
    """
    port = _free_port()
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("GROUPGATE_")}
    log_path = directory / f"{name}.log"
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            *command,
            port_option,
            str(port),
            env={**inherited, **environment},
            cwd=directory,
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            base_url = f"http://{HOST}:{port}"
            await _until_ready(name, process, f"{base_url}/healthz", log_path)
            yield Server(name, base_url, process.pid)
        finally:
            await _stop(process)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


async def _until_ready(
    name: str, process: asyncio.subprocess.Process, url: str, log_path: Path
) -> None:
    # uvicorn accepts connections only once the lifespan start-up is done.
    deadline = time.monotonic() + START_TIMEOUT
    async with httpx.AsyncClient(timeout=2) as http:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                raise RuntimeError(f"{name} exited ({process.returncode}):\n{_tail(log_path)}")
            with contextlib.suppress(httpx.TransportError):
                if (await http.get(url)).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{name} not ready after {START_TIMEOUT:.0f} s:\n{_tail(log_path)}")


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is not None:
        return
    process.terminate()
    try:
        await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()


def _tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def process_cpu_seconds(pid: int) -> float:
    """User and system CPU time the process has used (/proc/<pid>/stat utime + stime)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def peak_rss_mib(pid: int) -> float:
    """The process's peak resident set size (/proc/<pid>/status VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for process {pid}")
