"""Who may hold an SMTP session, and how long each command may take: so that no one client,
and no crowd of slow ones, can take the gateway off the air (SECURITY.md "Resource exhaustion").

- A cap on sessions in all (aiosmtpd has none, issue #282); past it, 421 and close.
- A cap per client address: one address cannot fill the gateway (Postfix's
  smtpd_client_connection_count_limit).
- A reserve: the last few sessions are kept for the trusted relays (the organisation's edge
  MTA), so a flood from outside cannot lock out the mail that comes through the front.
- A deadline per command, not per read: aiosmtpd restarts its timer only when a whole command
  has arrived, so a client sending a byte every few seconds gains nothing. Under stress (most
  sessions in use) the deadline is short, for new sessions and for those already open, as
  Postfix's stress mode shortens its timeouts.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from typing import Protocol

from mailrouter.ingest import replies


class Session(Protocol):
    def tighten(self, seconds: float) -> None: ...

    def say_goodbye(self) -> None: ...


class Admission:
    def __init__(
        self,
        maximum: int,
        *,
        per_client: int | None = None,
        relay_reserve: int = 0,
        timeout: float = 300.0,
        stress_timeout: float = 10.0,
        stress_fraction: float = 0.8,
        is_relay: Callable[[str], bool] = lambda _ip: False,
    ) -> None:
        self.maximum = maximum
        self.per_client = per_client or maximum
        self.relay_reserve = min(relay_reserve, maximum - 1)
        self.normal_timeout = timeout
        self.stress_timeout = min(stress_timeout, timeout)
        self.stress_at = max(1, int(maximum * stress_fraction))
        self.is_relay = is_relay
        self.active = 0
        self.refused = 0  # sessions turned away since start, for logs and metrics
        self.idle = asyncio.Event()
        self.idle.set()
        self._clients: Counter[str] = Counter()
        self._sessions: dict[Session, str] = {}

    @property
    def stressed(self) -> bool:
        return self.active >= self.stress_at

    def timeout(self) -> float:
        """The deadline for a command that starts now."""
        return self.stress_timeout if self.stressed else self.normal_timeout

    def admit(self, session: Session, client: str) -> replies.Reply | None:
        """None when `session` from address `client` may go on; else the reply refusing it."""
        relay = self.is_relay(client)
        room = self.maximum if relay else self.maximum - self.relay_reserve
        if self.active >= room:
            self.refused += 1
            return replies.TOO_MANY_SESSIONS
        if not relay and self._clients[client] >= self.per_client:
            self.refused += 1
            return replies.TOO_MANY_FROM_CLIENT
        was_stressed = self.stressed
        self.active += 1
        self._clients[client] += 1
        self._sessions[session] = client
        self.idle.clear()
        if self.stressed and not was_stressed:
            for other in self._sessions:
                other.tighten(self.stress_timeout)
        return None

    def close_all(self) -> None:
        """Tell every session the gateway is stopping (421), each once its message is done."""
        for session in list(self._sessions):
            session.say_goodbye()

    def release(self, session: Session) -> None:
        client = self._sessions.pop(session, None)
        if client is None:
            return
        self.active -= 1
        self._clients[client] -= 1
        if self._clients[client] <= 0:
            del self._clients[client]
        if self.active <= 0:
            self.active = 0
            self.idle.set()
