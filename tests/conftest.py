"""Shared fixtures: the bundled ruleset, the shared corpus, and a builder for test messages."""

from __future__ import annotations

import base64
import datetime as dt
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterable, Iterator
from email.utils import format_datetime
from pathlib import Path

import pytest
import trustme
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from mailrouter.decide import decide
from mailrouter.model import Decision, Envelope
from mailrouter.rules.ruleset import Ruleset, load_ruleset
from peers import Dovecot, Downstream, smtp_server

ROOT = Path(__file__).resolve().parents[1]
RULES_DIR = ROOT / "routing_rules"
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus"
FRONT_DOOR = "defence.westmidlands@cps.gov.uk"
SENDER = "a.solicitor@smithlaw.co.uk.cjsm.net"
NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)  # a Monday


def _cache_bytecode() -> None:
    """The tests start hundreds of Python processes (gateways, their delivery children and
    acceptors, the CLI). Where the environment forbids bytecode files
    (PYTHONDONTWRITEBYTECODE), each compiled every module again, about 0.3 s a start: let
    them cache it, outside the checkout, in a directory only we may write."""
    if not os.environ.get("PYTHONDONTWRITEBYTECODE"):
        return
    cache = Path(tempfile.gettempdir()) / f"mailrouter-test-pycache-{os.getuid()}"
    cache.mkdir(mode=0o700, exist_ok=True)
    info = cache.lstat()
    if stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o022:
        del os.environ["PYTHONDONTWRITEBYTECODE"]
        os.environ.setdefault("PYTHONPYCACHEPREFIX", str(cache))


_cache_bytecode()

STANDARD_BODY = (
    "Dear Sir/Madam,\n\n"
    "Defendant: John SMITH\n"
    "Date of birth: 01/02/1990\n"
    "Hearing date: 15/12/2026\n"
    "Nature of request: please serve IDPC.\n\n"
    "Kind regards\nA Solicitor\nSmith Law LLP\n"
)


@pytest.fixture(scope="session")
def ruleset() -> Ruleset:
    return load_ruleset(RULES_DIR)


def build_message(
    subject: str = "URN 20AB1234521 - Birmingham MC - R v SMITH",
    body: str = STANDARD_BODY,
    *,
    sender: str = SENDER,
    from_header: str | None = None,
    content_type: str = 'text/plain; charset="utf-8"',
    encoding: str = "8bit",
    extra_headers: list[str] | None = None,
    body_bytes: bytes | None = None,
) -> bytes:
    """A raw RFC 5322 message with CRLF line endings."""
    headers = [
        f"From: {from_header if from_header is not None else f'A Solicitor <{sender}>'}",
        f"To: CPS West Midlands Defence <{FRONT_DOOR}>",
        f"Subject: {subject}",
        f"Date: {format_datetime(NOW)}",
        "Message-ID: <test@smithlaw.co.uk>",
        "MIME-Version: 1.0",
        f"Content-Type: {content_type}",
        f"Content-Transfer-Encoding: {encoding}",
        *(extra_headers or []),
    ]
    payload = body_bytes if body_bytes is not None else body.replace("\n", "\r\n").encode()
    return ("\r\n".join(headers) + "\r\n\r\n").encode() + payload


Decider = Callable[..., Decision]


@pytest.fixture
def route(ruleset: Ruleset) -> Decider:
    """Decide a message built from keyword arguments (see build_message)."""

    def run(
        subject: str = "URN 20AB1234521 - Birmingham MC - R v SMITH",
        body: str = STANDARD_BODY,
        *,
        raw: bytes | None = None,
        mail_from: str = SENDER,
        rcpt: tuple[str, ...] = (FRONT_DOOR,),
        peer_ip: str = "127.0.0.1",
        now: dt.datetime = NOW,
        dkim_keys: dict[str, bytes] | None = None,
        recent_urns: tuple[str, ...] = (),
        rules: Ruleset | None = None,
        **build: object,
    ) -> Decision:
        message = raw if raw is not None else build_message(subject, body, **build)  # type: ignore[arg-type]
        envelope = Envelope(mail_from, rcpt, peer_ip, dkim_keys or {})
        return decide(envelope, message, rules or ruleset, now, recent_urns=recent_urns)

    return run


RulesMaker = Callable[[dict[str, tuple[str, str]]], Ruleset]


def copy_rules(target: Path, edits: Iterable[tuple[str, str, str]] = ()) -> Path:
    """The bundled rules copied to `target`, with text replaced: (file, old, new) each, in
    order; `target` (not loaded: a test may mean to break them)."""
    shutil.copytree(RULES_DIR, target, dirs_exist_ok=True)
    for name, old, new in edits:
        path = target / name
        text = path.read_text()
        assert old in text, f"{old!r} not in {name}"
        path.write_text(text.replace(old, new))
    return target


@pytest.fixture
def tmp_rules(tmp_path: Path) -> RulesMaker:
    """A copy of the bundled rules with text replaced: {file: (old, new)}, loaded."""

    def make(edits: dict[str, tuple[str, str]]) -> Ruleset:
        edited = [(name, old, new) for name, (old, new) in edits.items()]
        return load_ruleset(copy_rules(tmp_path / "routing_rules", edited))

    return make


@pytest.fixture
def downstream() -> Iterator[tuple[Downstream, int]]:
    """A recording SMTP server on 127.0.0.1: (its handler, its port)."""
    handler = Downstream()
    with smtp_server(handler) as port:
        yield handler, port


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    """A certificate authority the test peers' certificates come from."""
    return trustme.CA()


@pytest.fixture
def dovecot(ca: trustme.CA) -> Iterator[Dovecot]:
    """A real Dovecot on 127.0.0.1 (tests using it skip where dovecot_missing() says)."""
    server = Dovecot(ca)
    server.start()
    try:
        yield server
    finally:
        server.close()


KeyPair = tuple[bytes, bytes]  # private key PEM, DNS TXT record


@pytest.fixture(scope="session")
def signing_key() -> KeyPair:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The PostgreSQL pass (MAILROUTER_TEST_BACKEND=postgresql) skips, saying why, where no
    server can be started (not root and none installed: `make test` installs it as root)."""
    import postgres

    if postgres.BACKEND != "postgresql":
        return
    problem = postgres.available()
    if problem is not None:
        for item in items:
            item.add_marker(pytest.mark.skip(reason=problem))
