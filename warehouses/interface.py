"""What other apps get back from warehouses: plain data, never models.

Callers (the orders app) keep order ids; warehouses only know the caller's ``reference``.
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
class FulfilmentEvent:
    """A fulfilment moved on: what the caller's ``callback_task`` receives, after commit.

    Wire shape (Celery sends JSON; warehouses never imports the caller)::

        send_task(callback_task, args=[reference, warehouse, tracking_numbers], kwargs={"status": status})

    ``status`` is the fulfilment's new status: ``picking``, ``packed`` or ``shipped``, in that order
    (the operator's or the simulator's events; the warehouse is the place). ``tracking_numbers`` is
    empty before ``shipped``, the carrier's numbers of the parcels on ``shipped``. A receiver takes
    ``status`` with the default ``"shipped"``: messages sent before the status existed meant that.
    Each event is sent once per transition, but Celery may deliver it twice: receivers are idempotent.
    """

    reference: str
    warehouse: str
    status: str
    tracking_numbers: list[str] = field(default_factory=list)

    def task_args(self) -> list:
        return [self.reference, self.warehouse, list(self.tracking_numbers)]

    def task_kwargs(self) -> dict:
        return {"status": self.status}

    @classmethod
    def from_task(cls, reference: str, warehouse: str, tracking_numbers: list | None = None,
                  status: str = "shipped") -> FulfilmentEvent:
        """The event from a callback's arguments (the receiving task's signature, spelled once)."""
        return cls(reference=str(reference), warehouse=str(warehouse), status=str(status),
                   tracking_numbers=[str(n) for n in tracking_numbers or []])
