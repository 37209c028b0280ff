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
from django.utils.translation import gettext_noop

from core.texts import Text, number, percent, text

from . import GatewayDeclaration, PollResult, SubmitResult

HUNDRED = Decimal(100)
OVER_VALUE = gettext_noop("Customs value over %(limit)s USD")
WEIGHT_GAP = gettext_noop("Recorded weight differs from the declared by %(gap)s")


def joined(notes: list[Text]) -> Text:
    if len(notes) == 1:
        return notes[0]
    return text(gettext_noop("%(first)s; %(rest)s"), first=notes[0], rest=joined(notes[1:]))


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
            return PollResult("released", text(gettext_noop("Duties paid: goods released")))
        if declaration.status != "registered":
            return PollResult("pending")
        return self.assess_risk(declaration)

    def assess_risk(self, declaration: GatewayDeclaration) -> PollResult:
        c = self.config
        chapters = {line.hs_code[:2] for line in declaration.lines}
        reject = sorted(chapters & set(c["reject_hs_chapters"]))
        if reject:
            return PollResult("rejected", text(gettext_noop("Goods of HS chapter %(chapters)s may not be imported"),
                                               chapters=", ".join(reject)), ("prohibited_chapter",))
        every = int(c["reject_every"])
        if every and zlib.crc32(declaration.reference.encode()) % every == 0:
            return PollResult("rejected", text(gettext_noop("Declaration data do not match the accompanying documents")),
                              ("random_audit",))
        red, yellow = [], []
        value_usd = self._usd(declaration)
        if value_usd is not None and value_usd > Decimal(str(c["red_value_usd"])):
            red.append(("high_value", text(OVER_VALUE, limit=number(c["red_value_usd"]))))
        elif value_usd is not None and value_usd > Decimal(str(c["yellow_value_usd"])):
            yellow.append(("high_value", text(OVER_VALUE, limit=number(c["yellow_value_usd"]))))
        red_ch = sorted(chapters & set(c["red_hs_chapters"]))
        if red_ch:
            red.append(("sensitive_chapter", text(gettext_noop("HS chapter %(chapters)s is inspected"), chapters=", ".join(red_ch))))
        yellow_ch = sorted(chapters & set(c["yellow_hs_chapters"]))
        if yellow_ch:
            yellow.append(("certified_chapter", text(gettext_noop("HS chapter %(chapters)s needs certificates"),
                                                     chapters=", ".join(yellow_ch))))
        if declaration.recorded_weight_kg is not None and declaration.declared_weight_kg:
            gap = abs(declaration.recorded_weight_kg - declaration.declared_weight_kg) / declaration.declared_weight_kg * HUNDRED
            if gap > Decimal(str(c["weight_gap_red_percent"])):
                red.append(("weight_mismatch", text(WEIGHT_GAP, gap=percent(round(gap, 1)))))
            elif gap > Decimal(str(c["weight_gap_yellow_percent"])):
                yellow.append(("weight_mismatch", text(WEIGHT_GAP, gap=percent(round(gap, 1)))))
        if declaration.kind != "parcel" and c["invoice_required"] and "invoice" not in declaration.document_kinds:
            yellow.append(("missing_invoice", text(gettext_noop("No commercial invoice attached"))))
        for status, hits in (("red", red), ("yellow", yellow)):
            if hits:
                return PollResult(status, joined([note for _, note in hits]), tuple(code for code, _ in hits))
        return PollResult("green", text(gettext_noop("No risk rule matched")), ())

    @staticmethod
    def _usd(declaration: GatewayDeclaration) -> Decimal | None:
        from customs.rules.data import fx_rate

        try:
            rate = fx_rate(declaration.customs_value.currency, "USD", timezone.localdate()).rate
        except Exception:  # noqa: BLE001 - no rate means the value rule cannot apply, not a failure
            return None
        return declaration.customs_value.amount * rate
