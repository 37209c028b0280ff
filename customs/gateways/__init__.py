"""The customs authority, behind one interface.

A gateway takes a snapshot of a declaration (plain data) and answers ``submit`` (registration) and
``poll`` (risk channel, rejection or release). The simulator is built in; each country's real
system plugs in as another adapter named in ``settings.CUSTOMS_GATEWAYS``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from core.money import Money


@dataclass(frozen=True)
class GatewayLine:
    hs_code: str
    quantity: int
    weight_kg: Decimal
    value: Money


@dataclass(frozen=True)
class GatewayDeclaration:
    id: int
    reference: str
    kind: str
    importer_country: str
    status: str
    registration_number: str
    customs_value: Money
    declared_weight_kg: Decimal
    recorded_weight_kg: Decimal | None
    lines: tuple[GatewayLine, ...]
    document_kinds: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class SubmitResult:
    registration_number: str


@dataclass(frozen=True)
class PollResult:
    status: str  # green, yellow, red, rejected, released, pending
    reason: object = ""  # a core.texts message (or plain text from a real authority)
    rules: tuple[str, ...] = ()


class CustomsGateway(Protocol):
    """``submit`` and ``poll`` are asked with no database transaction open (customs never holds a
    row lock across them) and must answer the same declaration alike when asked twice (a task
    delivered twice, a step resumed after a crash). An adapter may also answer many at once with
    ``submit_batch`` and ``poll_batch`` (a list of answers in the order of the declarations);
    :func:`submit_batch` and :func:`poll_batch` fall back on one call per declaration."""

    name: str

    def submit(self, declaration: GatewayDeclaration) -> SubmitResult: ...

    def poll(self, declaration: GatewayDeclaration) -> PollResult: ...


def get(name: str) -> CustomsGateway:
    return import_string(settings.CUSTOMS_GATEWAYS[name])()


def submit_batch(gateway: CustomsGateway, declarations: list[GatewayDeclaration]) -> list[SubmitResult]:
    many = getattr(gateway, "submit_batch", None)
    return list(many(declarations)) if many else [gateway.submit(d) for d in declarations]


def poll_batch(gateway: CustomsGateway, declarations: list[GatewayDeclaration]) -> list[PollResult]:
    many = getattr(gateway, "poll_batch", None)
    return list(many(declarations)) if many else [gateway.poll(d) for d in declarations]


def snapshot(declaration) -> GatewayDeclaration:
    return GatewayDeclaration(
        id=declaration.pk, reference=declaration.reference, kind=declaration.kind,
        importer_country=declaration.importer_country, status=declaration.status,
        registration_number=declaration.registration_number,
        customs_value=Money(declaration.customs_value_minor, declaration.currency),
        declared_weight_kg=declaration.declared_weight_kg, recorded_weight_kg=declaration.recorded_weight_kg,
        lines=tuple(GatewayLine(line.hs_code, line.quantity, line.weight_kg, Money(line.value_minor, line.currency))
                    for line in declaration.lines.all()),
        document_kinds=frozenset(document.kind for document in declaration.documents.all()),  # prefetched in batches
    )
