"""What other apps get back from warehouses: plain data, never models.

Callers (the marketplace) keep order ids; warehouses only know the caller's ``reference``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class ReservationLine:
    sku_id: int
    warehouse: str
    bond_status: str
    quantity: int
    shipped: bool = False


@dataclass(frozen=True)
class Reservation:
    reference: str
    status: str  # active | shipped | released | expired
    buyer_country: str
    expires_at: datetime | None
    lines: list[ReservationLine] = field(default_factory=list)

    @property
    def warehouses(self) -> list[str]:
        return sorted({line.warehouse for line in self.lines})

    def quantity_of(self, sku_id: int) -> int:
        return sum(line.quantity for line in self.lines if line.sku_id == sku_id)


@dataclass(frozen=True)
class Shipment:
    """What the fulfilment callback receives (as a dict: Celery sends JSON)."""

    reference: str
    warehouse: str
    tracking_numbers: list[str]
    weight_g: int
