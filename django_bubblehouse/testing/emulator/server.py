"""The emulator over real HTTP on the loopback interface, runnable from a thread."""

from __future__ import annotations

import socket
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .api import Reply, handle
from .state import EmulatorState


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive, like the real API behind a load balancer
    # The headers and the body go out in two writes; with Nagle's algorithm on, the
    # second waits for the client's delayed ACK (~40 ms per request on keep-alive).
    disable_nagle_algorithm = True

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        reply = handle(self.server.state, self.command, self.path, dict(self.headers), body)
        # Latency and stalls wait on the stop event, so stop() never hangs on a sleeping thread.
        if reply.delay and self.server.stopping.wait(reply.delay):
            return self._reset()
        if reply.transport_fault == "reset":
            return self._reset()
        self._send(reply)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def _send(self, reply: Reply) -> None:
        payload = reply.body_bytes()
        try:
            self.send_response(reply.status)
            for name, value in reply.all_headers().items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except OSError:
            # The client gave up (a read timeout): what a slow real server would see too.
            self.close_connection = True

    def _reset(self) -> None:
        """Close with a TCP RST and no response: the client sees a connection error."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        # The default access log goes to stderr on every request; tests do not want that.
        if self.server.verbose:
            super().log_message(format, *args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], state: EmulatorState, verbose: bool) -> None:
        super().__init__(address, _Handler)
        self.state = state
        self.verbose = verbose
        self.stopping = threading.Event()


class EmulatorServer:
    """``start()`` binds 127.0.0.1 (port 0 picks a free port) and serves from a daemon thread."""

    def __init__(
        self,
        state: EmulatorState | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        verbose: bool = False,
    ) -> None:
        self.state = state or EmulatorState()
        self._address = (host, port)
        self._verbose = verbose
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the emulator is not running")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self._address[0]}:{self.port}"

    def bind(self) -> _Server:
        if self._server is None:
            self._server = _Server(self._address, self.state, self._verbose)
        return self._server

    def start(self) -> EmulatorServer:
        server = self.bind()
        # A short poll keeps stop() (once per test in the pytest fixture) fast.
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.05,), name="bubblehouse-emulator", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread (the CLI) until interrupted."""
        self.bind().serve_forever()

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
