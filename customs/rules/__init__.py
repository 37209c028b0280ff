"""The customs rules engine: which regime applies, and what each jurisdiction charges.

Each jurisdiction is a plain module (``china``, ``eaeu``, ``uzbekistan``, ``tajikistan``,
``turkmenistan``; ``commercial`` for a release from bond and domestic sales) with a function
``compute(ctx) -> Outcome``. Figures come from the tables read in ``rules.data``, for the date of
the quote; the modules only hold the arithmetic and its rounding.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date as Date
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.errors import DomainError, ErrorCode
from core.money import Money
from core.texts import Text, fx_rate, render, stored, text

from . import data

CENTRAL_ASIA = ("KZ", "KG", "UZ", "TJ", "TM")
EAEU = ("KZ", "KG")
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Line:
    """A quote line in the importing country's currency (``value`` is the whole line)."""

    index: int
    hs_code: str
    description: str
    quantity: int
    value: Money
    weight_kg: Decimal  # whole line
    origin_country: str


@dataclass
class Item:
    """One line of the breakdown: what was charged (or allowed free), on what, by which rule."""

    kind: str  # customs_value, allowance, duty, parcel_payment, excise, vat, vat_included, fee
    line: int | None
    base: Money
    rate: Decimal | None  # percent
    amount: Money
    rule: Text | str  # shown in the reader's language (core.texts)
    source: str

    def to_api(self) -> dict:
        """As the API answers it: ``rule`` in the active language."""
        return self._shape(rule=render(self.rule))

    def to_stored(self) -> dict:
        """As kept with an order or a declaration: the API's shape with ``rule`` kept as its message
        (``rule_text``), rendered in the reader's language when shown (customs.labels). A rendering
        in the language of the moment it was kept would be read by no one."""
        return self._shape(rule_text=stored(self.rule))

    def _shape(self, **rule) -> dict:
        return {
            "kind": self.kind, "line": self.line, "base": self.base.to_api(),
            "rate": None if self.rate is None else format(self.rate.normalize(), "f"),
            "amount": self.amount.to_api(), **rule, "source": self.source,
        }


@dataclass(frozen=True)
class Usage:
    """What this order would take from a limit that spans orders."""

    jurisdiction: str
    period_key: str
    amount: Money  # in the limit's currency


@dataclass
class Context:
    date: Date
    origin: str
    destination: str
    channel: str
    source_warehouse: str | None
    currency: str  # the importing country's currency: the legal currency of the computation
    lines: list[Line]
    shipping: Money
    insurance: Money
    buyer_id: int | None = None
    allowance_used: object = None  # callable(jurisdiction, period_key, currency) -> Money
    fx: list = field(default_factory=list)
    warnings: list[Text] = field(default_factory=list)

    @property
    def goods(self) -> Money:
        return sum((line.value for line in self.lines), Money.zero(self.currency))

    @property
    def weight_kg(self) -> Decimal:
        return sum((line.weight_kg for line in self.lines), Decimal(0))

    @property
    def quantity(self) -> int:
        return sum(line.quantity for line in self.lines)

    def rate(self, base: str, quote: str) -> data.FxRate:
        """An FX rate for this quote, recorded once in its ``fx`` list."""
        found = data.fx_rate(base, quote, self.date)
        if base != quote and all((r.base, r.quote) != (base, quote) for r in self.fx):
            self.fx.append(found)
            if found.as_of is None:
                self.warn(text(gettext_noop("The %(base)s/%(quote)s rate has no date in the reference data; "
                                            "check it before relying on it."), base=base, quote=quote))
        return found

    def to_local(self, amount: Decimal, currency: str, rounding=ROUND_HALF_UP) -> Money:
        """An amount in EUR, USD... as Money in the importing country's currency, rounded once."""
        return Money(0, self.currency) if not amount else convert_decimal(amount, self.rate(currency, self.currency).rate,
                                                                         self.currency, rounding)

    def warn(self, message: Text) -> None:
        if message not in self.warnings:
            self.warnings.append(message)


def fx_line(found: data.FxRate) -> Text:
    """The FX rate a computation used, as a customs broker reads it."""
    if found.as_of is None:
        return text(gettext_noop("FX %(base)s/%(quote)s %(rate)s"), base=found.base, quote=found.quote, rate=fx_rate(found.rate))
    return text(gettext_noop("FX %(base)s/%(quote)s %(rate)s as of %(date)s"), base=found.base, quote=found.quote,
                rate=fx_rate(found.rate), date=found.as_of)


UNVERIFIED = {
    "partially_verified": gettext_noop("%(what)s is partially verified in the reference data; the figure may change."),
    "unverified": gettext_noop("%(what)s is unverified in the reference data; the figure may change."),
}


def unverified(ctx: Context, what: Text, status: str) -> None:
    """Warn that a figure the quote used is not (fully) verified in the reference data."""
    ctx.warn(text(UNVERIFIED.get(status, UNVERIFIED["unverified"]), what=what))


@dataclass
class Outcome:
    regime: str
    customs_value: Money
    items: list[Item]
    allowance: dict | None = None
    usage: Usage | None = None

    def total(self, *kinds: str) -> Money:
        currency = self.customs_value.currency
        return sum((i.amount for i in self.items if i.kind in kinds), Money.zero(currency))


