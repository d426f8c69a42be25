"""A connector's blocking client calls (sync httpx, lxml, JOSE) run in its own small pool.

httpx's sync client in a few threads stays fast with many connections where its async pool
slows down; the pool size bounds the connector's concurrent calls.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


class BlockingCalls:
    """``await calls.run(fn, *args, **kwargs)`` runs ``fn`` in the pool; ``close()`` ends it."""

    def __init__(self, size: int, *, name: str) -> None:
        self._pool = ThreadPoolExecutor(size, thread_name_prefix=name)

    async def run(self, call: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run one blocking call without blocking the event loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(call, *args, **kwargs))

    def close(self) -> None:
        """Stop the threads; queued calls are dropped."""
        self._pool.shutdown(wait=False, cancel_futures=True)


def blocking_chunks(
    open_stream: Callable[[], AsyncIterator[bytes]], loop: asyncio.AbstractEventLoop
) -> Iterator[bytes]:
    """Read an async attachment stream from a worker thread, one chunk at a time."""
    stream = open_stream()

    async def step() -> bytes | None:
        return await anext(stream, None)

    while (chunk := asyncio.run_coroutine_threadsafe(step(), loop).result()) is not None:
        yield chunk
