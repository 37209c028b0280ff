"""Celery adapters of orders: take ids, call one service, safe to run twice.

The task names keep the ``marketplace.`` prefix they had before orders became an app of their own:
warehouses store ``marketplace.order_shipped`` in fulfilment rows, and the beat schedule in the
database names the others.
"""

from celery import shared_task
from django.db import OperationalError

# Paid orders sold from bond that one filing transaction takes together, and transactions per task.
DECLARE_BATCH = 200
DECLARE_MAX_BATCHES = 10
# The shared marker "a filing task of the payments is queued and has not read yet"
# (core.tasks.enqueue_ids, ``pending``): set by a payment's commit that sends the task, cleared by
# the task before it reads the paid orders. Seconds before a marker left by a lost message expires.
DECLARE_PENDING = "orders.declare_paid_parcels"
DECLARE_PENDING_TTL = 60
# The sweep files the paid orders sold from bond still undeclared this many seconds after payment.
DECLARE_SWEEP_AFTER = 120
# The sweep returns the orders customs refused that are still not returned this many seconds later.
REJECTED_SWEEP_AFTER = 120
# The sweep applies customs' decision to orders still at customs this many seconds after it.
CUSTOMS_SWEEP_AFTER = 120
# The sweep applies the warehouse's step to orders still waiting on it this many seconds later.
WAREHOUSE_SWEEP_AFTER = 120


@shared_task(name="marketplace.expire_orders")
def expire_orders() -> int:
    """Celery beat, every minute: placed orders past their payment window become expired."""
    from .services import orders_expire

    return orders_expire()


@shared_task(name="marketplace.order_shipped", autoretry_for=(OperationalError,), retry_backoff=True, max_retries=10)
def order_shipped(reference: str, warehouse: str, tracking_numbers: list, status: str = "shipped") -> str | None:
    """The callback name stored in fulfilments requested before orders followed every step."""
    return fulfilment_changed(reference, warehouse, tracking_numbers, status)


@shared_task(name="marketplace.parcels_step", autoretry_for=(OperationalError,), retry_backoff=True, max_retries=10)
def parcels_step(order_ids: list, from_status: str) -> int:
    """One step of the parcel pipeline for ``order_ids`` still in ``from_status``, and with them the
    other orders whose step in that status is due (each shipment sends its own task: the first to
    run takes the others along, one batch; theirs find nothing left), then the next step's task
    with its delay. Run twice, it moves nothing more (and schedules nothing)."""
    from django.conf import settings

    from .tracking import TIMED, parcels_schedule, parcels_stuck
    from .tracking import parcels_step as step

    due = parcels_stuck(status=from_status, limit=settings.MARKETPLACE_TRACKING_SWEEP_BATCH, margin=0) if from_status in TIMED else []
    moved = 0
    for to_status, ids in step(order_ids=[*order_ids, *due], from_status=from_status).items():
        parcels_schedule(order_ids=ids, status=to_status)
        moved += len(ids)
    return moved


@shared_task(name="marketplace.parcels_sweep")
def parcels_sweep() -> int:
    """Celery beat, every minute: orders stuck in a tracking status longer than its delay plus a
    margin (their countdown was lost with a worker) move on, in batches of up to 500."""
    from .tracking import parcels_sweep as sweep

    return sweep()


@shared_task(name="orders.fulfilment_changed", autoretry_for=(OperationalError,), retry_backoff=True, max_retries=10,
             batch_form="orders.fulfilments_changed")
def fulfilment_changed(reference: str, warehouse: str, tracking_numbers: list, status: str = "shipped") -> str | None:
    """The warehouse picked, packed or shipped ``reference`` (warehouses.interface.FulfilmentEvent)."""
    from .services import order_fulfilment_changed

    order = order_fulfilment_changed(reference=reference, warehouse=warehouse, status=status,
                                     tracking_numbers=tracking_numbers)
    return order.status if order is not None else None


