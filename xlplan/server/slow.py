"""Slow calls (FIT_COEFFS) in worker processes, each with a time limit.

Fitting holds the GIL for up to a second, so a thread would stall the cheap
calls; a separate process does not. Each worker takes one call at a time, and a
call's time limit starts when a worker takes it (not while it waits its turn,
nor while a fresh worker starts up and imports the fitter). A call over the
limit is answered with ``#N/A`` and the workers are replaced, so a runaway fit
never keeps a core busy. Identical calls in flight share one computation (Excel
evaluates ``FIT_COEFFS(range)`` once per cell that uses it); beyond
``max_pending`` distinct calls waiting, new ones are refused at once.
"""

import asyncio
import multiprocessing
import threading

from .. import udfs
from .calls import CallFailure

__all__ = ["SlowPool", "WORKER_START_LIMIT"]

# Longest a fresh worker may take to start and import the fitter, seconds.
WORKER_START_LIMIT = 60.0


def _run(name, args):
    return udfs.FUNCTIONS[name].func(*args)


def _warm():
    import xlplan.fit.law  # noqa: F401  (the first real call should not pay for the import)


def _consume(future):
    """Mark a future's exception as seen (its callers may have gone away)."""
    if not future.cancelled():
        future.exception()


class SlowPool:
    """A pool of ``workers`` spawned processes; ``await run(name, args)`` a call."""

    def __init__(self, workers, timeout, max_pending=None):
        self.workers = workers
        self.timeout = timeout
        self.max_pending = max_pending or 16 * workers
        self._pool = None
        self._warming = []
        self._inflight = {}  # (name, repr(args)) -> asyncio future of the answer
        self._in_workers = set()  # futures of the calls the workers are running
        self._tasks = set()
        self._slots = asyncio.Semaphore(workers)

    @property
    def running(self):
        """How many distinct slow calls are waiting or running now."""
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
        """Kill the workers and start fresh ones; the calls they were running fail now.

        Calls still waiting their turn run on the fresh workers (or, when the pool
        is closing, fail too).
        """
        if self._pool is not None:
            threading.Thread(target=self._pool.terminate, daemon=True).start()
            self._pool = None
        failing = self._in_workers if start_again else set(self._inflight.values())
        for future in list(failing):
            if not future.done():
                future.set_exception(CallFailure(503, "#N/A", reason))
        if start_again:
            self._ensure()

    def _expire(self, future, name):
        if not future.done():
            future.set_exception(CallFailure(
                504, "#N/A", f"{name} took longer than {self.timeout:g} s and was stopped: "
                "use fewer runs or raise --slow-timeout"))
            self._restart(f"stopped because another {name} call took too long; recalculate")

    async def _launch(self, name, args, future):
        loop = asyncio.get_running_loop()

        def settle(method):
            return lambda value: loop.call_soon_threadsafe(
                lambda: future.done() or getattr(future, method)(value))

        async with self._slots:
            if future.done():  # the pool closed while it waited its turn
                return
            try:
                await self._ready()
                self._ensure().apply_async(_run, (name, args), callback=settle("set_result"),
                                           error_callback=settle("set_exception"))
            except Exception as error:  # noqa: BLE001  (a worker that cannot start)
                future.done() or future.set_exception(
                    CallFailure(503, "#N/A", f"{name}: no worker could take it ({error})"))
                return
            self._in_workers.add(future)
            timer = loop.call_later(self.timeout, self._expire, future, name)
            try:
                await asyncio.wait([future])
            finally:
                timer.cancel()
                self._in_workers.discard(future)

    async def run(self, name, args):
        key = (name, repr(args))
        future = self._inflight.get(key)
        if future is None:
            if len(self._inflight) >= self.max_pending:
                raise CallFailure(503, "#N/A", f"{name}: {len(self._inflight)} slow calls are "
                                  "already waiting; recalculate later")
            future = asyncio.get_running_loop().create_future()
            future.add_done_callback(_consume)
            future.add_done_callback(
                lambda f: self._inflight.pop(key, None) if self._inflight.get(key) is f else None)
            self._inflight[key] = future
            task = asyncio.ensure_future(self._launch(name, args, future))
            self._tasks.add(task)  # the loop keeps only weak references to tasks
            task.add_done_callback(self._tasks.discard)
        return await asyncio.shield(future)

    def close(self):
        self._restart("the server is shutting down", start_again=False)
