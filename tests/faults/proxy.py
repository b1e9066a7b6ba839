"""A fault-injecting HTTP proxy between the engine and the payers: it forwards every
request to the payer simulator and, by the seeded plan (tests/faults/plan.py), answers some
of the X12 ones with a 500 (before or after the payer got the request), a 503 with
Retry-After, a hang longer than the client's timeout, garbage, a truncated answer, another
request's answer, or (the ERA mailbox) an 835 twice or 835s from before the cursor again.

`GET /_faults` shows the faults injected by kind. Anything not under /x12/ passes untouched.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import Counter, deque
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from payers.simulator.serve import STARTUP_TIMEOUT, wait_for_health
from tests.faults import damage
from tests.faults.plan import ERA_PATH, FaultPlan, request_key
from workers.devserver import free_port

UPSTREAM_TIMEOUT = 60.0
ANSWERS_KEPT = 64  # per endpoint, for wrong answers


@dataclass(frozen=True)
class InjectedFault:
    kind: str
    method: str
    path: str
    attempt: int  # how many times the proxy had seen this request before
    request: str  # the request body (X12) or query, to tell which encounter it hit


@dataclass
class _Upstream:
    status: int
    content: bytes
    media_type: str | None


@dataclass
class FaultProxy:
    upstream: str
    plan: FaultPlan
    injected: Counter[str] = field(default_factory=Counter)
    faults: list[InjectedFault] = field(default_factory=list)
    requests: int = 0
    _seen: Counter[str] = field(default_factory=Counter)
    _answers: dict[str, deque[tuple[str, _Upstream]]] = field(default_factory=dict)
    _delivered: dict[int, dict] = field(default_factory=dict)  # ERA seq -> document
    _http: httpx.AsyncClient | None = None

    def app(self) -> Starlette:
        @asynccontextmanager
        async def lifespan(_app: Starlette):
            async with httpx.AsyncClient(base_url=self.upstream, timeout=UPSTREAM_TIMEOUT) as http:
                self._http = http
                yield

        routes = [
            Route("/_faults", self._report, methods=["GET"]),
            Route("/{path:path}", self._handle, methods=["GET", "POST"]),
        ]
        return Starlette(routes=routes, lifespan=lifespan)

    async def _report(self, _request: Request) -> JSONResponse:
        return JSONResponse({"requests": self.requests, "injected": dict(self.injected)})

    async def _forward(self, request: Request, body: bytes) -> _Upstream:
        assert self._http is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() == "content-type"}
        response = await self._http.request(
            request.method,
            request.url.path,
            params=dict(request.query_params),
            content=body or None,
            headers=headers,
        )
        return _Upstream(
            response.status_code, response.content, response.headers.get("content-type")
        )

    async def _handle(self, request: Request) -> Response:
        body = await request.body()
        method, path = request.method, request.url.path
        if not path.startswith("/x12/"):
            return _respond(await self._forward(request, body))
        self.requests += 1
        key = request_key(method, path, dict(request.query_params), body)
        attempt = self._seen[key]
        self._seen[key] += 1
        kind, rng = self.plan.decide(method, path, key, attempt)
        answer: _Upstream | None = None
        if kind in ("500", "503"):
            headers = {"Retry-After": str(self.plan.retry_after_seconds)} if kind == "503" else {}
            answer = _Upstream(int(kind), b"proxy: payer unavailable", "text/plain")
            return self._injected(kind, request, body, attempt, answer, headers)
        if kind == "hang":
            # counted now: a run may end before the hang does (the client gave up at 10 s)
            answer = _Upstream(504, b"proxy: gave up", "text/plain")
            reply = self._injected(kind, request, body, attempt, answer)
            await asyncio.sleep(self.plan.hang_seconds)
            if rng.random() < 0.5:  # the payer got it after all; nobody hears the answer
                self._keep(path, key, await self._forward(request, body))
            return reply
        real = await self._forward(request, body)
        if real.status == 200:
            self._keep(path, key, real)
        damaged = self._damage(kind, rng, path, key, real) if real.status == 200 else None
        if kind is None or damaged is None:
            return _respond(real)
        return self._injected(kind, request, body, attempt, damaged)

    def _damage(
        self, kind: str | None, rng, path: str, key: str, real: _Upstream
    ) -> _Upstream | None:
        """The damaged version of a real 200 answer, or None when the fault has nothing to
        work on (no other answer yet, an empty ERA batch)."""
        x12_in_json = path == "/x12/837"
        match kind:
            case "500_forwarded":
                return _Upstream(500, b"proxy: lost the payer's answer", "text/plain")
            case "garbage":
                return _Upstream(200, damage.garbage(rng, x12_in_json), real.media_type)
            case "truncated":
                return _Upstream(
                    200, damage.truncated(rng, real.content, x12_in_json), real.media_type
                )
            case "wrong_answer":
                others = [a for k, a in self._answers.get(path, ()) if k != key]
                return rng.choice(others) if others else None
            case "duplicate" | "redeliver":
                return self._era_damage(kind, rng, real)
        return None

    def _era_damage(self, kind: str, rng, real: _Upstream) -> _Upstream | None:
        batch = json.loads(real.content)
        documents: list[dict] = batch["documents"]
        if kind == "duplicate":
            if not documents:
                return None
            at = rng.randrange(len(documents))
            documents.insert(at + 1, dict(documents[at]))
        else:
            first = _sequence(documents[0]["cursor"]) if documents else None
            before = sorted(s for s in self._delivered if first is None or s < first)
            if not before:
                return None
            again = [self._delivered[s] for s in before[-rng.randint(1, 3) :]]
            batch["documents"] = again + documents
        return _Upstream(200, json.dumps(batch).encode(), real.media_type)

    def _keep(self, path: str, key: str, real: _Upstream) -> None:
        """A real answer: for later wrong answers, and the ERA documents delivered."""
        if real.status != 200:
            return
        if path == ERA_PATH:
            for document in json.loads(real.content)["documents"]:
                self._delivered[_sequence(document["cursor"])] = document
            return
        kept = self._answers.setdefault(path, deque(maxlen=ANSWERS_KEPT))
        if all(k != key for k, _ in kept):
            kept.append((key, real))

    def _injected(
        self,
        kind: str,
        request: Request,
        body: bytes,
        attempt: int,
        answer: _Upstream,
        headers: dict[str, str] | None = None,
    ) -> Response:
        self.injected[kind] += 1
        shown = body.decode("ascii", "replace") if body else str(request.query_params)
        self.faults.append(InjectedFault(kind, request.method, request.url.path, attempt, shown))
        return _respond(answer, headers)


def _sequence(cursor: str) -> int:
    return int(cursor.rpartition(".")[2])


def _respond(answer: _Upstream, headers: dict[str, str] | None = None) -> Response:
    return Response(answer.content, answer.status, headers=headers, media_type=answer.media_type)


@dataclass
class RunningProxy:
    url: str
    proxy: FaultProxy
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=STARTUP_TIMEOUT + self.proxy.plan.hang_seconds)


def start_proxy(upstream: str, plan: FaultPlan, host: str = "127.0.0.1") -> RunningProxy:
    """The proxy on a free port, in a daemon thread; returns once it forwards /health."""
    proxy = FaultProxy(upstream, plan)
    port = free_port()
    config = uvicorn.Config(proxy.app(), host=host, port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"fault-proxy-{port}", daemon=True)
    thread.start()
    running = RunningProxy(f"http://{host}:{port}", proxy, server, thread)
    if wait_for_health(running.url, thread):
        return running
    running.stop()
    raise RuntimeError(f"fault proxy on {running.url} did not forward /health in time")
