"""FX: quotes that account for every minor unit, conversions between an owner's wallets, rates
loaded from the configured provider.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, localcontext

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.access import SYSTEM_ACTOR
from core.errors import DomainError, ErrorCode
from core.money import Money, currencies

from .. import selectors
from ..gateways import fx as fx_gateways
from ..interface import Conversion, ConversionQuote, Owner
from ..models import AccountKind, FxRate, Transaction, TxnKind
from .posting import _check_owner, _fingerprint, _post, _replay, check_amount, check_wallet_currency, platform, wallet


def spread() -> Decimal:
    return Decimal(str(settings.PAYMENTS_FX_SPREAD))


def conversion_quote(*, amount: Money, to_currency: str, as_of: date | None = None) -> ConversionQuote:
    """What converting ``amount`` into ``to_currency`` gives now, every minor unit accounted for.

    The spread is charged in the source currency (half-up); the rest buys whole minor units of the
    target at the mid rate, rounded down; source minor units too few to buy one more target minor
    unit are the rounding remainder, booked to the ``fx_rounding`` account rather than lost.
    """
    check_amount(amount)
    to_currency = check_wallet_currency(to_currency, "to_currency")
    if to_currency == amount.currency:
        raise DomainError(ErrorCode.VALIDATION, _("Choose a different currency to convert into."),
                          {"to_currency": [_("Choose a different currency to convert into.")]})
    rate = selectors.fx_rate(amount.currency, to_currency, as_of)
    sp = spread()
    fee = amount.times(sp)
    net = amount.minor - fee.minor
    with localcontext() as ctx:
        ctx.prec = 50
        # target minor units per source minor unit
        per_minor = rate.rate.scaleb(currencies()[to_currency] - currencies()[amount.currency])
        receive = int((Decimal(net) * per_minor).to_integral_value(rounding=ROUND_FLOOR))
        cost = int((Decimal(receive) / per_minor).to_integral_value(rounding=ROUND_CEILING)) if receive else 0
        applied = rate.rate * (1 - sp)
    with localcontext() as ctx:
        ctx.prec = 12
        applied = +applied
    if receive <= 0:
        msg = _("Too small to convert: it buys less than one minor unit of %(currency)s.") % {"currency": to_currency}
        raise DomainError(ErrorCode.INVALID_AMOUNT, msg, {"amount": [msg]})
    return ConversionQuote(
        amount=amount, receive=Money(receive, to_currency), mid_rate=rate.rate, rate=applied, spread=sp, fee=fee,
        rounding=Money(net - cost, amount.currency), cost=Money(cost, amount.currency), as_of=rate.as_of,
        source=rate.source,
    )


def wallet_convert(*, owner: Owner, amount: Money, to_currency: str, idempotency_key: str, actor) -> Conversion:
    """Convert at the current quote: two legs through the ``fx`` account, plus the spread and the
    rounding remainder to their named accounts. Idempotent per ``idempotency_key``."""
    _check_owner(owner)
    key = f"conversion:{owner.label}:{idempotency_key}"
    fingerprint = _fingerprint(owner=owner.label, amount=amount.minor if isinstance(amount, Money) else None,
                               currency=getattr(amount, "currency", None), to=to_currency)
    with transaction.atomic():
        txn = Transaction.objects.filter(idempotency_key=key).first()
        if txn is not None:  # a retry finds the first conversion even if the rate moved since
            info = _replay(key, fingerprint)
            return Conversion(quote=_quote_from_memo(txn.memo), txn=info)
        quote = conversion_quote(amount=amount, to_currency=to_currency)
        src, dst = amount.currency, quote.receive.currency
        info = _post(
            kind=TxnKind.CONVERSION, reference=f"fx:{src}-{dst}", key=key, fingerprint=fingerprint,
            legs=[
                (wallet(owner, src), -amount.minor),
                (platform(AccountKind.FX, src), quote.cost.minor),
                (platform(AccountKind.FX_SPREAD, src), quote.fee.minor),
                (platform(AccountKind.FX_ROUNDING, src), quote.rounding.minor),
                (platform(AccountKind.FX, dst), -quote.receive.minor),
                (wallet(owner, dst), quote.receive.minor),
            ],
            actor=actor, memo=quote.to_api(),
        )
    return Conversion(quote=quote, txn=info)


def _quote_from_memo(memo: dict) -> ConversionQuote:
    amount = Money.from_api(memo["amount"])
    rounding = Money.from_api(memo["rounding"])
    fee = Money.from_api(memo["fee"])
    return ConversionQuote(
        amount=amount, receive=Money.from_api(memo["receive"]), mid_rate=Decimal(memo["mid_rate"]),
        rate=Decimal(memo["rate"]), spread=Decimal(memo["spread"]), fee=fee, rounding=rounding,
        cost=amount - fee - rounding, as_of=date.fromisoformat(memo["as_of"]), source=memo["source"],
    )


def fx_rates_load(*, source: str | None = None, actor=SYSTEM_ACTOR) -> int:
    """Store the rates the configured provider publishes; a rate already stored for its day is
    updated, so a refresh is idempotent. Returns how many rates were stored."""
    provider = fx_gateways.get(source)
    rows = provider.fetch()
    known = set(currencies())
    now = timezone.now()
    count = 0
    with transaction.atomic():
        for row in rows:
            if row.currency not in known or row.usd_per_unit <= 0:
                continue
            FxRate.objects.update_or_create(
                currency_id=row.currency, as_of=row.as_of, provider=provider.name,
                defaults={"usd_per_unit": row.usd_per_unit.quantize(Decimal("1e-12"), rounding=ROUND_HALF_UP),
                          "source": row.source, "status": row.status, "loaded_at": now},
            )
            count += 1
    return count
