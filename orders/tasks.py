"""Celery adapters of orders: take ids, call one service, safe to run twice.

The task names keep the ``marketplace.`` prefix they had before orders became an app of their own:
warehouses store ``marketplace.order_shipped`` in fulfilment rows, and the beat schedule in the
database names the others.
"""

from celery import shared_task
from django.db import OperationalError


@shared_task(name="marketplace.expire_orders")
def expire_orders() -> int:
    """Celery beat, every minute: placed orders past their payment window become expired."""
    from .services import orders_expire

    return orders_expire()


@shared_task(name="marketplace.order_shipped", autoretry_for=(OperationalError,), retry_backoff=True, max_retries=10)
def order_shipped(reference: str, warehouse: str, tracking_numbers: list) -> str | None:
    """The warehouses' callback when a parcel of ``reference`` is handed to the carrier."""
    from .services import order_ship_callback

    order = order_ship_callback(reference=reference, warehouse=warehouse, tracking_numbers=tracking_numbers)
    return order.status if order is not None else None


@shared_task(name="marketplace.parcels_step", autoretry_for=(OperationalError,), retry_backoff=True, max_retries=10)
def parcels_step(order_ids: list, from_status: str) -> int:
    """One step of the parcel pipeline for ``order_ids`` still in ``from_status``, then the next
    step's task with its delay. Run twice, it moves nothing more (and schedules nothing)."""
    from .tracking import parcels_schedule
    from .tracking import parcels_step as step

    moved = 0
    for to_status, ids in step(order_ids=order_ids, from_status=from_status).items():
        parcels_schedule(order_ids=ids, status=to_status)
        moved += len(ids)
    return moved


@shared_task(name="marketplace.parcels_sweep")
def parcels_sweep() -> int:
    """Celery beat, every minute: orders stuck in a tracking status longer than its delay plus a
    margin (their countdown was lost with a worker) move on, in batches of up to 500."""
    from .tracking import parcels_sweep as sweep

    return sweep()
