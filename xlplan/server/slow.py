"""Slow calls (FIT_COEFFS) in worker processes, each with a time limit.

Fitting holds the GIL for up to a second, so a thread would stall the cheap
calls; a separate process (:mod:`xlplan.server.worker`, talking over its
stdin/stdout pipes) does not. Each worker takes one call at a time, and a
call's time limit starts when a worker takes it (not while it waits its turn,
nor while a fresh worker starts up and imports the fitter). A call over the
limit is answered with ``#N/A`` (504) and its worker is killed and replaced; a
worker that dies is noticed at once, since its pipe closes (503 "worker
stopped"), and replaced too. Identical calls in flight share one computation
(Excel evaluates ``FIT_COEFFS(range)`` once per cell that uses it); beyond
``max_pending`` distinct calls waiting, new ones are refused at once, and a
call that waits longer than ``max_wait`` for a worker is refused then, so the
server always answers within ``max_wait + timeout`` (the add-in waits that long).

:meth:`SlowPool.close` kills every worker and waits for it, so the server leaves
no process behind; the workers ignore SIGINT, so a Ctrl-C prints no traceback.
"""

import asyncio
import contextlib
import os
import sys
from pathlib import Path

from ..excel.limits import MAX_RESULT_CELLS
from .calls import CallFailure
from .settings import WORKER_START_S as WORKER_START_LIMIT
from .worker import write_message

__all__ = ["SlowPool", "WORKER_START_LIMIT"]


def _kill(process):
    """SIGKILL a worker process unless it has already exited (it ignores SIGINT)."""
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.kill()


def _consume(future):
    """Mark a future's exception as seen (its callers may have gone away)."""
    if not future.cancelled():
        future.exception()


class _Pipe:
    """The blocking read/write interface of :mod:`.worker` over asyncio streams."""

    def __init__(self, reader):
        self.reader = reader

    async def read(self):
        try:
            head = await self.reader.readexactly(4)
            return await self.reader.readexactly(int.from_bytes(head, "big"))
        except asyncio.IncompleteReadError:
            raise EOFError from None


class _Worker:
    """One worker process: ``await call(name, args)``; EOFError once the process is gone."""

    def __init__(self, process):
        self.process = process
        self.pipe = _Pipe(process.stdout)

    @classmethod
    async def start(cls, register, max_result_cells):
        package_root = str(Path(__file__).resolve().parents[2])
        path = os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH")) if p)
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "xlplan.server.worker",
            "--parent",
            str(os.getpid()),
            "--max-result-cells",
            str(max_result_cells),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": path},
        )
        worker = cls(process)
        register(process)  # kills it at once if the pool is closing
        try:
            ready = await asyncio.wait_for(worker._read(), WORKER_START_LIMIT)
        except BaseException:
            worker.kill()
            raise
        if ready != "ready":
            worker.kill()
            raise EOFError(f"the worker said {ready!r} instead of 'ready'")
        return worker

    async def _read(self):
        import pickle

        return pickle.loads(await self.pipe.read())

    async def call(self, name, args):
        stdin = self.process.stdin
        try:
            write_message(_Sink(stdin), (name, args))
            await stdin.drain()
        except (ConnectionError, RuntimeError):
            raise EOFError from None
        return await self._read()

    def kill(self):
        _kill(self.process)


class _Sink:
    """A file-like ``write``/``flush`` over an asyncio StreamWriter (for write_message)."""

    def __init__(self, writer):
        self.writer = writer

    def write(self, data):
        self.writer.write(data)

    def flush(self):
        pass


class _NoWorker(Exception):
    pass


