from decimal import Decimal

from core.access import SYSTEM_ACTOR
from core.money import Money
from customs import services
from customs.interface import DeclarationLineInput

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def declaration(reference="CONS-1", kind="release_from_bond", country="KZ", hs="851713", value="1000000", currency="KZT",
                declared="100.000", recorded=None, actor=SYSTEM_ACTOR, **kw):
    return services.declaration_create(
        kind=kind, reference=reference, importer_country=country,
        lines=[DeclarationLineInput(hs_code=hs, description="Smartphones", quantity=10, weight_kg=Decimal(declared),
                                    value=Money.of(value, currency), origin_country="CN")],
        declared_weight_kg=Decimal(declared), recorded_weight_kg=recorded, actor=actor, **kw)
