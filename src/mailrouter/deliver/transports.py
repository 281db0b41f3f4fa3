"""The transports a configuration needs, by name: only those some route uses are opened."""

from __future__ import annotations

from collections.abc import Iterable

from mailrouter.config import Settings
from mailrouter.deliver.base import Transport
from mailrouter.deliver.imap_append import ImapAppendTransport
from mailrouter.deliver.maildir import MaildirTransport
from mailrouter.deliver.smtp_relay import SmtpRelayTransport


def open_transports(settings: Settings, routes: Iterable[str]) -> dict[str, Transport]:
    delivery = settings.delivery
    wanted = {delivery.transport_for(route) for route in routes}
    wanted |= {r.transport for r in delivery.routes.values()}
    transports: dict[str, Transport] = {}
    if "maildir" in wanted:
        transports["maildir"] = MaildirTransport(settings.maildir_root, settings.node)
    if "smtp" in wanted:
        transports["smtp"] = SmtpRelayTransport(
            delivery.smtp, settings.smtp.hostname, delivery.smtp.mail_from or None
        )
    if "imap" in wanted:
        transports["imap"] = ImapAppendTransport(delivery.imap)
    return transports
