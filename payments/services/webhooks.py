"""Payment providers' signed webhooks, and the demo's simulated top-up that goes through them."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.access import SYSTEM_ACTOR
from core.errors import DomainError, ErrorCode
from core.money import Money

from ..access import may_act_for
from ..gateways import providers
from ..interface import Owner, TxnInfo
from ..models import ProviderEvent
from .posting import _check_owner, check_amount
from .wallets import wallet_top_up


def webhook_receive(*, provider: str, headers, body: bytes) -> TxnInfo | None:
    """A payment provider's signed event. Refuses unsigned, wrongly signed, stale and replayed
    events before booking anything; a top-up event credits the wallet it names."""
    gateway = providers.get(provider)
    event = gateway.verify(headers, body)
    with transaction.atomic():
        try:
            with transaction.atomic():
                stored = ProviderEvent.objects.create(
                    provider=provider, event_id=event.id, event_type=event.type, payload=event.payload,
                    received_at=timezone.now(),
                )
        except IntegrityError:
            raise DomainError(ErrorCode.WEBHOOK_REPLAYED, _("Event %(id)s was already received.") % {"id": event.id},
                              {"id": [_("Already received.")]}) from None
        if event.type != providers.TOP_UP_SUCCEEDED:
            return None  # stored for the record; nothing to book
        info = wallet_top_up(owner=event.owner, amount=event.amount, provider=provider, provider_event_id=event.id,
                             actor=SYSTEM_ACTOR)
        stored.txn_id = info.id
        stored.save(update_fields=["txn"])
    return info


def wallet_top_up_simulate(*, owner: Owner, amount: Money, actor) -> TxnInfo:
    """The demo's "Top up" button: the simulator signs a webhook and it goes through the same path."""
    _check_owner(owner)
    check_amount(amount)
    if not may_act_for(actor, owner):
        raise DomainError(ErrorCode.PERMISSION_DENIED, _("You may not top up this wallet."))
    simulator = providers.get(providers.SimulatorProvider.NAME)
    headers, body = simulator.top_up_event(owner=owner, amount=amount)
    return webhook_receive(provider=simulator.name, headers=headers, body=body)
