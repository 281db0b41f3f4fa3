"""Is the gateway alive, and is it ready to take mail? (`/healthz`, `/readyz`)

Alive: the process answers. Ready, each check named in the answer with what is wrong:
- rules: loaded (their version; a refused reload is reported but leaves the running rules);
- journal: takes a real write and commit;
- spool: its filesystem has `http.min_free_bytes` free;
- delivery: the delivery child is running (between its death and restart, it is not);
- routes: no route has had only failed deliveries for `http.route_failing_minutes`.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import TYPE_CHECKING, Any

from mailrouter.deliver.process import DeliveryProcess
from mailrouter.http import Response

if TYPE_CHECKING:
    from mailrouter.gateway import Gateway


async def healthz(gateway: Gateway) -> Response:
    return Response.json(200, {"status": "alive", "rules_version": gateway.ruleset.fingerprint})


async def readyz(gateway: Gateway) -> Response:
    ready, problems, checks = await readiness(gateway)
    body = {"ready": ready, "problems": problems, "checks": checks}
    return Response.json(200 if ready else 503, body)


async def readiness(gateway: Gateway) -> tuple[bool, list[str], dict[str, dict[str, Any]]]:
    """(ready, one line per problem, every check with its detail)."""
    checks: dict[str, dict[str, Any]] = {}
    settings = gateway.settings
    last = gateway.last_reload
    checks["rules"] = _ok(f"version {gateway.ruleset.fingerprint} running")
    if last is not None and not last.accepted:
        checks["rules"]["last_reload"] = "refused: " + "; ".join(last.problems[:3])
    now = time.time()
    try:
        await asyncio.wait_for(gateway.journal("write_check", now), 5)
        checks["journal"] = _ok("writable")
    except Exception as exc:  # noqa: BLE001 - any failure is the answer
        checks["journal"] = _bad(f"cannot write: {exc or type(exc).__name__}")
    try:
        free = await asyncio.to_thread(_free_bytes, settings.spool_dir)
    except OSError as exc:
        checks["spool"] = _bad(f"cannot stat the spool: {exc.strerror}")
    else:
        needed = settings.http.min_free_bytes
        room = f"{free // 2**20} MiB free; {needed // 2**20} MiB needed"
        checks["spool"] = _ok(room) if free >= needed else _bad(room)
    queue = gateway.queue
    if isinstance(queue, DeliveryProcess):
        checks["delivery"] = (
            _ok(f"child process {queue.pid} running")
            if queue.alive
            else _bad("the delivery process is not running (it is restarted within seconds)")
        )
    else:
        checks["delivery"] = _ok("in this process")
    minutes = settings.http.route_failing_minutes
    try:
        failing = await gateway.journal("failing_routes", now, minutes * 60)
    except Exception as exc:  # noqa: BLE001
        failing, checks["routes"] = {}, _bad(f"cannot read the journal: {exc}")
    if failing:
        checks["routes"] = _bad(
            "; ".join(
                f"{route}: every delivery failing for {int((now - since) // 60)} min"
                for route, since in sorted(failing.items())
            )
        )
    elif "routes" not in checks:
        checks["routes"] = _ok(f"none failing for over {minutes:g} min")
    ready = all(check["ok"] for check in checks.values())
    problems = [f"{name}: {check['detail']}" for name, check in checks.items() if not check["ok"]]
    return ready, problems, checks


def _free_bytes(path: os.PathLike[str] | str) -> int:
    stat = os.statvfs(path)
    return stat.f_bavail * stat.f_frsize


def _ok(detail: str) -> dict[str, Any]:
    return {"ok": True, "detail": detail}


def _bad(detail: str) -> dict[str, Any]:
    return {"ok": False, "detail": detail}
