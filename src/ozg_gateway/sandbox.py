"""Parse untrusted documents where they cannot hurt the server.

A parser of untrusted input (pypdf on a citizen's PDF) can be made to spend seconds of CPU and
hundreds of MB on a few KB. It therefore runs in a child process with an address-space and a
CPU-time limit (``setrlimit`` in the child), fed through stdin, answering JSON on stdout, and
killed when its wall-clock deadline passes. The event loop only waits on a pipe.

Tasks are ``module:function`` names of pure functions ``bytes -> JSON``; only the gateway's own
code names them.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import resource
import sys
from dataclasses import dataclass
from typing import Any

from ozg_gateway.logging import get_logger

log = get_logger("ozg_gateway.sandbox")
# The interpreter's start-up counts against the wall-clock deadline, not against CPU time.
_STARTUP_SECONDS = 5.0


@dataclass(frozen=True)
class Limits:
    """CPU seconds and address space for one child."""

    cpu_seconds: float
    memory_bytes: int


class SandboxError(Exception):
    """The task did not produce an answer: ``reason`` is timeout, limit or crash."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def run(task: str, data: bytes, *, limits: Limits) -> Any:
    """Run ``task`` on ``data`` in a limited child process and return its JSON answer."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ozg_gateway.sandbox",
        task,
        str(max(1, round(limits.cpu_seconds))),
        str(limits.memory_bytes),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    deadline = limits.cpu_seconds * 2 + _STARTUP_SECONDS
    try:
        out, _ = await asyncio.wait_for(process.communicate(data), timeout=deadline)
    except TimeoutError:
        _kill(process)
        await process.wait()
        log.warning("sandbox task timed out", task=task)
        raise SandboxError("timeout") from None
    except BaseException:
        _kill(process)
        await process.wait()
        raise
    if process.returncode != 0:
        # SIGXCPU/SIGKILL after the CPU limit, MemoryError after the address-space limit.
        reason = "limit" if process.returncode in (-9, -24, 3) else "crash"
        log.warning("sandbox task failed", task=task, returncode=process.returncode)
        raise SandboxError(reason)
    try:
        return json.loads(out)
    except ValueError:
        raise SandboxError("crash") from None


def _kill(process: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError):
        process.kill()


def _spin_for_tests(data: bytes) -> None:
    """Exceed a limit on purpose (``cpu`` or ``memory``): the tests' proof that limits hold."""
    if data == b"memory":
        hoard = [bytearray(64 * 1024 * 1024) for _ in range(64)]
        del hoard
    while data == b"cpu":
        pass


def _child(task: str, cpu_seconds: int, memory_bytes: int) -> int:
    """Import the task (trusted code), apply the limits, run it on stdin, write JSON."""
    module_name, _, function_name = task.partition(":")
    function = getattr(importlib.import_module(module_name), function_name)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    data = sys.stdin.buffer.read()
    try:
        answer = function(data)
    except MemoryError:
        return 3
    sys.stdout.write(json.dumps(answer))
    return 0


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
