"""Payout gateways move money from the platform to a seller's bank account."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class PayoutResult:
    ok: bool
    reference: str = ""
    reason: str = ""


class PayoutGateway:
    name = "base"

    def send(self, *, payout_id: int, owner_label: str, amount_minor: int, currency: str) -> PayoutResult:
        """Ask the bank to pay. Must be idempotent per payout_id: a retried task calls it again."""
        raise NotImplementedError


class SimulatorPayoutGateway(PayoutGateway):
    """Pays everything except amounts ending in .13, which fail as a bank rejection would (the way
    test card numbers work), so that the failure path can be tried from the UI."""

    name = "simulator"
    FAILING_CENTS = 13

    def send(self, *, payout_id, owner_label, amount_minor, currency):
        if amount_minor % 100 == self.FAILING_CENTS:
            return PayoutResult(ok=False, reason="The bank rejected the transfer (simulated: amount ends in .13).")
        return PayoutResult(ok=True, reference=f"SIM-PAYOUT-{payout_id}")


GATEWAYS = {SimulatorPayoutGateway.name: SimulatorPayoutGateway}


def get() -> PayoutGateway:
    return GATEWAYS[settings.PAYMENTS_PAYOUT_GATEWAY]()
