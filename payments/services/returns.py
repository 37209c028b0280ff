"""Refunds of returns after delivery, and the debts they leave.

The escrow of a delivered order is closed: the refund comes back from those who were paid. The
seller's wallet gives back its part (less the commission the platform reverses), the customs duty
account gives back a refunded tax, the return shipping goes to the shipping account, and what the
seller's wallet cannot cover becomes a debt (the ``seller_receivables`` account and a
:class:`SellerDebt`) that its next payouts settle first.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import DomainError, ErrorCode
from core.money import Money

from ..interface import Owner, TxnInfo
from ..models import Account, AccountKind, SellerDebt, TxnKind
from .posting import _check_owner, _existing, _fingerprint, _post, _shard, platform, wallet


def _available(owner: Owner, currency: str) -> int:
    """The owner's wallet balance, its row locked until the transaction ends."""
    row = (Account.objects.select_for_update()
           .filter(owner_kind=owner.kind, owner_id=owner.id, kind=AccountKind.WALLET, currency_id=currency)
           .values_list("balance_minor", flat=True).first())
    return max(row or 0, 0)


def return_refund(*, reference: str, order_reference: str, buyer: Owner, seller: Owner, seller_part: Money,
                  commission_part: Money, taxes_part: Money, fee_part: Money, actor) -> TxnInfo:
    """Refund the buyer of a return, in one balanced transaction; idempotent per ``reference``.

    ``seller_part`` is what the seller gives back (the returned goods, their shipping share and the
    return shipping when the fault is the seller's), ``commission_part`` the commission on it that the
    platform reverses, ``taxes_part`` the tax customs refunds, ``fee_part`` the return shipping. The
    buyer receives ``seller_part + taxes_part - fee_part``. The commission and duty come back from the
    shards ``order_reference`` was booked into.
    """
    _check_owner(buyer, "buyer")
    _check_owner(seller, "seller")
    parts = {"seller_part": seller_part, "commission_part": commission_part, "taxes_part": taxes_part,
             "fee_part": fee_part}
    currency = seller_part.currency if isinstance(seller_part, Money) else None
    for name, value in parts.items():
        if not isinstance(value, Money) or value.minor < 0:
            raise DomainError(ErrorCode.INVALID_AMOUNT, _("Give an amount of zero or more."), {name: [_("Zero or more.")]})
        if value.currency != currency:
            raise DomainError(ErrorCode.CURRENCY_MISMATCH, _("Every part of a refund is in one currency."),
                              {name: [_("Must be in %(cur)s.") % {"cur": currency}]})
    if commission_part.minor > seller_part.minor:
        raise DomainError(ErrorCode.INVALID_AMOUNT, _("The commission reversed cannot exceed the seller's part."),
                          {"commission_part": [_("At most the seller's part.")]})
    to_buyer = seller_part.minor + taxes_part.minor - fee_part.minor
    if to_buyer < 0:
        raise DomainError(ErrorCode.INVALID_AMOUNT, _("The return shipping exceeds the refund."), {"fee_part": [_("Too large.")]})
    key = f"return_refund:{reference}"
    with transaction.atomic():
        if (done := _existing(key)) is not None:
            return done
        from_seller_wanted = seller_part.minor - commission_part.minor
        from_seller = min(from_seller_wanted, _available(seller, currency))
        debt = from_seller_wanted - from_seller
        shard = _shard(order_reference)
        legs = [
            (wallet(buyer, currency), to_buyer),
            (wallet(seller, currency), -from_seller),
            (platform(AccountKind.SELLER_RECEIVABLES, currency), -debt),
            (platform(AccountKind.COMMISSION, currency, shard), -commission_part.minor),
            (platform(AccountKind.CUSTOMS_DUTY, currency, shard), -taxes_part.minor),
            (platform(AccountKind.SHIPPING, currency), fee_part.minor),
        ]
        if to_buyer == 0 and fee_part.minor == 0:
            raise DomainError(ErrorCode.INVALID_AMOUNT, _("Nothing to refund."), {"seller_part": [_("Nothing to refund.")]})
        info = _post(kind=TxnKind.REFUND, reference=reference, key=key,
                     fingerprint=_fingerprint(**{k: v.minor for k, v in parts.items()}), legs=legs, actor=actor,
                     memo={"from_seller": from_seller, "debt": debt, "commission_reversed": commission_part.minor,
                           "taxes": taxes_part.minor, "return_shipping": fee_part.minor})
        if debt:
            SellerDebt.objects.create(owner_kind=seller.kind, owner_id=seller.id, currency=currency, amount_minor=debt,
                                      reference=reference, created_at=timezone.now())
    return info


def debts_settle(*, owner: Owner, currency: str, actor) -> int:
    """Take what ``owner`` owes the platform in ``currency`` from its wallet, oldest debt first, as far
    as the wallet allows (the payouts call this first). Returns the minor units settled."""
    settled = 0
    with transaction.atomic():
        debts = list(SellerDebt.objects.select_for_update()
                     .filter(owner_kind=owner.kind, owner_id=owner.id, currency=currency)
                     .exclude(settled_minor=F("amount_minor")).order_by("created_at", "id"))
        if not debts:
            return 0
        available = _available(owner, currency)
        for debt in debts:
            take = min(debt.open_minor, available - settled)
            if take <= 0:
                break
            _post(kind=TxnKind.TRANSFER, reference=debt.reference, key=f"debt:{debt.pk}:{debt.settled_minor}",
                  fingerprint=_fingerprint(amount=take), actor=actor,
                  legs=[(wallet(owner, currency), -take), (platform(AccountKind.SELLER_RECEIVABLES, currency), take)],
                  memo={"debt": debt.pk})
            debt.settled_minor += take
            debt.save(update_fields=["settled_minor"])
            settled += take
    return settled

