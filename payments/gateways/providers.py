"""Payment providers send top-ups by webhook, signed with HMAC-SHA256.

Wire format (every provider configured in ``settings.PAYMENT_WEBHOOK_SECRETS`` speaks it):
- header ``X-Karavan-Timestamp``: Unix seconds when the provider sent the event;
- header ``X-Karavan-Signature``: ``v1=<hex>`` where hex = HMAC-SHA256(secret, f"{timestamp}." + raw body);
- body: ``{"id": "evt_…", "type": "top_up.succeeded", "data": {"owner": "user:12",
  "amount": {"amount": "100.00", "currency": "CNY"}}}``.
A timestamp outside the tolerance window (5 minutes either way) is stale: a captured request
cannot be replayed later, and within the window the stored event id refuses the replay.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

from core.errors import DomainError, ErrorCode
from core.money import Money

from ..interface import Owner

TIMESTAMP_HEADER = "X-Karavan-Timestamp"
SIGNATURE_HEADER = "X-Karavan-Signature"
TOP_UP_SUCCEEDED = "top_up.succeeded"


@dataclass(frozen=True)
class WebhookEvent:
    id: str
    type: str
    owner: Owner | None
    amount: Money | None
    payload: dict


def _invalid(message: str) -> DomainError:
    return DomainError(ErrorCode.WEBHOOK_SIGNATURE_INVALID, message, {SIGNATURE_HEADER: [message]})


class Provider:
    """A payment provider known by name, with its secret from the environment."""

    def __init__(self, name: str, secret: str):
        self.name = name
        self._secret = secret.encode()

    def signature(self, timestamp: str, body: bytes) -> str:
        mac = hmac.new(self._secret, timestamp.encode() + b"." + body, hashlib.sha256)
        return "v1=" + mac.hexdigest()

    def sign(self, body: bytes, timestamp: int | None = None) -> dict[str, str]:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        return {TIMESTAMP_HEADER: ts, SIGNATURE_HEADER: self.signature(ts, body)}

    def verify(self, headers, body: bytes, now: float | None = None) -> WebhookEvent:
        """Check signature and freshness, then parse. Raises DomainError; books nothing."""
        ts = headers.get(TIMESTAMP_HEADER)
        sig = headers.get(SIGNATURE_HEADER)
        if not ts or not sig:
            raise _invalid(_("The webhook is not signed: %(timestamp)s and %(signature)s are required.")
                           % {"timestamp": TIMESTAMP_HEADER, "signature": SIGNATURE_HEADER})
        if not ts.isdigit():
            raise _invalid(_("%(timestamp)s must be Unix seconds.") % {"timestamp": TIMESTAMP_HEADER})
        # Compare over every v1 signature offered (providers send two while rotating secrets).
        offered = [part.strip() for part in sig.split(",")]
        expected = self.signature(ts, body)
        if not any(hmac.compare_digest(expected, candidate) for candidate in offered):
            raise _invalid(_("The webhook signature does not match."))
        now = time.time() if now is None else now
        tolerance = settings.PAYMENTS_WEBHOOK_TOLERANCE_SECONDS
        if abs(now - int(ts)) > tolerance:
            raise DomainError(ErrorCode.WEBHOOK_STALE,
                              _("The webhook timestamp is more than %(seconds)s seconds away.") % {"seconds": tolerance},
                              {TIMESTAMP_HEADER: [_("Outside the accepted window.")]})
        return parse(body)


def parse(body: bytes) -> WebhookEvent:
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise DomainError(ErrorCode.PARSE_ERROR, _("The webhook body is not JSON.")) from None
    if not isinstance(payload, dict):
        raise DomainError(ErrorCode.VALIDATION, _("The webhook body must be an object."))
    event_id, event_type = payload.get("id"), payload.get("type")
    if not isinstance(event_id, str) or not event_id or len(event_id) > 128:
        raise DomainError(ErrorCode.VALIDATION, _("The event needs an id."), {"id": [_("1 to 128 characters.")]})
    if not isinstance(event_type, str) or not event_type:
        raise DomainError(ErrorCode.VALIDATION, _("The event needs a type."), {"type": [_("Required.")]})
    owner = amount = None
    if event_type == TOP_UP_SUCCEEDED:
        data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
        try:
            owner = Owner.parse(data.get("owner", ""))
        except (ValueError, AttributeError):
            raise DomainError(ErrorCode.VALIDATION, _("Unknown wallet owner."),
                              {"data.owner": [_("Expected user:<id> or company:<id>.")]}) from None
        amount = Money.from_api(data.get("amount"), "data.amount")
    return WebhookEvent(id=event_id, type=event_type, owner=owner, amount=amount, payload=payload)


def get(name: str) -> Provider:
    secret = settings.PAYMENT_WEBHOOK_SECRETS.get(name)
    if not secret:
        raise DomainError(ErrorCode.NOT_FOUND, _("Unknown payment provider %(name)s.") % {"name": repr(name)})
    return SimulatorProvider(secret) if name == SimulatorProvider.NAME else Provider(name, secret)


class SimulatorProvider(Provider):
    """The built-in provider: builds the same signed webhooks a real provider would send."""

    NAME = "simulator"

    def __init__(self, secret: str):
        super().__init__(self.NAME, secret)

    def top_up_event(self, *, owner: Owner, amount: Money, event_id: str | None = None,
                     timestamp: int | None = None) -> tuple[dict, bytes]:
        body = json.dumps({
            "id": event_id or f"evt_{uuid.uuid4().hex}",
            "type": TOP_UP_SUCCEEDED,
            "data": {"owner": owner.label, "amount": amount.to_api()},
        }, separators=(",", ":")).encode()
        return self.sign(body, timestamp), body
