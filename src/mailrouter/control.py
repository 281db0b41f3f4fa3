"""The gateway's control socket: `var_dir/control.sock`, a Unix socket only its own user can
open (0600 in a 0700 directory). One request per connection, one line each way:

    reload   load, validate and sample-test the rules; swap them in only if all is well
    status   the running rules' version and the last reload's outcome

Answers are JSON. `mailrouter reload` is the client.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mailrouter import logs

if TYPE_CHECKING:
    from mailrouter.gateway import Gateway

SOCKET_NAME = "control.sock"
log = logs.get("mailrouter.control")


class NoGateway(Exception):
    """Nothing answers on the control socket."""


class ControlServer:
    def __init__(self, gateway: Gateway, path: Path) -> None:
        self.gateway = gateway
        self.path = path
        self._server: asyncio.base_events.Server | None = None

    async def start(self) -> None:
        """Listen; a gateway without its control socket (a path too long for a Unix socket,
        say) still routes mail, so a failure here is logged, not fatal."""
        try:
            self.path.unlink(missing_ok=True)  # left by a gateway that died; we hold the lock
            self._server = await asyncio.start_unix_server(self._serve, path=str(self.path))
            self.path.chmod(0o600)
        except OSError as exc:
            log.error("control_socket_unavailable", path=str(self.path), error=str(exc))

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            with contextlib.suppress(OSError):  # a read-only disk must not stop the stopping
                self.path.unlink(missing_ok=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await asyncio.wait_for(reader.readline(), 10)
            answer = self._answer(line.decode("ascii", "replace").strip())
            writer.write(json.dumps(answer).encode() + b"\n")
            await writer.drain()
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

    def _answer(self, command: str) -> dict[str, Any]:
        gateway = self.gateway
        if command == "reload":
            return gateway.reload_rules().to_json()
        if command == "status":
            last = gateway.last_reload
            return {
                "version": gateway.ruleset.fingerprint,
                "last_reload": last.to_json() if last is not None else None,
                "sessions": gateway.limit.active,
            }
        return {"error": f"unknown command {command[:40]!r}: reload or status"}


def ask(var_dir: Path, command: str, timeout: float = 60.0) -> dict[str, Any]:
    """Send one command to the gateway running on `var_dir`; its JSON answer."""
    path = var_dir / SOCKET_NAME
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(path))
            sock.sendall(command.encode() + b"\n")
            answer = sock.makefile("rb").readline()
    except (FileNotFoundError, ConnectionRefusedError) as exc:
        raise NoGateway(f"no gateway is running on {var_dir} ({path}: {exc.strerror})") from exc
    if not answer:
        raise NoGateway(f"the gateway on {var_dir} closed the control socket without answering")
    result: dict[str, Any] = json.loads(answer)
    return result
