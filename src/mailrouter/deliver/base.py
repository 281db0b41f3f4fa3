"""The transport protocol and the delivery errors (see the package docstring)."""

from __future__ import annotations

from typing import NamedTuple, Protocol


class DeliveryError(Exception):
    """A delivery attempt failed."""


class TemporaryDeliveryError(DeliveryError):
    """Try again later: the destination is down, busy, full, or did not answer."""


class PermanentDeliveryError(DeliveryError):
    """Do not try again: the destination refused the message for good."""


class Delivery(NamedTuple):
    id: str  # the gateway id, also in X-Mailrouter-Id
    route: str
    mailbox: str | None  # the route's address (SMTP relay recipient)
    sender: str  # envelope sender for relaying
    message: bytes  # the original bytes with our headers prepended
    maybe_delivered: bool  # an earlier attempt may have succeeded: check first


class Transport(Protocol):
    name: str

    async def deliver(self, delivery: Delivery) -> str:
        """Deliver once; return what the destination said. Raises DeliveryError."""
        ...

    async def close(self) -> None: ...
