"""The parcel pipeline: after the warehouse ships an order, Celery moves it on its timers along the
order's road (the machine's moves named ``track``, :mod:`orders.states`):

* sold from bond (customs already cleared it at the warehouse): ``shipped → in_transit → delivered``;
* across a border: ``shipped → in_transit → at_customs`` (the parcel reaches the crossing and is
  declared there; customs' decision moves it on) and ``cleared → delivered``.

* :func:`place_of` — where each step happens: the warehouse, the border crossing, the buyer's city.
* :func:`parcels_advance` — one batch of orders from one status to the next, at one place: three
  statements whatever the batch size (:func:`core.states.transition_batch`); rows no longer in the
  source status (a duplicate or retried task) are skipped.
* :func:`order_delivered` — the last step, per batch: escrow to each seller minus the commission in
  one ledger transaction per seller (and one for the commission), the orders moved set-based.
* :func:`parcels_step` — what a step task does; :func:`parcels_sweep` finds orders whose countdown
  was lost and moves them on.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from core.access import SYSTEM_ACTOR
from core.models import TransitionEvent
from core.states import transition_batch
from core.tasks import enqueue, enqueue_ids

from .models import Order
from .routes import crossing_for
from .states import BORDER, ORDER_MACHINE, TRACK
from .states import OrderStatus as S

log = logging.getLogger(__name__)

# The statuses the pipeline's timers leave (each has a ``track`` move on some road).
TIMED = (S.SHIPPED, S.IN_TRANSIT, S.CLEARED)
PLACE_MAX = 32


def _place(source_warehouse: str, country: str, city: str, road: str, status: str) -> str:
    if status == S.DELIVERED:
        place = city or country
    elif road == BORDER and status in (S.AT_CUSTOMS, S.CLEARED, S.CUSTOMS_REJECTED):
        place = crossing_for(source_warehouse, country) or country
    else:
        place = source_warehouse
    return str(place or "")[:PLACE_MAX]


def place_of(order: Order, status: str) -> str:
    """Where ``order`` takes ``status``: the border crossing's customs post on the border road, the
    warehouse for the rest of the road out, the buyer's city for delivery."""
    return _place(order.source_warehouse, order.ship_to_country_id, order.ship_to_city, order.road, status)


def next_step(status: str, road: str) -> str | None:
    return ORDER_MACHINE.next_named(status, TRACK, {"road": road})


def delay_after(status: str) -> float:
    """Seconds an order stays in ``status`` before the pipeline moves it on."""
    return float(settings.MARKETPLACE_TRACKING_DELAYS.get(status, 0))


def parcels_schedule(*, order_ids: list[int], status: str) -> None:
    """Send the step task for orders now in ``status``, after commit, with the step's delay (the
    orders scheduled in one transaction go in one task, core.tasks.enqueue_ids)."""
    if not order_ids or status not in TIMED or not settings.MARKETPLACE_TRACKING_AUTOSTART:
        return
    from .tasks import parcels_step as task

    enqueue_ids(task, order_ids, str(status), countdown=delay_after(status))


def parcels_advance(*, from_status: str, to_status: str, order_ids, place: str = "") -> list[int]:
    """Move the orders still in ``from_status`` to ``to_status`` at ``place``; return those moved.
    Three statements whatever the batch size; a second run moves nothing."""
    return transition_batch(Order, order_ids, from_status, to_status, actor=SYSTEM_ACTOR, place=str(place)[:PLACE_MAX])


