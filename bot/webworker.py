"""gunicorn's gthread worker bounded on slow clients: no worker thread waits long for a client that stalls.

Stock gthread (27) gives every new connection a thread for up to 5 s while it waits for the first byte, and
then reads the request line and headers with no timeout at all, so 16 silent or half-sent requests stop a
worker. Here a connection gets a thread only once its first bytes are there (else it waits on the poller,
where the keep-alive timeout closes it), and every blocking read or write on it gives up after
IO_TIMEOUT_SECONDS, as a reset connection (which gunicorn closes quietly). bot.front bounds the body itself.
"""

from __future__ import annotations

import errno
import socket
from typing import Any

from gunicorn.workers import gthread

FIRST_BYTES_SECONDS = 0.05
IO_TIMEOUT_SECONDS = 2.0


class BoundedSocket(socket.socket):
    """A client socket whose blocking mode has a timeout; a timeout reads as a reset connection."""

    __slots__ = ()

    def setblocking(self, flag: bool) -> None:
        """Blocking means blocking for at most IO_TIMEOUT_SECONDS per operation."""
        if flag:
            self.settimeout(IO_TIMEOUT_SECONDS)
        else:
            super().setblocking(False)

    def recv(self, *args: Any) -> bytes:
        """socket.recv; a stalled client is a reset one."""
        try:
            return super().recv(*args)
        except TimeoutError as exc:
            raise _stalled() from exc

    def recv_into(self, *args: Any) -> int:
        """socket.recv_into; a stalled client is a reset one."""
        try:
            return super().recv_into(*args)
        except TimeoutError as exc:
            raise _stalled() from exc

    def sendall(self, *args: Any) -> None:
        """socket.sendall; a client that stopped reading is a reset one."""
        try:
            super().sendall(*args)
        except TimeoutError as exc:
            raise _stalled() from exc


def _stalled() -> ConnectionResetError:
    return ConnectionResetError(errno.ECONNRESET, f"the client stalled for {IO_TIMEOUT_SECONDS:.0f} s")


class BoundedThreadWorker(gthread.ThreadWorker):  # type: ignore[misc]
    """gthread whose threads never wait long on one client (`worker_class` of `serve --http`)."""

    def enqueue_req(self, conn: Any) -> None:
        """Bound the connection's blocking I/O before a thread handles it."""
        if type(conn.sock) is socket.socket:
            conn.sock.__class__ = BoundedSocket
        super().enqueue_req(conn)

    def handle(self, conn: Any) -> Any:
        """Hand a new connection back to the poller unless its first bytes are already there."""
        if not conn.initialized and not conn.data_ready and not conn.wait_for_data(FIRST_BYTES_SECONDS):
            return gthread._DEFER
        return super().handle(conn)
