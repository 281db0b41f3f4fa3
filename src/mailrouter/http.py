"""The gateway's own HTTP listener (loopback by default): the status page `/`, `/healthz`,
`/readyz` and `/metrics`. A few fixed GET endpoints need no framework: this reads one request
line and its headers (bounded in size and time), answers, and closes. A handler is given the
query string's parameters.
"""

from __future__ import annotations

import asyncio
import json
import urllib.parse
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

from mailrouter import logs

log = logs.get("mailrouter.http")

MAX_HEAD = 8192
READ_SECONDS = 5.0


class Response(NamedTuple):
    status: int
    body: bytes
    content_type: str = "application/json"

    @classmethod
    def json(cls, status: int, data: Any) -> Response:
        return cls(status, json.dumps(data, indent=2).encode() + b"\n")


Handler = Callable[[dict[str, str]], Awaitable[Response]]
_REASONS = {200: "OK", 404: "Not Found", 405: "Method Not Allowed", 400: "Bad Request",
            503: "Service Unavailable", 500: "Internal Server Error"}  # fmt: skip


class HttpServer:
    def __init__(self, routes: dict[str, Handler], host: str, port: int) -> None:
        self.routes = routes
        self.host, self.requested_port = host, port
        self._server: asyncio.base_events.Server | None = None

    @property
    def port(self) -> int | None:
        if self._server is None or not self._server.sockets:
            return None
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        """Listen; a gateway that cannot (the port is taken) still routes mail: logged."""
        try:
            self._server = await asyncio.start_server(
                self._serve, self.host, self.requested_port, limit=MAX_HEAD
            )
        except OSError as exc:
            log.error("http_unavailable", host=self.host, port=self.requested_port,
                      error=str(exc))  # fmt: skip

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(READ_SECONDS):
                head = await reader.readuntil(b"\r\n\r\n")
            response = await self._answer(head)
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            response = Response.json(400, {"error": "bad request"})
        except ConnectionError:
            writer.close()
            return
        except Exception:
            log.exception("http_fault")
            response = Response.json(500, {"error": "fault"})
        reason = _REASONS.get(response.status, "")
        writer.write(
            f"HTTP/1.1 {response.status} {reason}\r\nContent-Type: {response.content_type}\r\n"
            f"Content-Length: {len(response.body)}\r\nCache-Control: no-store\r\n"
            "Connection: close\r\n\r\n".encode()
            + response.body
        )
        try:
            await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def _answer(self, head: bytes) -> Response:
        request_line = head.split(b"\r\n", 1)[0].decode("ascii", "replace")
        parts = request_line.split(" ")
        if len(parts) != 3:
            return Response.json(400, {"error": "bad request line"})
        method, target, _ = parts
        if method not in ("GET", "HEAD"):
            return Response.json(405, {"error": "GET only"})
        path, _, query = target.partition("?")
        handler = self.routes.get(path)
        if handler is None:
            return Response.json(404, {"error": "not found", "paths": sorted(self.routes)})
        params = {k: v[0] for k, v in urllib.parse.parse_qs(query[:2000]).items()}
        return await handler(params)
