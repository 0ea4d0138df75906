"""An SMTP server on loopback (aiosmtpd, started by the test), the app pointed at it, and a
launched cycle over the small organisation (no KPIs: competencies only, fast)."""

from __future__ import annotations

import email
import socket
from dataclasses import dataclass, field
from datetime import date, timedelta
from email.message import EmailMessage
from email.policy import default as default_policy
from types import SimpleNamespace

import pytest
from aiosmtpd.controller import Controller

from reviewapp.cycles.catalogue import ensure_default_competencies
from reviewapp.cycles.services import CycleDraft, launch, save_cycle
from reviewapp.extensions import db


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Received:
    """One message as the server received it: envelope and parsed email."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def to(self) -> str:
        return self.rcpt_tos[0]

    @property
    def subject(self) -> str:
        return self.message["Subject"]

    @property
    def text(self) -> str:
        return self.message.get_body(("plain",)).get_content()

    @property
    def html(self) -> str:
        return self.message.get_body(("html",)).get_content()


@dataclass
class Handler:
    """Keeps what arrives; `reply` (e.g. "451 ...") refuses every recipient with it."""

    received: list[Received] = field(default_factory=list)
    reply: str | None = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.reply:
            return self.reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.content, policy=default_policy)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"


class SmtpServer:
    """A real SMTP server on 127.0.0.1; stop() and start() it to play a failing server."""

    def __init__(self) -> None:
        self.port = free_port()
        self.handler = Handler()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def to(self, address: str) -> list[Received]:
        return [m for m in self.received if address.lower() in [r.lower() for r in m.rcpt_tos]]


@pytest.fixture
def smtp(app):
    """A running SMTP server on loopback with the app configured to send through it."""
    server = SmtpServer()
    server.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port, MAIL_USE_TLS=False,
                      MAIL_USE_SSL=False, MAIL_USERNAME=None, MAIL_TIMEOUT=5,
                      MAIL_FROM="ReviewApp <reviews@example.test>",
                      BASE_URL="https://reviews.example.test", MAIL_DELIVERY="manual")
    yield server
    server.stop()


def make_cycle(org, *, name="2026 Q3 review", self_due: date | None = None,
               launch_it: bool = True):
    """A cycle over team Alpha (Rita, Ravi, Bob) scored on competencies only."""
    self_due = self_due or date.today() + timedelta(days=7)
    draft = CycleDraft(
        name=name, period="2026-Q3", self_due=self_due,
        manager_due=self_due + timedelta(days=7), calibration_due=self_due + timedelta(days=14),
        acknowledgement_due=self_due + timedelta(days=21), team_ids=[org.team.id],
        competency_ids=[c.id for c in ensure_default_competencies()])
    cycle = save_cycle(org.hr, None, draft)
    if launch_it:  # launched a week before the self-assessment is due, as far back as needed
        launch(org.hr, cycle, today=min(date.today(), self_due - timedelta(days=7)))
    db.session.commit()
    return cycle


@pytest.fixture
def cycle(org):
    return SimpleNamespace(org=org, cycle=make_cycle(org))
