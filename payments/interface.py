"""The plain data other apps exchange with payments: who owns a wallet, what a booking did.

Payments never imports the models of other apps; callers name owners with :class:`Owner`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from core.money import Money

USER, COMPANY, PLATFORM = "user", "company", "platform"


@dataclass(frozen=True)
class Owner:
    """Who owns a wallet: a person (``user``) or a legal entity (``company``, a core.Company id)."""

    kind: str
    id: int

    @classmethod
    def user(cls, user) -> Owner:
        return cls(USER, int(user.pk))

    @classmethod
    def company(cls, company_id: int) -> Owner:
        return cls(COMPANY, int(company_id))

    @classmethod
    def parse(cls, label: str) -> Owner:
        """'user:12' or 'company:3' -> Owner (the form used in references and the admin)."""
        kind, _, pk = (label or "").partition(":")
        if kind not in (USER, COMPANY) or not pk.isdigit():
            raise ValueError(f"Not an owner label: {label!r}")
        return cls(kind, int(pk))

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.id}"

    def __str__(self) -> str:
        return self.label


@dataclass(frozen=True)
class TxnInfo:
    """One booked ledger transaction. ``entries`` are (account label, Money) pairs, signed: a
    positive amount credits the account. ``booked`` is False when an idempotent call found the
    transaction already there and booked nothing."""

    id: int
    kind: str
    reference: str
    entries: list = field(default_factory=list)
    booked: bool = True

    def amount_for(self, account_label: str) -> Money | None:
        for label, money in self.entries:
            if label == account_label:
                return money
        return None


@dataclass(frozen=True)
class Balance:
    """A wallet in one currency: ``available`` may be spent; ``held`` sits in escrow for open orders;
    ``balance`` is both together."""

    currency: str
    balance: Money
    held: Money
    available: Money
    pending_payouts: Money


@dataclass(frozen=True)
class FxRate:
    """Units of ``to`` per one unit of ``from_currency``, with where and when the rate was published."""

    from_currency: str
    to_currency: str
    rate: Decimal
    as_of: date
    source: str

    def to_api(self) -> dict:
        return {"from": self.from_currency, "to": self.to_currency, "rate": str(self.rate),
                "as_of": self.as_of.isoformat(), "source": self.source}


@dataclass(frozen=True)
class ConversionQuote:
    """What a conversion does, every minor unit accounted for:
    ``amount`` = ``cost`` (bought ``receive`` at ``rate``) + ``fee`` (the spread) + ``rounding``
    (source minor units too small to buy one more minor unit of the target)."""

    amount: Money
    receive: Money
    mid_rate: Decimal
    rate: Decimal          # applied: mid_rate × (1 − spread)
    spread: Decimal
    fee: Money
    rounding: Money
    cost: Money
    as_of: date
    source: str

    def to_api(self) -> dict:
        return {
            "amount": self.amount.to_api(), "receive": self.receive.to_api(), "mid_rate": str(self.mid_rate),
            "rate": str(self.rate), "spread": str(self.spread), "fee": self.fee.to_api(),
            "rounding": self.rounding.to_api(), "as_of": self.as_of.isoformat(), "source": self.source,
        }


@dataclass(frozen=True)
class Conversion:
    quote: ConversionQuote
    txn: TxnInfo


@dataclass(frozen=True)
class EscrowReleased:
    """What a batch release paid for one reference: the gross out of escrow to the payee, the
    commission the payee paid on it, and the ledger transaction (shared by the payee's batch)."""

    reference: str
    released: Money
    commission: Money
    txn_id: int | None
    booked: bool = True


@dataclass(frozen=True)
class DutyDue:
    """One parcel's duties for :func:`payments.services.escrow_pay_duty_batch`."""

    reference: str
    assessed: Money
    prepaid: Money
