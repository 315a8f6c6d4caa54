"""A TCP proxy a test can cut: a real network outage without stopping a shared server.

``TCPProxy(host, port)`` listens on a free port of 127.0.0.1 and forwards each
connection to ``host:port``. ``stop()`` closes every connection and refuses
new ones, as a database that went down would; ``start()`` accepts again.
"""

from __future__ import annotations

import socket
import threading

from tests.fixtures_mail import HOST, free_port


class TCPProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((HOST, self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        """Refuse new connections and cut every open one, both ways."""
        if self._listener is not None:
            # shutdown() first: a bare close() leaves the accept() of the other thread listening.
            _close(self._listener)
            self._listener = None
        with self._lock:
            cut, self._open = self._open, set()
        for connection in cut:
            _close(connection)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _address = listener.accept()
            except OSError:
                return  # stopped
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                _close(client)
                continue
            with self._lock:
                self._open.update((client, upstream))
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        for connection in (source, target):
            with self._lock:
                self._open.discard(connection)
            _close(connection)


def _close(connection: socket.socket) -> None:
    try:
        connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    connection.close()
