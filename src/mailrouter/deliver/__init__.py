"""Delivery to the teams: one small transport protocol and three transports.

    base.Transport.deliver(Delivery) -> str      what the destination said, for the journal

Transports: maildir.MaildirTransport (the embedded default), smtp_relay.SmtpRelayTransport,
imap_append.ImapAppendTransport. Errors (base.py):

    DeliveryError
    ├── TemporaryDeliveryError    destination down, busy or full: retried with back-off
    └── PermanentDeliveryError    destination refused for good: the message is parked

Every transport is idempotent under retry: given `maybe_delivered` (an earlier attempt's
outcome is unknown, e.g. after a crash) it checks the destination before delivering again.
"""
