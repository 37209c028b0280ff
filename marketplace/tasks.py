"""Celery adapters of the marketplace: take ids, call one service, safe to run twice."""

from celery import shared_task
from django.db import OperationalError


@shared_task(name="marketplace.make_thumbnails", autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def make_thumbnails(image_id: int) -> dict:
    from .services import image_thumbnails_make

    return image_thumbnails_make(image_id=image_id)


@shared_task(name="marketplace.expire_orders")
def expire_orders() -> int:
    """Celery beat, every minute: placed orders past their payment window become expired."""
    from .orders import orders_expire

    return orders_expire()


@shared_task(name="marketplace.order_shipped", autoretry_for=(OperationalError,), retry_backoff=True, max_retries=10)
def order_shipped(reference: str, warehouse: str, tracking_numbers: list) -> str | None:
    """The warehouses' callback when a parcel of ``reference`` is handed to the carrier."""
    from .orders import order_ship_callback

    order = order_ship_callback(reference=reference, warehouse=warehouse, tracking_numbers=tracking_numbers)
    return order.status if order is not None else None
