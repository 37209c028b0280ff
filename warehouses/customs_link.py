"""Every call from warehouses to customs goes through here.

The customs app is being built alongside; until its services exist
(``customs.services.declaration_create`` / ``declaration_submit``, ``customs.selectors.declaration_for``)
customs is simulated: an inbound consignment is cleared by the transit simulator after its delay,
and a release from bond is taken as cleared. ``WAREHOUSES_CUSTOMS = "simulated"`` forces the
simulation even when customs is installed (demo without a broker).
"""

from __future__ import annotations

from importlib import import_module

from django.conf import settings

CALLBACK_TASK = "warehouses.declaration_changed"


def _module(name: str):
    try:
        return import_module(name)
    except ImportError:
        return None


def _services():
    if settings.WAREHOUSES_CUSTOMS == "simulated":
        return None
    services = _module("customs.services")
    return services if services is not None and hasattr(services, "declaration_create") else None


def _selectors():
    if settings.WAREHOUSES_CUSTOMS == "simulated":
        return None
    selectors = _module("customs.selectors")
    return selectors if selectors is not None and hasattr(selectors, "declaration_for") else None


def is_simulated() -> bool:
    return _services() is None


def declare_inbound(consignment) -> int | None:
    """Declare the consignment's entry into bond; the declaration id, or None when simulated.

    Simulated for now even with customs installed: customs' ``DeclarationLineInput`` needs a
    declared value per line, and consignment lines do not carry one yet (see the report).
    """
    return None


def release_cleared(reference: str) -> bool:
    """Whether customs has released the units of ``reference`` from bond (a sale into the country)."""
    selectors = _selectors()
    if selectors is None:
        return True
    declaration = selectors.declaration_for(reference)
    return declaration is not None and getattr(declaration, "status", None) == "released"
