"""A payer endpoint for tests that need answers our simulator never gives: a real HTTP
server on loopback whose answer to each request is a function of the method and path."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from workers.devserver import free_port

Answer = Callable[[str, str], tuple[str, bytes]]  # (method, path) -> (content type, body)


@contextmanager
def payer_stub(answer: Answer) -> Iterator[str]:
    """Serve `answer` until the block ends; yields the base URL."""

    class Handler(BaseHTTPRequestHandler):
        def _reply(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            content_type, body = answer(self.command, self.path)
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _reply  # noqa: N815

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


# (method, path, nth, request body) -> (status, body) to answer, or None to forward
Fault = Callable[[str, str, int, bytes], tuple[int, bytes] | None]


@contextmanager
def faulty_payer(target: str, fault: Fault) -> Iterator[str]:
    """A payer in front of `target` that answers (status, body) where `fault` says so for the
    nth request (from 1) to a method and path (and its body), and forwards every other request
    as it came."""
    counts: dict[tuple[str, str], int] = {}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def _reply(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            route = self.path.split("?")[0]
            with lock:
                counts[self.command, route] = nth = counts.get((self.command, route), 0) + 1
            answer = fault(self.command, route, nth, body)
            if answer is None:
                forwarded = httpx.request(
                    self.command, target + self.path, content=body,
                    headers={"Content-Type": self.headers.get("Content-Type", "")},
                )  # fmt: skip
                status, content = forwarded.status_code, forwarded.content
            else:
                status, content = answer
            self.send_response(status)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        do_GET = do_POST = _reply  # noqa: N815

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
