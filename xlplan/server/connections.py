"""Deadlines on every connection, so idle or slow clients cannot hold the server's slots.

uvicorn counts open connections against ``--max-connections`` (503 beyond), but it
closes a connection on its own only once an answer has been sent and the
connection then stays idle (keep-alive). A client that connects and sends nothing,
or sends its request head a byte at a time (each byte restarts uvicorn's timer), would
hold its slot for ever, and a few such clients would shut everyone else out.

:class:`DeadlineProtocol` (uvicorn's h11 protocol with three timers) closes:

* a connection whose request head has not fully arrived ``read_timeout`` seconds
  after it was opened, or after the previous answer was sent: silently if nothing at
  all came, with 408 if part of a head did;
* a connection whose answer cannot be written (the client does not read it) for
  ``read_timeout`` seconds.

The body has its own whole-body deadline in :class:`~xlplan.server.security.BodyLimit`.
So every slot held by a silent or slow client is free again within ``read_timeout``.
"""

import json

from uvicorn.protocols.http.h11_impl import H11Protocol

from .calls import CallFailure

__all__ = ["DeadlineProtocol", "protocol_with"]


def _timeout_answer(timeout):
    status, body = CallFailure(
        408, "#VALUE!", f"the request head did not arrive within {timeout:g} s"
    ).outcome()
    data = json.dumps(body).encode()
    return (
        f"HTTP/1.1 {status} Request Timeout\r\ncontent-type: application/json\r\n"
        f"content-length: {len(data)}\r\nconnection: close\r\n"
        "x-content-type-options: nosniff\r\n\r\n"
    ).encode() + data


class DeadlineProtocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request head and each stalled write.

    ``read_timeout`` is set on a subclass by :func:`protocol_with`.
    """

    read_timeout = 30.0

    def _arm_head_deadline(self):
        self._cancel(("_head_timer",))
        self._head_bytes = False
        self._head_timer = self.loop.call_later(self.read_timeout, self._head_too_slow)

    def _cancel(self, names):
        for name in names:
            timer = getattr(self, name, None)
            if timer is not None:
                timer.cancel()
                setattr(self, name, None)

    def _head_too_slow(self):
        self._head_timer = None
        if self.transport.is_closing():
            return
        if self._head_bytes:  # part of a request came: say why the connection closes
            self.transport.write(_timeout_answer(self.read_timeout))
        self.logger.info(
            "closed a connection whose request head did not arrive within %g s", self.read_timeout
        )
        self.transport.close()

    def _write_too_slow(self):
        self._write_timer = None
        self.logger.warning(
            "dropped a connection that read none of its answer for %g s", self.read_timeout
        )
        self.transport.abort()  # the client reads nothing: drop what is buffered

    def connection_made(self, transport):
        super().connection_made(transport)
        self._arm_head_deadline()

    def data_received(self, data):
        self._head_bytes = True
        super().data_received(data)

    def handle_events(self):
        cycle = self.cycle
        super().handle_events()
        if self.cycle is not cycle:  # a whole request head arrived: the body has its own
            self._cancel(("_head_timer",))

    def on_response_complete(self):
        # Armed first: the parent may start a pipelined request at once (which disarms it).
        if not self.transport.is_closing():
            self._arm_head_deadline()
        super().on_response_complete()

    def pause_writing(self):
        super().pause_writing()
        self._cancel(("_write_timer",))
        self._write_timer = self.loop.call_later(self.read_timeout, self._write_too_slow)

    def resume_writing(self):
        self._cancel(("_write_timer",))
        super().resume_writing()

    def connection_lost(self, exc):
        self._cancel(("_head_timer", "_write_timer"))
        super().connection_lost(exc)


def protocol_with(read_timeout):
    """A :class:`DeadlineProtocol` class whose deadlines are ``read_timeout`` seconds."""
    return type("DeadlineProtocol", (DeadlineProtocol,), {"read_timeout": float(read_timeout)})
