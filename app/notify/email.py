"""SMTP e-mail: plain text with an HTML alternative and attachments (e.g. an .ics invitation)."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import unquote, urlsplit

from .message import DeliveryError, Message


def build(sender: str, recipient: str, message: Message) -> EmailMessage:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = sender, recipient, message.subject
    mail["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "hindsight")
    text = message.text + (f"\n\n{message.link}\n" if message.link else "\n")
    mail.set_content(text)
    if message.html:
        mail.add_alternative(message.html, subtype="html")
    for item in message.attachments:
        maintype, _, subtype = item.mime_type.partition("/")
        mail.add_attachment(
            item.content,
            maintype=maintype or "application",
            subtype=subtype or "octet-stream",
            filename=item.filename,
        )
    return mail


class SmtpChannel:
    """One connection per message: notifications are few, and a stale session is one less
    failure mode. `url` is smtp://[user:password@]host[:port] or smtps://..."""

    def __init__(self, url: str, sender: str, timeout: float) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("HINDSIGHT_SMTP_URL must look like smtp://host:port")
        self.tls = parts.scheme == "smtps"
        self.host, self.port = parts.hostname, parts.port or (465 if self.tls else 25)
        self.user = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password or "")
        self.sender, self.timeout = sender, timeout

    def _connect(self) -> smtplib.SMTP:
        if self.tls:
            context = ssl.create_default_context()
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        return smtplib.SMTP(self.host, self.port, timeout=self.timeout)

    def send(self, recipient: str, message: Message) -> str:
        mail = build(self.sender, recipient, message)
        try:
            with self._connect() as smtp:
                if self.user:
                    smtp.login(self.user, self.password)
                refused = smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(f"recipient refused: {exc.recipients}", transient=False) from exc
        except smtplib.SMTPResponseException as exc:
            transient = 400 <= exc.smtp_code < 500
            raw = exc.smtp_error
            text = raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw or "")
            raise DeliveryError(f"SMTP {exc.smtp_code}: {text}", transient=transient) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}", transient=True) from exc
        if refused:
            raise DeliveryError(f"recipient refused: {refused}", transient=False)
        return f"accepted by {self.host}:{self.port}"
