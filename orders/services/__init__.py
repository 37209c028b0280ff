"""Writes of orders, one module per stage:

- ``checkout``: the checks of a cart, the landed-cost quote before placing, placing, paying,
  cancelling and the expiry of unpaid orders;
- ``road``: after payment, the order following its warehouse and customs to delivery or return.

Returns after delivery are in :mod:`orders.returns`. Callers import from here.
"""

from .checkout import (
    DECLARATION_CALLBACK,
    FULFILMENT_CALLBACK,
    MAX_LINES,
    MAX_QUANTITY,
    PLAIN_MOVES,
    SHIP_TO_LIMITS,
    order_cancel,
    order_expire,
    order_id_of,
    order_pay,
    order_place,
    order_quote,
    orders_expire,
    shipping_for,
)
from .road import (
    FULFILMENT_STEPS,
    invoice_pdf,
    order_advance,
    order_customs_changed,
    order_declare,
    order_declare_batch,
    order_deliver,
    order_fulfilment_changed,
    order_return,
    order_ship_callback,
    orders_customs_changed,
    orders_customs_reconcile,
    orders_fulfilment_changed,
    orders_fulfilment_reconcile,
    orders_return_rejected,
    parcels_declare_pending,
    parcels_to_declare,
)

__all__ = [
    "DECLARATION_CALLBACK", "FULFILMENT_CALLBACK", "FULFILMENT_STEPS", "MAX_LINES", "MAX_QUANTITY", "PLAIN_MOVES",
    "SHIP_TO_LIMITS", "invoice_pdf", "order_advance", "order_cancel", "order_customs_changed", "order_declare", "order_declare_batch",
    "parcels_declare_pending", "parcels_to_declare",
    "order_deliver", "order_expire", "order_fulfilment_changed", "order_id_of", "order_pay", "order_place",
    "order_quote", "order_return", "order_ship_callback", "orders_customs_changed", "orders_customs_reconcile", "orders_expire", "orders_fulfilment_changed",
    "orders_fulfilment_reconcile",
    "orders_return_rejected", "shipping_for",
]
