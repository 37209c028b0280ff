"""Every call from warehouses to customs goes through here (customs is the lower layer).

Inbound consignments are declared for real: ``import`` declarations into the warehouse's country,
cleared by customs' own gateway (its built-in simulator in demo and tests) and reported back
through the ``warehouses.declaration_changed`` callback task.

A buyer's parcel sold from bond is declared by the orders app, not from here: once customs releases
it, the orders app calls :func:`warehouses.services.stock_release_from_bond`. Until then the units
may be neither picked nor shipped; warehouses never asks customs about it.
"""

from __future__ import annotations

from decimal import Decimal

from core.access import SYSTEM_ACTOR
from core.money import Money
from core.tasks import callback
from customs import selectors as customs_selectors
from customs import services as customs_services
from customs.interface import DeclarationInfo, DeclarationLineInput

CALLBACK_TASK = callback("warehouses.declaration_changed")
REFERENCE_PREFIX = "consignment:"


def reference_of(consignment) -> str:
    return f"{REFERENCE_PREFIX}{consignment.pk}"


def consignment_id_of(reference: str) -> int | None:
    """The consignment id in a declaration reference of ours; None for anyone else's."""
    if not str(reference).startswith(REFERENCE_PREFIX):
        return None
    tail = str(reference)[len(REFERENCE_PREFIX):]
    return int(tail) if tail.isdigit() else None


def origin_country(consignment) -> str | None:
    origin = consignment.origin
    return origin.country_id or (origin.countries.split(";")[0] if origin.countries else None)


def crosses_border(consignment) -> bool:
    return origin_country(consignment) != consignment.warehouse.country_id


def declare_inbound(consignment) -> DeclarationInfo:
    """Declare the consignment's entry into the warehouse's country and submit the declaration.

    Idempotent: customs returns the existing declaration of the same reference, and a declaration
    already past its draft is not submitted again. Raises customs' ``DomainError`` on bad data.
    """
    lines = list(consignment.lines.select_related("sku", "sku__company").order_by("id"))
    origin = origin_country(consignment)
    inputs = [
        DeclarationLineInput(
            hs_code=line.sku.hs_code, description=line.sku.name, quantity=line.expected_qty,
            weight_kg=Decimal(line.sku.weight_g * line.expected_qty) / 1000,
            value=Money(line.declared_value_minor, line.currency),
            origin_country=line.sku.origin_country_id or line.sku.company.country_id or origin,
        )
        for line in lines
    ]
    info = customs_services.declaration_create(
        kind="import", reference=reference_of(consignment), importer_country=consignment.warehouse.country_id,
        lines=inputs, declared_weight_kg=sum((ln.weight_kg for ln in inputs), Decimal(0)),
        payer=("company", consignment.company_id), callback_task=CALLBACK_TASK, actor=SYSTEM_ACTOR,
    )
    if info.status == "draft":
        info = customs_services.declaration_submit(declaration_id=info.id, actor=SYSTEM_ACTOR)
    return info


def declaration(reference: str) -> DeclarationInfo | None:
    return customs_selectors.declaration_for(reference)

