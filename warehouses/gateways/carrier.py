"""The carrier that takes parcels at a warehouse door. Built in: a simulator that issues tracking
numbers; a real carrier's API plugs in here behind the same function."""

from __future__ import annotations

import secrets
from dataclasses import dataclass


@dataclass(frozen=True)
class Handover:
    carrier: str
    tracking_number: str


def hand_over(*, warehouse: str, reference: str, weight_g: int) -> Handover:
    # KRV + warehouse + 10 random digits: unique enough for a demo, never reused by the simulator.
    return Handover(carrier="karavan-sim", tracking_number=f"KRV{warehouse}{secrets.randbelow(10**10):010d}")


def hand_over_batch(parcels: list[tuple[str, str, int]]) -> list[Handover]:
    """Many parcels (warehouse, reference, weight in grams) handed over in one exchange, as a
    carrier's manifest API takes them: their handovers, in the same order."""
    return [hand_over(warehouse=warehouse, reference=reference, weight_g=weight_g) for warehouse, reference, weight_g in parcels]