@shared_task(name="orders.fulfilments_changed", autoretry_for=(OperationalError,), retry_backoff=True, max_retries=10)
def fulfilments_changed(events: list) -> int:
    """The batch form of ``orders.fulfilment_changed``: ``events`` are its ``[args, kwargs]``, as
    warehouses sends them together (core.tasks.send_callbacks). Returns the orders moved."""
    from warehouses.interface import FulfilmentEvent

    from .services import orders_fulfilment_changed

    parsed = [FulfilmentEvent.from_task(*args, **kwargs) for args, kwargs in events]
    return len(orders_fulfilment_changed(events=[(e.reference, e.warehouse, e.status, e.tracking_numbers) for e in parsed]))


def declare_paid_later(order_ids) -> None:
    """After commit, one filing task for the payments of this transaction (core.tasks.enqueue_ids),
    unless one is queued already that has not read yet: it will find them (``DECLARE_PENDING``)."""
    from core.tasks import enqueue_ids

    enqueue_ids(declare_paid_parcels, order_ids, pending=DECLARE_PENDING, pending_ttl=DECLARE_PENDING_TTL)


@shared_task(name="orders.declare_paid_parcels", autoretry_for=(OperationalError,), retry_backoff=True, max_retries=10)
def declare_paid_parcels(order_ids: list) -> int:
    """File and submit the parcel declarations of paid orders sold from bond: ``order_ids`` (the
    payments that sent the task) and every other one paid and not declared yet, ``DECLARE_BATCH``
    per transaction (one batch through customs each). The "pending" marker is cleared first, so a
    payment committed after this task's read sends a new task. Returns the orders declared; a copy
    finds them declared and does nothing."""
    from core.tasks import pending_clear

    from .services import parcels_declare_pending

    pending_clear(DECLARE_PENDING)
    declared, more = parcels_declare_pending(order_ids=order_ids, batch=DECLARE_BATCH, max_batches=DECLARE_MAX_BATCHES)
    if more:  # orders paid faster than one task files them: the next task goes on (no transaction open here)
        declare_paid_parcels.apply_async(args=[[]])
    return len(declared)


@shared_task(name="orders.declare_parcel", autoretry_for=(OperationalError,), retry_backoff=True, max_retries=10)
def declare_parcel(order_id: int) -> bool:
    """The task a payment sent before payments were coalesced (messages still queued at a deploy):
    as ``orders.declare_paid_parcels`` for one order."""
    from .services import parcels_declare_pending

    declared, _more = parcels_declare_pending(order_ids=[order_id], batch=DECLARE_BATCH, max_batches=1)
    return order_id in declared


@shared_task(name="orders.declare_sweep")
def declare_sweep() -> int:
    """Celery beat, every minute: paid orders sold from bond still undeclared ``DECLARE_SWEEP_AFTER``
    seconds after payment (their task was lost, or skipped them while a filing that then failed
    held them) are filed, ``DECLARE_BATCH`` per transaction."""
    from datetime import timedelta

    from django.utils import timezone

    from .services import parcels_declare_pending

    before = timezone.now() - timedelta(seconds=DECLARE_SWEEP_AFTER)
    declared, _more = parcels_declare_pending(batch=DECLARE_BATCH, paid_before=before)
    return len(declared)


@shared_task(name="orders.declare_parcels", autoretry_for=(OperationalError,), retry_backoff=True, max_retries=10)
def declare_parcels(order_ids: list) -> int:
    """File the declarations of parcels that reached their border crossing, submitted together."""
    from .services import order_declare_batch

    return len(order_declare_batch(order_ids=order_ids))


@shared_task(name="orders.declaration_changed", autoretry_for=(OperationalError,), retry_backoff=True, max_retries=10,
             batch_form="orders.declarations_changed")