class SlowPool:
    """A pool of ``workers`` worker processes; ``await run(name, args)`` a call."""

    def __init__(
        self, workers, timeout, max_wait=None, max_pending=None, max_result_cells=MAX_RESULT_CELLS
    ):
        self.workers = workers
        self.max_result_cells = max_result_cells
        self.timeout = timeout
        self.max_wait = max_wait if max_wait is not None else 16 * (timeout + WORKER_START_LIMIT)
        self.max_pending = max_pending or 16 * workers
        self.computed = 0  # calls sent to a worker (identical calls in flight count once)
        self._closing = False
        self._slots = None  # asyncio.Queue of free worker slots, made by start()
        self._starting = {}  # slot -> task that starts (or started) its worker
        self._processes = set()
        self._inflight = {}  # (name, repr(args)) -> asyncio future of the answer
        self._in_workers = set()  # futures of the calls the workers are running
        self._tasks = set()

    @property
    def running(self):
        """How many distinct slow calls are waiting or running now."""
        return len(self._inflight)

    @property
    def in_workers(self):
        """How many slow calls a worker has taken and not yet answered."""
        return len(self._in_workers)

    @property
    def ready(self):
        """How many workers have started and are alive."""
        return sum(
            t.done()
            and not t.cancelled()
            and t.exception() is None
            and t.result().process.returncode is None
            for t in self._starting.values()
        )

    def start(self):
        """Start the workers now (in the background), so the first call does not wait."""
        self._slots = asyncio.Queue()
        for slot in range(self.workers):
            self._replace(slot)
            self._slots.put_nowait(slot)

    def _replace(self, slot):
        """Start a fresh worker for ``slot`` (the old one, if any, is killed)."""
        old = self._starting.get(slot)
        if old is not None and old.done() and not old.cancelled() and not old.exception():
            old.result().kill()
        if self._closing:
            return
        task = asyncio.ensure_future(_Worker.start(self._register, self.max_result_cells))
        task.add_done_callback(_consume)
        self._starting[slot] = task

    async def _take(self):
        """A free slot and its started, living worker (the slot goes back on failure)."""
        slot = await self._slots.get()
        try:
            worker = await asyncio.shield(self._starting[slot])
            while worker.process.returncode is not None:  # died while idle: a fresh one
                if self._closing:
                    raise EOFError("the server is shutting down")
                self._replace(slot)
                worker = await asyncio.shield(self._starting[slot])
        except asyncio.CancelledError:
            self._slots.put_nowait(slot)
            raise
        except Exception as error:
            self._replace(slot)
            self._slots.put_nowait(slot)
            raise _NoWorker(error) from error
        return slot, worker

    async def _launch(self, name, args, future):
        try:
            slot, worker = await asyncio.wait_for(self._take(), self.max_wait)
        except asyncio.TimeoutError:
            return self._fail(
                future, 503, f"{name} waited {self.max_wait:g} s for a worker; recalculate later"
            )
        except _NoWorker as error:
            return self._fail(future, 503, f"{name}: no worker could start ({error.__cause__!r})")
        if future.done():  # the pool closed while it waited its turn
            return self._slots.put_nowait(slot)
        self._in_workers.add(future)
        self.computed += 1
        try:
            self._settle(future, await asyncio.wait_for(worker.call(name, args), self.timeout))
        except asyncio.TimeoutError:
            self._replace(slot)
            self._fail(
                future,
                504,
                f"{name} took longer than {self.timeout:g} s and was "
                "stopped: use fewer runs or raise --slow-timeout",
            )
        except EOFError:
            self._replace(slot)
            self._fail(
                future,
                503,
                f"{name}: the worker stopped before answering (it is replaced); recalculate",
            )
        finally:
            self._in_workers.discard(future)
            self._slots.put_nowait(slot)

    @staticmethod
    def _settle(future, value):
        if not future.done():
            future.set_result(value)

    @staticmethod
    def _fail(future, status, message):
        if not future.done():
            future.set_exception(CallFailure(status, "#N/A", message))

    async def run(self, name, args):
        if self._closing:
            raise CallFailure(503, "#N/A", "the server is shutting down")
        key = (name, repr(args))
        future = self._inflight.get(key)
        if future is None:
            if len(self._inflight) >= self.max_pending:
                raise CallFailure(
                    503,
                    "#N/A",
                    f"{name}: {len(self._inflight)} slow calls are "
                    "already waiting; recalculate later",
                )
            future = asyncio.get_running_loop().create_future()
            future.add_done_callback(_consume)
            future.add_done_callback(
                lambda f: self._inflight.pop(key, None) if self._inflight.get(key) is f else None
            )
            self._inflight[key] = future
            task = asyncio.ensure_future(self._launch(name, args, future))
            self._tasks.add(task)  # the loop keeps only weak references to tasks
            task.add_done_callback(self._tasks.discard)
        return await asyncio.shield(future)

    def _register(self, process):
        self._processes.add(process)
        if self._closing:
            _kill(process)

    def abort(self):
        """Answer every waiting or running call with 503 and kill the workers (no wait)."""
        self._closing = True
        for future in list(self._inflight.values()):
            self._fail(future, 503, "the server is shutting down; recalculate once it is back")
        for process in self._processes:
            _kill(process)

    async def close(self):
        """:meth:`abort`, then wait until every worker process has exited."""
        self.abort()
        # Not cancelled: a start cut short mid-exec would leave its process to the loop's
        # clean-up. Each ends at once, its process killed (by abort or on registering).
        await asyncio.gather(*self._starting.values(), return_exceptions=True)
        for process in list(self._processes):
            await process.wait()
