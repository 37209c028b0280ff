"""Load FX rates from reference/currencies.csv through the built-in provider. Idempotent."""

from core.access import SYSTEM_ACTOR


def load() -> dict:
    from .services import fx_rates_load

    return {"fx rates": fx_rates_load(source="reference", actor=SYSTEM_ACTOR)}