# --- arithmetic helpers -----------------------------------------------------------------------


def convert_decimal(amount: Decimal, rate: Decimal, currency: str, rounding=ROUND_HALF_UP) -> Money:
    from core.money import currencies

    scaled = (amount * rate).scaleb(currencies()[currency]).to_integral_value(rounding=rounding)
    return Money(int(scaled), currency)


def percent_of(base: Money, percent: Decimal, rounding=ROUND_HALF_UP) -> Money:
    """``base`` × ``percent`` %, rounded to the minor unit (one rounding per tax line)."""
    return base.times(Decimal(percent) / HUNDRED, rounding=rounding)


def allocate(total: Money, weights: list[int]) -> list[Money]:
    """Split ``total`` over lines in proportion to ``weights`` exactly (largest remainder), so
    freight shares always add up to the freight."""
    whole = sum(weights)
    if not whole:
        shares = [0] * len(weights)
        if weights:
            shares[0] = total.minor
        return [Money(s, total.currency) for s in shares]
    raw = [(total.minor * w) // whole for w in weights]
    remainders = sorted(range(len(weights)), key=lambda i: (-((total.minor * weights[i]) % whole), i))
    for i in remainders[: total.minor - sum(raw)]:
        raw[i] += 1
    return [Money(m, total.currency) for m in raw]


def excess_of(value: Money, limit: Money) -> Money:
    return value - limit if value > limit else Money.zero(value.currency)


def period_key(period: str, on: Date) -> str:
    if period == "year":
        return f"{on.year}"
    if period == "quarter":
        return f"{on.year}-Q{(on.month - 1) // 3 + 1}"
    if period == "month":
        return f"{on.year}-{on.month:02d}"
    raise ValueError(period)


def pct(value: Decimal) -> str:
    """A percentage as people write it: 70, 6.3, 0.2 (never 7E+1)."""
    return format(Decimal(value).normalize(), "f")


def money_text(money: Money) -> str:
    return f"{money.amount:,.2f} {money.currency}"


# --- which regime applies -----------------------------------------------------------------


def select_regime(*, origin: str, destination: str, channel: str, source_warehouse_country: str | None) -> str:
    """Which regime applies, from the route and the channel.

    B2B is a release from bond (into Central Asia only); ``domestic`` or the same origin and destination
    is a domestic sale. Into China: cross-border e-commerce (1210 when the goods already wait in a
    Chinese bonded warehouse, else 9610) for goods from Central Asia not sent by post, otherwise personal
    postal articles. Into Central Asia: the destination's personal-parcel rule, except between two
    EAEU members, where goods are not imported at all."""
    if channel == "b2b":
        if destination not in CENTRAL_ASIA:
            raise DomainError(ErrorCode.REGIME_NOT_SUPPORTED, _("A release from bond is supported into Central Asian countries only."),
                              {"destination_country": [_("Release from bond is supported into KZ, KG, UZ, TJ and TM.")]})
        return "release_from_bond"
    if channel == "domestic" or origin == destination:
        return "domestic"
    if destination == "CN":
        if origin in CENTRAL_ASIA and channel != "post":
            return "cn_cbec_1210" if source_warehouse_country == "CN" else "cn_cbec_9610"
        return "cn_postal_articles"
    if destination in CENTRAL_ASIA:
        if origin in EAEU and destination in EAEU:
            raise DomainError(ErrorCode.REGIME_NOT_SUPPORTED,
                              _("Goods moving inside the EAEU are not imported: there is no customs quote for them."),
                              {"origin_country": [_("Origin and destination are both in the EAEU.")]})
        # KZ and KG: eaeu_personal_parcel, or eaeu_ecommerce for quotes dated from 2026-07-01 (the
        # EAEU module names the regime of the rule in force on the date).
        return {"KZ": "eaeu_personal_parcel", "KG": "eaeu_personal_parcel", "UZ": "uz_personal_parcel",
                "TJ": "tj_personal_parcel", "TM": "tm_personal_parcel"}[destination]
    raise DomainError(ErrorCode.REGIME_NOT_SUPPORTED, _("No customs rules for imports into %(country)s.") % {"country": destination},
                      {"destination_country": [_("No customs rules for %(country)s.") % {"country": destination}]})


def compute(regime: str, ctx: Context) -> Outcome:
    from . import china, commercial, eaeu, tajikistan, turkmenistan, uzbekistan

    modules = {
        "cn_cbec_9610": china.cbec, "cn_cbec_1210": china.cbec, "cn_postal_articles": china.postal_articles,
        "eaeu_personal_parcel": eaeu.parcel, "eaeu_ecommerce": eaeu.parcel, "uz_personal_parcel": uzbekistan.parcel,
        "tj_personal_parcel": tajikistan.parcel, "tm_personal_parcel": turkmenistan.parcel,
        "release_from_bond": commercial.release_from_bond, "domestic": commercial.domestic,
        "customs_warehouse": commercial.customs_warehouse,
    }
    outcome = modules[regime](ctx)
    # A module whose regime depends on the rule in force on the date names it (the EAEU parcel
    # rule became the e-commerce goods regime on 2026-07-01); the others take the selected one.
    outcome.regime = outcome.regime or regime
    return outcome
