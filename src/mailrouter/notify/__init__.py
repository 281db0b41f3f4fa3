"""Mail the gateway sends itself: notices to senders and delivery status notifications.

- autoreply: whether RFC 3834 lets us answer a message automatically, and to which address;
- build: the notices as bytes (bounce notice, acknowledgement, RFC 3464 DSN);
- outbox: the durable outbox they wait in, and the sender that sends them with aiosmtplib.

In an SMTP session a refusal is the reply itself, so no notice is needed. Notices are for pull
mode (no session to carry a bounce), for a message that fails for good after its 250 (a DSN
from the null sender, headers only), and, when enabled, for acknowledgements. A rejected
(non-CJSM) sender gets no electronic reply at all (seeds/000).
"""