def declaration_changed(declaration_id: int, reference: str, status: str) -> str | None:
    """Customs' callback: a parcel declaration moved to ``status``."""
    from .services import order_customs_changed

    order = order_customs_changed(reference=reference, status=status)
    return order.status if order is not None else None


@shared_task(name="orders.declarations_changed", autoretry_for=(OperationalError,), retry_backoff=True, max_retries=10)
def declarations_changed(events: list) -> int:
    """The batch form of ``orders.declaration_changed``: ``events`` are its ``[args, kwargs]``, as
    customs sends them together (core.tasks.send_callbacks). Returns the orders moved."""
    from customs.interface import DeclarationEvent

    from .services import orders_customs_changed

    parsed = [DeclarationEvent.from_task(*args, **kwargs) for args, kwargs in events]
    return len(orders_customs_changed(changes=[(e.reference, e.status) for e in parsed]))


@shared_task(name="orders.return_rejected", autoretry_for=(OperationalError,), retry_backoff=True, max_retries=10)
def return_rejected(order_id: int) -> bool:
    """The task a refusal sent before refusals were coalesced (messages still queued at a deploy):
    as ``orders.return_rejected_batch`` for one order."""
    from .services import orders_return_rejected

    return order_id in orders_return_rejected(order_ids=[order_id])


@shared_task(name="orders.return_rejected_batch", autoretry_for=(OperationalError,), retry_backoff=True,
             max_retries=10)
def return_rejected_batch(order_ids: list) -> int:
    """After customs refused these parcels (one task for the refusals of one transaction): stock
    back and every buyer refunded in full, one transaction per order. Returns the orders returned;
    a copy finds them returned and does nothing."""
    from .services import orders_return_rejected

    return len(orders_return_rejected(order_ids=order_ids))


@shared_task(name="orders.rejected_sweep")
def rejected_sweep() -> int:
    """Celery beat, every minute: orders customs refused more than ``REJECTED_SWEEP_AFTER`` seconds ago
    and still not returned (their task was lost with a broker) are returned."""
    from .services import orders_return_rejected

    return len(orders_return_rejected(refused_for=REJECTED_SWEEP_AFTER))


@shared_task(name="orders.refund_return", autoretry_for=(OperationalError,), retry_backoff=True, max_retries=10)
def refund_return(return_id: int) -> bool:
    """Refund a received return (one balanced transaction); a second run finds it refunded."""
    from .returns import return_refund

    return return_refund(return_id=return_id)


@shared_task(name="orders.returns_auto_approve")
def returns_auto_approve() -> int:
    """Celery beat: returns left unanswered by the seller for three days are approved."""
    from .returns import returns_auto_approve as approve

    return approve()


@shared_task(name="orders.returns_sweep")
def returns_sweep() -> int:
    """Celery beat: received returns whose refund task was lost are refunded."""
    from .models import Return
    from .states import ReturnStatus

    pending = list(Return.objects.filter(status=ReturnStatus.RECEIVED).values_list("pk", flat=True)[:200])
    for pk in pending:
        refund_return.delay(pk)
    return len(pending)


@shared_task(name="orders.customs_sweep")
def customs_sweep() -> int:
    """Celery beat, every minute: orders at customs for more than ``CUSTOMS_SWEEP_AFTER`` seconds
    whose declaration customs has released or refused (the decision's callback was lost) move on as
    the callback would have moved them."""
    from .services import orders_customs_reconcile

    return len(orders_customs_reconcile(waited=CUSTOMS_SWEEP_AFTER))


@shared_task(name="orders.warehouse_sweep")
def warehouse_sweep() -> int:
    """Celery beat, every minute: orders waiting on their warehouse for more than
    ``WAREHOUSE_SWEEP_AFTER`` seconds whose fulfilment has gone further (the warehouse's callback was
    lost) follow it, as the callback would have made them."""
    from .services import orders_fulfilment_reconcile

    return len(orders_fulfilment_reconcile(waited=WAREHOUSE_SWEEP_AFTER))
