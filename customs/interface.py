"""Plain data the customs app takes and gives: other apps never see its models."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date as Date
from decimal import Decimal

from core.money import Money
from core.texts import render, render_all, stored


@dataclass(frozen=True)
class QuoteLine:
    hs_code: str
    description: str
    quantity: int
    unit_price: Money
    weight_kg: Decimal  # per unit
    origin_country: str | None = None  # defaults to the quote's origin


@dataclass
class Quote:
    """A landed-cost quote. Money fields are in the buyer's currency; the breakdown is in the
    importing country's currency (where the law does its arithmetic and rounding)."""

    date: Date
    regime: str
    currency: str
    tax_currency: str
    goods: Money
    shipping: Money
    insurance: Money
    customs_value: Money
    duty: Money
    vat: Money
    excise: Money
    fees: Money
    taxes_total: Money
    landed_cost: Money
    landed_cost_storefront: Money
    fx: list = field(default_factory=list)
    breakdown: list = field(default_factory=list)
    allowance: dict | None = None
    warnings: list = field(default_factory=list)  # core.texts messages, shown in the reader's language
    usage: object = None  # rules.Usage: what allowance_record books for this order

    def to_api(self) -> dict:
        """The quote as the API answers it: regime, customs value, duty, VAT, excise, fees, their total and
        the landed cost (in the buyer's and the storefront's currency), with the FX rates used and the
        line-by-line breakdown; plus the date, the allowance and the warnings."""
        return {**self._head(), "breakdown": [item.to_api() for item in self.breakdown],
                "allowance": self._allowance(render), "warnings": render_all(self.warnings)}

    def _head(self) -> dict:
        return {
            "regime": self.regime,
            "date": self.date.isoformat(),
            "customs_value": self.customs_value.to_api(),
            "duty": self.duty.to_api(),
            "vat": self.vat.to_api(),
            "excise": self.excise.to_api(),
            "fees": self.fees.to_api(),
            "taxes_total": self.taxes_total.to_api(),
            "landed_cost": self.landed_cost.to_api(),
            "landed_cost_storefront": self.landed_cost_storefront.to_api(),
            "fx": [rate.to_api() for rate in self.fx],
        }

    def _allowance(self, show) -> dict | None:
        if not self.allowance:
            return self.allowance
        return {**self.allowance, "past_limit": show(self.allowance.get("past_limit"))}

    def to_stored(self) -> dict:
        """As an order keeps it: the API's shape, with the messages kept as messages, rendered in the
        reader's language when shown (customs.labels.localized_quote)."""
        return {**self._head(), "breakdown": [item.to_stored() for item in self.breakdown],
                "allowance": self.allowance, "warnings_text": [stored(w) for w in self.warnings]}


@dataclass(frozen=True)
class DeclarationLineInput:
    hs_code: str
    description: str
    quantity: int
    weight_kg: Decimal  # whole line
    value: Money  # whole line
    origin_country: str


@dataclass(frozen=True)
class ParcelInput:
    """What a buyer's parcel declaration needs beyond its lines."""

    regime: str  # the quote's (cn_cbec_1210, eaeu_ecommerce...)
    prepaid: Money  # duties and taxes the buyer paid with the order, held in escrow (DDP)
    recipient_name: str
    recipient_id: str = ""  # resident ID, IIN, PINFL or passport, where the destination needs it
    freight: Money | None = None  # the shipping the buyer paid, in the lines' currency


@dataclass(frozen=True)
class DeclarationInfo:
    id: int
    reference: str
    kind: str
    status: str
    channel: str
    regime: str
    importer_country: str
    registration_number: str
    customs_value: Money
    duties: Money  # duty + VAT + excise + fees
    rejection_reason: str


@dataclass(frozen=True)
class DeclarationEvent:
    """A declaration moved on: what the caller's ``callback_task`` receives, after commit.

    Wire shape (Celery sends JSON; customs never imports the caller)::

        send_task(callback_task, args=[declaration_id, reference, status])

    ``status`` is the declaration's new status (customs.states.DeclarationStatus), sent once per
    transition; Celery may deliver it twice and late, so receivers re-read the declaration
    (customs.selectors) rather than trust ``status``, and are idempotent.
    """

    declaration_id: int
    reference: str
    status: str

    def task_args(self) -> list:
        return [self.declaration_id, self.reference, self.status]

    @classmethod
    def from_task(cls, declaration_id: int, reference: str, status: str) -> DeclarationEvent:
        """The event from a callback's arguments (the receiving task's signature, spelled once)."""
        return cls(declaration_id=int(declaration_id), reference=str(reference), status=str(status))
