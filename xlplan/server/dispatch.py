"""Runs the calls of one request: cheap ones on a thread, slow ones in the worker pool.

Cheap calls run on a thread so the event loop keeps accepting requests; slow ones
(``FIT_COEFFS``, ``PLAN_INTERVAL``) run in :class:`~xlplan.server.slow.SlowPool`
processes with a time limit, so they never hold up the cheap ones.

Answers are bounded before anything is computed: each call's answer by
``max_result_cells`` (see :mod:`xlplan.excel.limits`), and the answers of one
request together by ``max_response_cells``; a call beyond either gets a
``#VALUE!`` naming the size and the limit, and the other calls of its batch are
answered as usual.
"""

import asyncio

from starlette.concurrency import run_in_threadpool

from ..excel import limits
from .calls import CallFailure, outcome, prepare, result_cells
from .settings import QUEUE_PER_WORKER
from .slow import SlowPool

__all__ = ["Dispatcher"]


class Dispatcher:
    """The calls of requests under ``settings``; ``slow`` is the worker pool."""

    def __init__(self, settings):
        self.settings = settings
        self.slow = SlowPool(
            settings.slow_workers,
            settings.slow_timeout,
            max_wait=settings.max_queue_wait,
            max_pending=QUEUE_PER_WORKER * settings.slow_workers,
            max_result_cells=settings.max_result_cells,
        )

    @staticmethod
    def _one(spec, args):
        """One call's answer, whatever happens in it: a bad cell never fails its batch."""
        try:
            return outcome(spec.func(*args), spec.name)
        except Exception as error:
            return CallFailure(
                400, "#VALUE!", f"{spec.name}: {type(error).__name__}: {str(error)[:200]}"
            ).outcome()

    def _cheap(self, prepared):
        with limits.result_limit(self.settings.max_result_cells):
            return [self._one(spec, args) for spec, args in prepared]

    async def _slow(self, spec, args):
        try:
            return outcome(await self.slow.run(spec.name, args), spec.name)
        except CallFailure as failure:
            return failure.outcome()

    def _budgeted(self, call, budget):
        """(spec, args, cells) of a call that fits what is left of the response's cells."""
        spec, args = prepare(call, self.settings.max_cells, self.settings.max_result_cells)
        cells = result_cells(spec, args)
        if cells > budget:
            raise CallFailure(
                400,
                "#VALUE!",
                f"{spec.name}: the answers of this request "
                f"would be over the limit of {self.settings.max_response_cells:,} "
                f"cells with this call's {cells:,}: recalculate fewer cells at "
                "once",
            )
        return spec, args, cells

    async def run(self, calls):
        """(status, body) for each call, in order."""
        answers = [None] * len(calls)
        cheap, slow = [], []
        budget = self.settings.max_response_cells
        for i, call in enumerate(calls):
            try:
                spec, args, cells = self._budgeted(call, budget)
            except CallFailure as failure:
                answers[i] = failure.outcome()
                continue
            budget -= cells
            (slow if spec.slow else cheap).append((i, spec, args))
        pending = [self._slow(spec, args) for _, spec, args in slow]
        if cheap:
            pending.append(run_in_threadpool(self._cheap, [(s, a) for _, s, a in cheap]))
        done = await asyncio.gather(*pending)
        # done holds one answer per slow call, then (if any) the list of cheap answers
        for (i, _, _), answer in zip(slow, done, strict=False):
            answers[i] = answer
        if cheap:
            for (i, _, _), answer in zip(cheap, done[-1], strict=True):
                answers[i] = answer
        return answers
