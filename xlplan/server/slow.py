"""Slow calls (FIT_COEFFS) in worker processes, each with a time limit.

Fitting holds the GIL for up to a second, so a thread would stall the cheap
calls; a separate process does not. A call over the limit is answered with
``#N/A`` and its worker is killed (the pool restarts at once), so a runaway fit
never keeps a core busy. The limit counts from when the workers are ready: a
fresh worker's start-up (about a second of imports) is not charged to the call.
Calls beyond ``max_pending`` are refused at once rather than queued behind
others until they time out.
"""

import asyncio
import multiprocessing
import threading

# Longest a fresh worker may take to start and import the fitter, seconds.
WORKER_START_LIMIT = 60.0

from .. import udfs
from .calls import CallFailure

__all__ = ["SlowPool"]


def _run(name, args):
    return udfs.FUNCTIONS[name].func(*args)


def _warm():
    import xlplan.fit  # noqa: F401  (the first real call should not pay for the import)


class SlowPool:
    """A lazily started pool of ``workers`` spawned processes; ``await run(...)`` a call."""

    def __init__(self, workers, timeout, max_pending=None):
        self.workers = workers
        self.timeout = timeout
        self.max_pending = max_pending or 4 * workers
        self._pool = None
        self._inflight = set()

    @property
    def running(self):
        """How many slow calls are in flight now."""
        return len(self._inflight)

    def _ensure(self):
        if self._pool is None:
            context = multiprocessing.get_context("spawn")
            self._pool = context.Pool(self.workers)
            self._warming = [self._pool.apply_async(_warm) for _ in range(self.workers)]
        return self._pool

    def start(self):
        """Start the workers now, so the first slow call does not wait for them."""
        self._ensure()

    async def _ready(self):
        """Wait (off the event loop) until the workers have started and imported the fitter."""
        self._ensure()
        pending = [w for w in self._warming if not w.ready()]
        if pending:
            await asyncio.to_thread(lambda: [w.wait(WORKER_START_LIMIT) for w in pending])

    def _restart(self, reason, start_again=True):
        """Kill the workers and start fresh ones; calls still in the old ones fail now."""
        if self._pool is not None:
            threading.Thread(target=self._pool.terminate, daemon=True).start()
            self._pool = None
        for future in self._inflight:
            if not future.done():
                future.set_exception(CallFailure(503, "#N/A", reason))
        self._inflight.clear()
        if start_again:
            self._ensure()

    async def run(self, name, args):
        if len(self._inflight) >= self.max_pending:
            raise CallFailure(503, "#N/A", f"{name}: {len(self._inflight)} slow calls are "
                              "already running; recalculate later")
        loop = asyncio.get_running_loop()
        future = loop.create_future()

        def settle(method):
            return lambda value: loop.call_soon_threadsafe(
                lambda: future.done() or getattr(future, method)(value))

        self._inflight.add(future)
        try:
            await self._ready()
            self._ensure().apply_async(_run, (name, args), callback=settle("set_result"),
                                       error_callback=settle("set_exception"))
            return await asyncio.wait_for(future, self.timeout)
        except asyncio.TimeoutError:
            self._inflight.discard(future)
            self._restart(f"stopped because another {name} call took too long; recalculate")
            raise CallFailure(504, "#N/A", f"{name} took longer than {self.timeout:g} s and "
                              "was stopped: use fewer runs or raise --slow-timeout") from None
        finally:
            self._inflight.discard(future)

    def close(self):
        self._restart("the server is shutting down", start_again=False)
