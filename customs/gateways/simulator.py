"""The built-in customs authority: deterministic risk rules, all tunable in settings.CUSTOMS_SIMULATOR.

The same declaration always gets the same answer, so journeys are reproducible. Rules, first match
of the strongest outcome wins: rejection (prohibited chapters, and one in ``reject_every`` by a hash
of the reference) > red (inspection) > yellow (documents) > green.
"""

from __future__ import annotations

import zlib
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from . import GatewayDeclaration, PollResult, SubmitResult

HUNDRED = Decimal(100)


class SimulatorGateway:
    name = "simulator"

    def __init__(self, config: dict | None = None):
        self.config = config or settings.CUSTOMS_SIMULATOR

    def submit(self, declaration: GatewayDeclaration) -> SubmitResult:
        return SubmitResult(f"SIM-{declaration.importer_country}-{declaration.id:08d}")

    def submit_batch(self, declarations: list[GatewayDeclaration]) -> list[SubmitResult]:
        """Many declarations in one exchange, answered in their order (as a real authority's batch API)."""
        return [self.submit(d) for d in declarations]

    def poll_batch(self, declarations: list[GatewayDeclaration]) -> list[PollResult]:
        return [self.poll(d) for d in declarations]

    def poll(self, declaration: GatewayDeclaration) -> PollResult:
        if declaration.status == "paid":
            return PollResult("released", "Duties paid: goods released")
        if declaration.status != "registered":
            return PollResult("pending")
        return self.assess_risk(declaration)

    def assess_risk(self, declaration: GatewayDeclaration) -> PollResult:
        c = self.config
        chapters = {line.hs_code[:2] for line in declaration.lines}
        reject = sorted(chapters & set(c["reject_hs_chapters"]))
        if reject:
            return PollResult("rejected", f"Goods of HS chapter {', '.join(reject)} may not be imported", ("prohibited_chapter",))
        every = int(c["reject_every"])
        if every and zlib.crc32(declaration.reference.encode()) % every == 0:
            return PollResult("rejected", "Declaration data do not match the accompanying documents", ("random_audit",))
        red, yellow = [], []
        value_usd = self._usd(declaration)
        if value_usd is not None and value_usd > Decimal(str(c["red_value_usd"])):
            red.append(("high_value", f"customs value over {c['red_value_usd']} USD"))
        elif value_usd is not None and value_usd > Decimal(str(c["yellow_value_usd"])):
            yellow.append(("high_value", f"customs value over {c['yellow_value_usd']} USD"))
        red_ch = sorted(chapters & set(c["red_hs_chapters"]))
        if red_ch:
            red.append(("sensitive_chapter", f"HS chapter {', '.join(red_ch)} is inspected"))
        yellow_ch = sorted(chapters & set(c["yellow_hs_chapters"]))
        if yellow_ch:
            yellow.append(("certified_chapter", f"HS chapter {', '.join(yellow_ch)} needs certificates"))
        if declaration.recorded_weight_kg is not None and declaration.declared_weight_kg:
            gap = abs(declaration.recorded_weight_kg - declaration.declared_weight_kg) / declaration.declared_weight_kg * HUNDRED
            if gap > Decimal(str(c["weight_gap_red_percent"])):
                red.append(("weight_mismatch", f"recorded weight differs from the declared by {gap:.1f}%"))
            elif gap > Decimal(str(c["weight_gap_yellow_percent"])):
                yellow.append(("weight_mismatch", f"recorded weight differs from the declared by {gap:.1f}%"))
        if declaration.kind != "parcel" and c["invoice_required"] and "invoice" not in declaration.document_kinds:
            yellow.append(("missing_invoice", "no commercial invoice attached"))
        for status, hits in (("red", red), ("yellow", yellow)):
            if hits:
                return PollResult(status, "; ".join(text for _, text in hits).capitalize(), tuple(code for code, _ in hits))
        return PollResult("green", "No risk rule matched", ())

    @staticmethod
    def _usd(declaration: GatewayDeclaration) -> Decimal | None:
        from customs.rules.data import fx_rate

        try:
            rate = fx_rate(declaration.customs_value.currency, "USD", timezone.localdate()).rate
        except Exception:  # noqa: BLE001 - no rate means the value rule cannot apply, not a failure
            return None
        return declaration.customs_value.amount * rate
