"""Real peers for integration tests: Dovecot (IMAP over TLS), Postfix (a sending MTA) and a
recording SMTP server (aiosmtpd) standing in for the mail servers we send to.

Each runs from a configuration written into a fresh directory, listens on 127.0.0.1 on a free
port, and is stopped by the test. They come from Debian's packages (`make test` installs them
when run as root); without them, or without root, the tests that need them skip and say why.
"""

from __future__ import annotations

import contextlib
import imaplib
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import trustme
from aiosmtpd.controller import Controller

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
POSTFIX = shutil.which("postfix") or "/usr/sbin/postfix"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def dovecot_missing() -> str | None:
    if os.geteuid() != 0:
        return "Dovecot tests run as root (Dovecot drops to its own users)"
    if not Path(DOVECOT).exists():
        return "Dovecot is not installed (make test installs dovecot-imapd as root)"
    return None


def postfix_missing() -> str | None:
    if os.geteuid() != 0:
        return "Postfix tests run as root"
    if not Path(POSTFIX).exists():
        return "Postfix is not installed (make test installs postfix as root)"
    return None


def wait_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port}")


class Downstream:
    """An SMTP server (aiosmtpd on 127.0.0.1) that records what it is sent and answers DATA
    from a script (then 250 for ever after): a peer, not the thing under test."""

    def __init__(self, answers: list[str] | None = None) -> None:
        self.answers = list(answers or [])
        self.received: list[dict[str, Any]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(
            {
                "mail_from": envelope.mail_from,
                "rcpt": list(envelope.rcpt_tos),
                "data": envelope.original_content,
                "tls": session.ssl is not None,
            }
        )
        return self.answers.pop(0) if self.answers else "250 2.0.0 stored"


@contextlib.contextmanager
def smtp_server(handler: Any) -> Iterator[int]:
    """Run `handler` as an SMTP server on 127.0.0.1; yields its port."""
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


class Dovecot:
    """An IMAPS-only Dovecot with one user (USER/PASSWORD) whose mail is in a Maildir."""

    USER = "cps"
    PASSWORD = "imap-test-secret"

    def __init__(self, ca: trustme.CA, capability: str | None = None) -> None:
        """`capability`: what the server announces instead of its default list."""
        # Not under pytest's tmp_path: Dovecot's mail processes run as "nobody", who cannot
        # traverse root's private temporary directories.
        self.root = Path(tempfile.mkdtemp(prefix="mailrouter-dovecot-"))
        self.root.chmod(0o755)
        self.port = free_port()
        self.ca = ca
        self.process: subprocess.Popen[bytes] | None = None
        nobody = pwd.getpwnam("nobody")
        home = self.root / "home" / self.USER
        home.mkdir(parents=True)
        os.chown(home, nobody.pw_uid, nobody.pw_gid)
        cert = ca.issue_cert("127.0.0.1", "localhost")
        cert.private_key_and_cert_chain_pem.write_to_path(str(self.root / "server.pem"))
        (self.root / "passwd").write_text(f"{self.USER}:{{PLAIN}}{self.PASSWORD}\n")
        (self.root / "dovecot.conf").write_text(
            f"""
base_dir = {self.root}/run
state_dir = {self.root}/state
log_path = {self.root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <{self.root}/server.pem
ssl_key = <{self.root}/server.pem
auth_mechanisms = plain
first_valid_uid = 1
default_login_user = dovenull
default_internal_user = dovecot
mail_location = maildir:~/Maildir
{f"imap_capability = {capability}" if capability else ""}
namespace inbox {{
  inbox = yes
  separator = /
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.root}/passwd
}}
userdb {{
  driver = static
  args = uid={nobody.pw_uid} gid={nobody.pw_gid} home={self.root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    port = {self.port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
"""
        )

    def start(self) -> None:
        self.process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(self.root / "dovecot.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_port(self.port)
        except TimeoutError:
            log = (self.root / "dovecot.log").read_text(errors="replace")[-2000:]
            self.stop()
            raise RuntimeError(f"Dovecot did not start:\n{log}") from None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
            self.process = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def client(self) -> imaplib.IMAP4_SSL:
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        client = imaplib.IMAP4_SSL("127.0.0.1", self.port, ssl_context=context, timeout=10)
        client.login(self.USER, self.PASSWORD)
        return client

    def count(self, folder: str, gateway_id: str) -> int:
        """How many messages in `folder` carry X-Mailrouter-Id `gateway_id`."""
        client = self.client()
        try:
            status, _ = client.select(f'"{folder}"', readonly=True)
            if status != "OK":
                return 0
            status, data = client.search(None, "HEADER", "X-Mailrouter-Id", gateway_id)
            return len(data[0].split()) if status == "OK" and data and data[0] else 0
        finally:
            with contextlib.suppress(Exception):
                client.logout()

    def folder_size(self, folder: str) -> int:
        client = self.client()
        try:
            status, data = client.select(f'"{folder}"', readonly=True)
            return int(data[0]) if status == "OK" else 0
        finally:
            with contextlib.suppress(Exception):
                client.logout()


_MASTER_SERVICES = """\
pickup     unix  n  -  n  60    1  pickup
cleanup    unix  n  -  n  -     0  cleanup
qmgr       unix  n  -  n  300   1  qmgr
rewrite    unix  -  -  n  -     -  trivial-rewrite
bounce     unix  -  -  n  -     0  bounce
defer      unix  -  -  n  -     0  bounce
trace      unix  -  -  n  -     0  bounce
verify     unix  -  -  n  -     1  verify
flush      unix  n  -  n  1000? 0  flush
proxymap   unix  -  -  n  -     -  proxymap
proxywrite unix  -  -  n  -     1  proxymap
smtp       unix  -  -  n  -     -  smtp
relay      unix  -  -  n  -     -  smtp
showq      unix  n  -  n  -     -  showq
error      unix  -  -  n  -     -  error
retry      unix  -  -  n  -     -  error
discard    unix  -  -  n  -     -  discard
anvil      unix  -  -  n  -     1  anvil
scache     unix  -  -  n  -     1  scache
postlog    unix-dgram n - n -   1  postlogd
"""


class Postfix:
    """A Postfix instance of its own (config, queue and data directories in `root`) that
    listens on `port` and relays the gateway's domain to the gateway; mail for every other
    domain goes to a catch-all SMTP sink (where its bounces are read)."""

    def __init__(
        self, gateway_port: int, sink_port: int, smtpd: str | None = None, extra_main: str = ""
    ) -> None:
        """`smtpd`: the public smtpd's master.cf entry, `{port}` for its listening port (the
        default: a plain smtpd); `extra_main`: lines added to main.cf."""
        self.root = Path(tempfile.mkdtemp(prefix="mailrouter-postfix-"))
        self.root.chmod(0o755)
        self.port = free_port()
        config, queue, data = self.root / "etc", self.root / "queue", self.root / "data"
        for directory in (config, queue, data):
            directory.mkdir()
        os.chown(data, pwd.getpwnam("postfix").pw_uid, -1)
        (config / "main.cf").write_text(
            f"""
compatibility_level = 3.6
queue_directory = {queue}
data_directory = {data}
mail_owner = postfix
setgid_group = postdrop
myhostname = mta.test
mydomain = mta.test
myorigin = mta.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relay_domains = cps.gov.uk
transport_maps = inline:{{cps.gov.uk=smtp:[127.0.0.1]:{gateway_port}}}
relayhost = [127.0.0.1]:{sink_port}
smtp_dns_support_level = disabled
smtp_tls_security_level = none
maillog_file = {self.root}/maillog
maillog_file_prefixes = /var, /dev/stdout, {self.root}
alias_maps =
alias_database =
local_recipient_maps =
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
bounce_queue_lifetime = 0
maximal_queue_lifetime = 1h
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
smtp_connect_timeout = 5s
"""
            + extra_main
        )
        # Our own master.cf, nothing chrooted (a chroot would need its own copies of files).
        entry = (smtpd or "{port} inet n - n - - smtpd\n").replace(
            "{port}", f"127.0.0.1:{self.port}"
        )
        (config / "master.cf").write_text(entry + _MASTER_SERVICES)

    def _postfix(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [POSTFIX, "-c", str(self.root / "etc"), *args],
            capture_output=True,
            text=True,
            timeout=60,
        )

    def start(self) -> None:
        result = self._postfix("start")
        if result.returncode != 0:
            raise RuntimeError(f"postfix start failed: {result.stderr}\n{self.log()}")
        wait_port(self.port)

    def log(self) -> str:
        path = self.root / "maillog"
        return path.read_text(errors="replace") if path.exists() else ""

    def flush(self) -> None:
        self._postfix("flush")

    def check(self) -> subprocess.CompletedProcess[str]:
        return self._postfix("check")

    def queued(self) -> list[str]:
        """Every file in Postfix's queues: what it has accepted and not yet passed on."""
        queue = self.root / "queue"
        names = ("incoming", "active", "deferred", "hold", "maildrop")
        return [str(p) for name in names if (queue / name).is_dir()
                for p in (queue / name).rglob("*") if p.is_file()]  # fmt: skip

    def close(self) -> None:
        self._postfix("stop")
        time.sleep(0.2)
        shutil.rmtree(self.root, ignore_errors=True)
