"""Reads of the payments app, each a fixed number of queries."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, localcontext

from django.conf import settings
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import DomainError, ErrorCode
from core.money import Money, check_currency

from .interface import Balance, FxRate, Owner
from .models import Account, AccountKind, Entry, EscrowHold, Payout
from .models import FxRate as FxRateRow

RATE_DIGITS = 12  # significant digits of a derived cross rate


def balances(*, owner: Owner) -> list[Balance]:
    """Per wallet currency: balance, held in escrow, available to spend. Two queries.

    Uses indexes account_key and escrow_payer_idx. Currencies with neither money nor a hold are left out.
    """
    wallets = dict(
        Account.objects.filter(owner_kind=owner.kind, owner_id=owner.id, kind=AccountKind.WALLET)
        .values_list("currency_id", "balance_minor")
    )
    held = dict(
        EscrowHold.objects.filter(payer_kind=owner.kind, payer_id=owner.id, status=EscrowHold.Status.HELD)
        # What is still open: EscrowHold.open_minor, summed (duties paid out of escrow have left it).
        .values("currency").annotate(open=Sum(F("amount_minor") - F("refunded_minor") - F("released_minor")
                                              - F("settled_minor")))
        .values_list("currency", "open")
    )
    pending = dict(
        Payout.objects.filter(owner_kind=owner.kind, owner_id=owner.id,
                              status__in=[Payout.Status.REQUESTED, Payout.Status.PROCESSING])
        .values("currency").annotate(total=Sum("amount_minor")).values_list("currency", "total")
    )
    order = {c: i for i, c in enumerate(settings.PAYMENTS_CURRENCIES)}
    result = []
    for currency in sorted(set(wallets) | set(held) | set(pending), key=lambda c: order.get(c, 99)):
        available = wallets.get(currency, 0)
        on_hold = held.get(currency, 0) or 0
        result.append(Balance(
            currency=currency, balance=Money(available + on_hold, currency), held=Money(on_hold, currency),
            available=Money(available, currency), pending_payouts=Money(pending.get(currency, 0) or 0, currency),
        ))
    return result


def balance(*, owner: Owner, currency: str) -> Balance:
    for item in balances(owner=owner):
        if item.currency == currency:
            return item
    zero = Money.zero(currency)
    return Balance(currency, zero, zero, zero, zero)


def statement(*, owner: Owner, currency: str):
    """The wallet's entries, newest first, with their transaction. Uses index entry_account_idx."""
    return (
        Entry.objects.filter(account__owner_kind=owner.kind, account__owner_id=owner.id,
                             account__kind=AccountKind.WALLET, account__currency=currency)
        .select_related("txn")
        .order_by("-id")
    )


def payouts(*, owner: Owner):
    return Payout.objects.filter(owner_kind=owner.kind, owner_id=owner.id).order_by("-id")


def _usd_rate(code: str, on: date) -> FxRateRow | None:
    """The latest rate published on or before ``on``; failing that the earliest one after it (the
    quote shows the rate's date, so a reader sees it is not of the day). Uses fx_rate_lookup_idx."""
    rows = FxRateRow.objects.filter(currency_id=code)
    return rows.filter(as_of__lte=on).order_by("-as_of", "-loaded_at").first() or rows.order_by("as_of", "-loaded_at").first()


def fx_rate(from_currency: str, to_currency: str, as_of: date | None = None) -> FxRate:
    """Units of ``to_currency`` per one unit of ``from_currency`` on ``as_of`` (default today),
    crossed through USD, with the source and the date of the older of the two rates used."""
    src, dst = check_currency(from_currency, "from"), check_currency(to_currency, "to")
    on = as_of or timezone.localdate()
    if src == dst:
        return FxRate(src, dst, Decimal(1), on, "identity")
    legs = {}
    for code in (src, dst):
        if code == "USD":
            continue
        row = _usd_rate(code, on)
        if row is None:
            raise DomainError(ErrorCode.FX_RATE_MISSING, _("No exchange rate for %(currency)s is loaded.") % {"currency": code},
                              {"currency": [_("No rate for %(currency)s.") % {"currency": code}]})
        legs[code] = row
    per_usd = {code: row.usd_per_unit for code, row in legs.items()} | {"USD": Decimal(1)}
    with localcontext() as ctx:
        ctx.prec = RATE_DIGITS
        rate = per_usd[src] / per_usd[dst]
    dates = [row.as_of for row in legs.values()]
    source = "; ".join(f"{code}: {row.source}" for code, row in legs.items())
    return FxRate(src, dst, rate.normalize() if rate == rate.to_integral_value() else rate, min(dates), source)


def fx_rates(*, base: str = "USD") -> list[FxRate]:
    """The current rate of every loaded currency against ``base``."""
    base = check_currency(base, "base")
    codes = sorted(set(FxRateRow.objects.values_list("currency_id", flat=True)) | {"USD"})
    return [fx_rate(base, code) for code in codes if code != base]


def wallet_currencies(*, owner: Owner) -> list[str]:
    """The currencies ``owner`` holds a wallet in, most money first. One query; uses index account_key."""
    return list(
        Account.objects.filter(owner_kind=owner.kind, owner_id=owner.id, kind=AccountKind.WALLET)
        .order_by("-balance_minor", "currency_id").values_list("currency_id", flat=True)
    )



def escrow_held(*, references) -> dict[str, Money]:
    """What is still held in escrow for ``references`` (a list, or a queryset of one column of
    reference strings, which the database reads as a subquery), per currency. One query; uses the
    unique index on the reference."""
    rows = (
        EscrowHold.objects.filter(reference__in=references, status=EscrowHold.Status.HELD)
        .values("currency").annotate(open=Sum(F("amount_minor") - F("refunded_minor") - F("released_minor")
                                              - F("settled_minor")))
        .values_list("currency", "open")
    )
    return {currency: Money(int(amount or 0), currency) for currency, amount in rows}