def order_delivered(*, order_ids, place: str = "", from_status: str = S.CLEARED,
                    places: dict[int, str] | None = None) -> list[int]:
    """Deliver the orders still in ``from_status`` in one transaction: their escrow is released in
    one ledger transaction per seller company (and one for its commission,
    :func:`payments.services.escrow_release_batch`), and they move to ``delivered`` at their place
    (``places[pk]``, else ``place``) in one set-based move. A statement count bounded by a few per
    seller, whatever the batch size. An order whose hold is refused stays where it is (logged; the
    sweep tries again); rows another worker holds are skipped. Safe to run twice."""
    from payments import services as payments
    from payments.interface import Owner

    rate = Decimal(str(settings.MARKETPLACE_ORDER_COMMISSION_RATE))
    places = places or {}
    with transaction.atomic(savepoint=False):
        # Uses the primary key; the rows stay locked until the move below.
        rows = [(pk, company, road) for pk, company, road in
                Order.objects.select_for_update(skip_locked=True).filter(pk__in=sorted(set(order_ids)), status=from_status)
                .order_by("pk").values_list("pk", "company_id", "road")
                if ORDER_MACHINE.find(from_status, S.DELIVERED, {"road": road}) is not None]
        if not rows:
            return []
        released = payments.escrow_release_batch(
            releases=[(f"order:{pk}", Owner.company(company)) for pk, company, _road in rows],
            commission_rate=rate, actor=SYSTEM_ACTOR)
        events = {}
        for pk, _company, _road in rows:
            done = released.get(f"order:{pk}")
            if done is None:
                log.error("delivery of order %s refused: its escrow could not be released; it stays %s", pk, from_status)
                continue
            events[pk] = {"place": str(places.get(pk, place) or "")[:PLACE_MAX],
                          "payload": {"paid_to_seller": (done.released - done.commission).to_api(),
                                      "commission": done.commission.to_api(), "release_txn": done.txn_id}}
        return transition_batch(Order, list(events), from_status, S.DELIVERED, actor=SYSTEM_ACTOR,
                                extra_updates={"closed_at": timezone.now()}, events=events)


def parcels_step(*, order_ids, from_status: str) -> dict[str, list[int]]:
    """One step of the pipeline for the orders still in ``from_status``, grouped by where they go
    next (their road) and where that happens. Returns ``{to_status: moved ids}``; the orders that
    reached a crossing are declared there (Celery)."""
    if from_status not in TIMED:
        return {}
    rows = Order.objects.filter(pk__in=list(order_ids), status=from_status).values_list(
        "pk", "source_warehouse", "ship_to_country_id", "ship_to_city", "road")
    groups: dict[tuple[str, str], list[int]] = {}
    delivered: dict[int, str] = {}  # delivery: one batch whatever the cities, each event with its own
    for pk, warehouse, country, city, road in rows:
        to_status = next_step(from_status, road)
        if to_status == S.DELIVERED:
            delivered[pk] = _place(warehouse, country, city, road, to_status)
        elif to_status is not None:
            groups.setdefault((to_status, _place(warehouse, country, city, road, to_status)), []).append(pk)
    moved: dict[str, list[int]] = {}
    for (to_status, place), ids in sorted(groups.items()):
        done = parcels_advance(from_status=from_status, to_status=to_status, order_ids=ids, place=place)
        moved.setdefault(to_status, []).extend(done)
    if delivered:
        moved[S.DELIVERED] = order_delivered(order_ids=list(delivered), from_status=from_status, places=delivered)
    if moved.get(S.AT_CUSTOMS):
        from .tasks import declare_parcels

        enqueue(declare_parcels, moved[S.AT_CUSTOMS])
    return moved


def parcels_stuck(*, status: str, limit: int, now=None, margin: float | None = None, after: int = 0) -> list[int]:
    """Orders in ``status`` for longer than its delay plus the margin (their task was lost); with
    ``margin=0``, every order whose step is due; ``after``: ids above it only (the next page). Uses
    index order_due_idx and, per order, transition_object_idx."""
    now = now or timezone.now()
    margin = settings.MARKETPLACE_TRACKING_SWEEP_MARGIN if margin is None else margin
    cutoff = now - timedelta(seconds=delay_after(status) + margin)
    recent = TransitionEvent.objects.filter(
        content_type=ContentType.objects.get_for_model(Order), object_id=OuterRef("pk"), to_state=status, at__gt=cutoff)
    return list(Order.objects.filter(status=status, pk__gt=after).exclude(Exists(recent)).order_by("pk")
                .values_list("pk", flat=True)[:limit])


def parcels_sweep(*, now=None) -> int:
    """Celery beat, every minute: advance the orders stuck in a tracking status (a countdown lost
    with a worker) in batches of ``MARKETPLACE_TRACKING_SWEEP_BATCH`` (500), then schedule their
    next step. A late original task finds them moved on and changes nothing."""
    size = settings.MARKETPLACE_TRACKING_SWEEP_BATCH
    total = 0
    for status in TIMED:
        for _batch in range(settings.MARKETPLACE_TRACKING_SWEEP_MAX_BATCHES):
            stuck = parcels_stuck(status=status, limit=size, now=now)
            if not stuck:
                break
            moved = 0
            for to_status, ids in parcels_step(order_ids=stuck, from_status=status).items():
                parcels_schedule(order_ids=ids, status=to_status)
                moved += len(ids)
            total += moved
            if len(stuck) < size or moved == 0:
                break
    return total
