"""The parcel pipeline (PRODUCT.md §3, §6): after the warehouse ships an order, Celery moves it
``shipped → in_transit → at_customs → cleared → delivered``; delivery releases the escrow.

* :func:`route_for` — the place of each step, from the order's source warehouse to its ship-to
  country (``settings.MARKETPLACE_TRACKING_ROUTES``; the warehouse itself where no route is set,
  the buyer's city for the delivery).
* :func:`parcels_advance` — one batch of orders from one status to the next, at one place: three
  statements whatever the batch size (:func:`core.states.transition_batch`); rows no longer in the
  source status (a duplicate or retried task, a broker's refusal meanwhile) are skipped.
* :func:`order_delivered` — the last step, per order, through :func:`orders.services.order_deliver`
  (escrow to the seller minus the commission); an order no longer ``cleared`` is skipped.
* :func:`parcels_step` — what a step task does: the next move for the orders still in ``from_status``,
  grouped by place. :func:`parcels_stuck` finds the orders whose countdown was lost.

Customs is never skipped. The machine declares ``in_transit → delivered`` (released stock sold in
its own country) but not ``in_transit → cleared``, and every warehouse on the storefronts is bonded:
an order sold into the warehouse's own country (cn-kz from ALA, cn-uz from TAS, the pavilions from
LHW into China) is released from bond, so it passes ``at_customs``/``cleared`` at the warehouse.
Only a route crossing a border (KHG → China) clears at the border crossing.

A customs refusal (``at_customs → customs_rejected``) is fired by the broker or staff; the pipeline
then leaves the order alone (it is no longer ``at_customs``).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from core.access import SYSTEM_ACTOR
from core.errors import DomainError
from core.models import TransitionEvent
from core.states import transition_batch
from core.tasks import enqueue

from .models import Order
from .states import OrderStatus as S

log = logging.getLogger(__name__)

# The status each tracking status moves to next.
NEXT = {S.SHIPPED: S.IN_TRANSIT, S.IN_TRANSIT: S.AT_CUSTOMS, S.AT_CUSTOMS: S.CLEARED, S.CLEARED: S.DELIVERED}
STEPS = (S.IN_TRANSIT, S.AT_CUSTOMS, S.CLEARED, S.DELIVERED)
PLACE_MAX = 32


def _route(source_warehouse: str, country: str, city: str) -> dict[str, str]:
    configured = settings.MARKETPLACE_TRACKING_ROUTES.get(f"{source_warehouse}>{country}", {})
    places = {step: configured.get(step, source_warehouse) for step in STEPS[:-1]}
    places[S.DELIVERED] = configured.get(S.DELIVERED) or city or country
    return {step: str(place or "")[:PLACE_MAX] for step, place in places.items()}


def route_for(order: Order) -> list[tuple[str, str]]:
    """The steps after ``shipped`` as (status, place), e.g. for honey from Lanzhou to Urumqi
    ``[("in_transit", "LHW"), ("at_customs", "LHW"), ("cleared", "LHW"), ("delivered", "Urumqi")]``."""
    places = _route(order.source_warehouse, order.ship_to_country_id, order.ship_to_city)
    return [(step, places[step]) for step in STEPS]


def delay_after(status: str) -> float:
    """Seconds an order stays in ``status`` before the pipeline moves it on."""
    return float(settings.MARKETPLACE_TRACKING_DELAYS.get(status, 0))


def parcels_schedule(*, order_ids: list[int], status: str) -> None:
    """Send the step task for orders now in ``status``, after commit, with the step's delay."""
    if not order_ids or status not in NEXT or not settings.MARKETPLACE_TRACKING_AUTOSTART:
        return
    from .tasks import parcels_step as task

    enqueue(task, list(order_ids), str(status), countdown=delay_after(status))


def parcels_advance(*, from_status: str, to_status: str, order_ids, place: str = "") -> list[int]:
    """Move the orders still in ``from_status`` to ``to_status`` at ``place``; return those moved.
    Three statements whatever the batch size; a second run moves nothing."""
    return transition_batch(Order, order_ids, from_status, to_status, actor=SYSTEM_ACTOR, place=str(place)[:PLACE_MAX])


def order_delivered(*, order_ids, place: str = "") -> list[int]:
    """Deliver each order still ``cleared``: escrow to the seller minus commission (one transaction
    per order, so one refusal holds up no other; it stays cleared and the sweep tries again)."""
    from .services import order_deliver

    delivered = []
    content_type = ContentType.objects.get_for_model(Order)
    for pk in sorted(set(order_ids)):
        try:
            with transaction.atomic():
                order = Order.objects.select_for_update(skip_locked=True).filter(pk=pk, status=S.CLEARED).first()
                if order is None:
                    continue
                order_deliver(order=order, actor=SYSTEM_ACTOR)
                # order_deliver records no place; the delivery event gets the route's.
                TransitionEvent.objects.filter(content_type=content_type, object_id=pk, to_state=S.DELIVERED,
                                               place="").update(place=str(place)[:PLACE_MAX])
        except DomainError:
            log.exception("delivery of order %s refused; it stays cleared", pk)
            continue
        delivered.append(pk)
    return delivered


def parcels_step(*, order_ids, from_status: str) -> dict[str, list[int]]:
    """One step of the pipeline for the orders still in ``from_status``, grouped by place.
    Returns ``{to_status: moved ids}``."""
    to_status = NEXT.get(from_status)
    if to_status is None:
        return {}
    rows = Order.objects.filter(pk__in=list(order_ids), status=from_status).values_list(
        "pk", "source_warehouse", "ship_to_country_id", "ship_to_city")
    by_place: dict[str, list[int]] = {}
    for pk, warehouse, country, city in rows:
        by_place.setdefault(_route(warehouse, country, city)[to_status], []).append(pk)
    moved: list[int] = []
    for place, ids in sorted(by_place.items()):
        if to_status == S.DELIVERED:
            moved += order_delivered(order_ids=ids, place=place)
        else:
            moved += parcels_advance(from_status=from_status, to_status=to_status, order_ids=ids, place=place)
    return {to_status: moved}


def parcels_stuck(*, status: str, limit: int, now=None) -> list[int]:
    """Orders in ``status`` for longer than its delay plus the margin (their task was lost)."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=delay_after(status) + settings.MARKETPLACE_TRACKING_SWEEP_MARGIN)
    recent = TransitionEvent.objects.filter(
        content_type=ContentType.objects.get_for_model(Order), object_id=OuterRef("pk"), to_state=status, at__gt=cutoff)
    return list(Order.objects.filter(status=status).exclude(Exists(recent)).order_by("pk")
                .values_list("pk", flat=True)[:limit])


def parcels_sweep(*, now=None) -> int:
    """Celery beat, every minute: advance the orders stuck in a tracking status (a countdown lost
    with a worker) in batches of ``MARKETPLACE_TRACKING_SWEEP_BATCH`` (500), then schedule their
    next step. A late original task finds them moved on and changes nothing."""
    size = settings.MARKETPLACE_TRACKING_SWEEP_BATCH
    total = 0
    for status in NEXT:
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
