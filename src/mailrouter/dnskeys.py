"""DKIM public keys from DNS: the one place where an input of `decide` comes off the network.

The edges (SMTP server, IMAP puller, CLI) call this before `decide`, for the keys the message's
acceptable DKIM signatures name (policy.auth.dkim_key_names: aligned with the From, a few at
most), and pass the answers in `Envelope.dkim_keys`. Tests pass keys directly.

The lookups run side by side under one deadline for them all: a message naming slow or dead
name servers costs its session at most `deadline` seconds, never one timeout per signature.
"""

from __future__ import annotations

import asyncio

import dns.asyncresolver
import dns.exception
import dns.resolver

DEADLINE_SECONDS = 4.0
MAX_NAMES = 3


def _join(answer: dns.resolver.Answer) -> bytes | None:
    for record in answer:
        return b"".join(record.strings)
    return None


def lookup_keys(names: list[str], deadline: float = DEADLINE_SECONDS) -> dict[str, bytes]:
    return asyncio.run(lookup_keys_async(names, deadline))


async def lookup_keys_async(
    names: list[str], deadline: float = DEADLINE_SECONDS
) -> dict[str, bytes]:
    wanted = list(dict.fromkeys(names))[:MAX_NAMES]
    tasks = [asyncio.create_task(_one(name, deadline)) for name in wanted]
    if not tasks:
        return {}
    done, pending = await asyncio.wait(tasks, timeout=deadline)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    keys: dict[str, bytes] = {}
    for name, task in zip(wanted, tasks, strict=True):
        if task in done and not task.cancelled() and task.exception() is None:
            txt = task.result()
            if txt is not None:
                keys[name] = txt
    return keys


async def _one(name: str, lifetime: float) -> bytes | None:
    try:
        answer = await dns.asyncresolver.resolve(name, "TXT", lifetime=lifetime)
    except (dns.exception.DNSException, OSError):
        return None
    return _join(answer)
