"""Payer endpoints for tests that need answers our simulator never gives: real HTTP servers
on loopback. `payer_stub` answers each request from its method and path; `faulty_payer`
stands in front of the simulator and answers some requests itself (a fault), forwarding the
rest."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from workers.devserver import free_port

# (method, path with its query, request body, its content type) -> (status, content type, body)
Reply = Callable[[str, str, bytes, str], tuple[int, str, bytes]]
Answer = Callable[[str, str], tuple[str, bytes]]  # (method, path) -> (content type, body)
# (method, path, nth, request body) -> (status, body) to answer, or None to forward
Fault = Callable[[str, str, int, bytes], tuple[int, bytes] | None]


@contextmanager
def _serving(reply: Reply) -> Iterator[str]:
    """Serve `reply` until the block ends; yields the base URL."""

    class Handler(BaseHTTPRequestHandler):
        def _reply(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            sent_as = self.headers.get("Content-Type", "")
            status, content_type, content = reply(self.command, self.path, body, sent_as)
            self.send_response(status)
            if content_type:
                self.send_header("Content-Type", content_type)
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


@contextmanager
def payer_stub(answer: Answer) -> Iterator[str]:
    """Every request answered 200 with `answer(method, path)`."""

    def reply(method: str, path: str, body: bytes, sent_as: str) -> tuple[int, str, bytes]:
        return (200, *answer(method, path))

    with _serving(reply) as url:
        yield url


@contextmanager
def faulty_payer(target: str, fault: Fault) -> Iterator[str]:
    """A payer in front of `target` that answers (status, body) where `fault` says so for the
    nth request (from 1) to a method and path (and its body), and forwards every other request
    as it came."""
    counts: dict[tuple[str, str], int] = {}
    lock = threading.Lock()

    def reply(method: str, path: str, body: bytes, sent_as: str) -> tuple[int, str, bytes]:
        route = path.split("?")[0]
        with lock:
            counts[method, route] = nth = counts.get((method, route), 0) + 1
        answer = fault(method, route, nth, body)
        if answer is not None:
            return (answer[0], "", answer[1])
        forwarded = httpx.request(
            method,
            target + path,
            content=body,
            headers={"Content-Type": sent_as} if sent_as else None,
        )
        return (forwarded.status_code, forwarded.headers.get("content-type", ""), forwarded.content)

    with _serving(reply) as url:
        yield url
