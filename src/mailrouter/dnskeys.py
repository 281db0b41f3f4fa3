"""DKIM public keys from DNS: the one place where an input of `decide` comes off the network.

The edges (SMTP server, IMAP puller, CLI) call this before `decide`, for the keys the message's DKIM
signatures name, and pass the answers in `Envelope.dkim_keys`. Tests pass keys directly.
"""

from __future__ import annotations

import dns.asyncresolver
import dns.exception
import dns.resolver

TIMEOUT_SECONDS = 3.0


def _join(answer: dns.resolver.Answer) -> bytes | None:
    for record in answer:
        return b"".join(record.strings)
    return None


def lookup_keys(names: list[str], timeout: float = TIMEOUT_SECONDS) -> dict[str, bytes]:
    keys: dict[str, bytes] = {}
    for name in names[:8]:
        try:
            answer = dns.resolver.resolve(name, "TXT", lifetime=timeout)
        except (dns.exception.DNSException, OSError):
            continue
        txt = _join(answer)
        if txt is not None:
            keys[name] = txt
    return keys


async def lookup_keys_async(names: list[str], timeout: float = TIMEOUT_SECONDS) -> dict[str, bytes]:
    keys: dict[str, bytes] = {}
    for name in names[:8]:
        try:
            answer = await dns.asyncresolver.resolve(name, "TXT", lifetime=timeout)
        except (dns.exception.DNSException, OSError):
            continue
        txt = _join(answer)
        if txt is not None:
            keys[name] = txt
    return keys
