"""SMTP relay delivery (aiosmtplib): each route's mailbox address through a smart host.

STARTTLS is required by default (MoJ guidance: enforced TLS to gov.uk), with certificates
verified; "opportunistic" and "off" exist for a relay on the same host. A 4xx reply or a
dropped connection is temporary, a 5xx reply permanent. Envelope addresses are checked for
control characters before they reach the wire (aiosmtplib sends them as given).

Exactly-once is not available over SMTP: if the connection drops after the relay accepted the
data but before its reply arrived, the retry delivers a second copy. The X-Mailrouter-Id
header lets the receiving side recognise it.
"""

from __future__ import annotations

import ssl

import aiosmtplib

from mailrouter.config import SmtpHostSettings
from mailrouter.deliver.base import Delivery, PermanentDeliveryError, TemporaryDeliveryError


class SmtpRelayTransport:
    name = "smtp"

    def __init__(
        self, settings: SmtpHostSettings, local_hostname: str, mail_from: str | None = None
    ) -> None:
        """`mail_from`: the envelope sender of everything sent; None: each delivery's own
        ("" is the null sender, for notices)."""
        self.settings = settings
        self.local_hostname = local_hostname
        self.mail_from = mail_from
        self._tls: ssl.SSLContext | None = None
        if settings.starttls != "off":
            self._tls = ssl.create_default_context(
                cafile=str(settings.ca_file) if settings.ca_file else None
            )

    async def deliver(self, delivery: Delivery) -> str:
        if not delivery.mailbox:
            raise PermanentDeliveryError(f"route {delivery.route} has no mailbox address")
        sender = delivery.sender if self.mail_from is None else self.mail_from
        for address in (sender, delivery.mailbox):
            if any(ord(ch) < 0x21 or ch in "<>" for ch in address):
                raise PermanentDeliveryError("an envelope address holds characters not allowed")
        start_tls = {"required": True, "opportunistic": None, "off": False}[self.settings.starttls]
        client = aiosmtplib.SMTP(
            hostname=self.settings.host,
            port=self.settings.port,
            timeout=self.settings.timeout,
            start_tls=start_tls,
            tls_context=self._tls,
            local_hostname=self.local_hostname,
            username=self.settings.username,
            password=self.settings.password,
        )
        try:
            await client.connect()
            _, reply = await client.sendmail(sender, [delivery.mailbox], delivery.message)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise _by_code(exc.recipients[0].code, exc.recipients[0].message) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise _by_code(exc.code, exc.message) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise TemporaryDeliveryError(f"smtp {self.settings.host}: {exc}") from exc
        finally:
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError):
                client.close()
        return f"smtp {self.settings.host}: {reply}"[:300]

    async def close(self) -> None:
        return None


def _by_code(code: int, message: str) -> Exception:
    text = f"{code} {message}"
    if 400 <= code < 500:
        return TemporaryDeliveryError(text)
    return PermanentDeliveryError(text)
