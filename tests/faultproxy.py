"""A TCP forwarder between the app and its database that can play a database restart.

    proxy = FaultProxy("127.0.0.1", 5432).start()   # point the app at 127.0.0.1:proxy.port
    proxy.stop()    # the database goes down: every connection is cut, new ones are refused
    proxy.start()   # it is back, on the same port

Threads and plain sockets only. Used by tests/test_faults.py and by bench/load_bench.py
--fault proxy (a restart that touches no shared server).
"""

from __future__ import annotations

import contextlib
import socket
import threading

ACCEPT_POLL_SECONDS = 0.05
CHUNK = 1 << 16


class FaultProxy:
    """Forward 127.0.0.1:port to (host, target_port) until stopped; restartable."""

    def __init__(self, host: str, target_port: int):
        self.target = (host, target_port)
        self.port = 0  # chosen on the first start, kept across restarts
        self.connections = 0  # accepted so far, over every start
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._running = threading.Event()
        self._acceptor: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._running.is_set()

    def start(self) -> FaultProxy:
        """Listen (again) and forward each new connection to the target."""
        if self.running:
            return self
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(ACCEPT_POLL_SECONDS)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._running.set()
        self._acceptor = threading.Thread(target=self._accept, args=(listener,), daemon=True,
                                          name=f"faultproxy-{self.port}")
        self._acceptor.start()
        return self

    def stop(self) -> None:
        """The database goes away: stop listening (connects are refused) and cut every
        connection open now, both ways, before returning."""
        self._running.clear()
        if self._acceptor is not None:
            self._acceptor.join()
            self._acceptor = None
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        with self._lock:
            cut, self._sockets = self._sockets, set()
        for sock in cut:
            _close(sock)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _accept(self, listener: socket.socket) -> None:
        while self._running.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _close(client)
                continue
            client.settimeout(None)
            upstream.settimeout(None)
            with self._lock:
                if not self._running.is_set():  # stopped while we connected
                    _close(client)
                    _close(upstream)
                    return
                self._sockets.update((client, upstream))
                self.connections += 1
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(CHUNK):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:  # one side ended: so does the other
            with self._lock:
                self._sockets.discard(source)
                self._sockets.discard(sink)
            _close(source)
            _close(sink)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()
