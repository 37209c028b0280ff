"""Customs writes and computations, one module per concern:

- ``quotes``: landed-cost quotes, and the per-buyer allowances that span orders;
- ``declarations``: declarations, their clearance through the gateway, duties and the broker's actions;
- ``documents``: documents attached to declarations, and who may act on them.

Nothing here knows about orders: checkout and consignments call these functions with plain data and a
reference of their own. Callers import from here (``from customs import services``).
"""

from ..selectors import info  # a declaration as plain data (a read; kept here for old callers)
from .declarations import (
    book_duty_payment,
    declaration_act,
    declaration_create,
    declaration_pay,
    declaration_submit,
    gateway_poll,
    gateway_register,
)
from .documents import document_upload, may_act, sees_payer
from .quotes import CHANNELS, allowance_record, allowance_release, allowance_restore, quote

__all__ = [
    "CHANNELS",
    "info",
    "allowance_record",
    "allowance_release",
    "allowance_restore",
    "book_duty_payment",
    "declaration_act",
    "declaration_create",
    "declaration_pay",
    "declaration_submit",
    "document_upload",
    "gateway_poll",
    "gateway_register",
    "may_act",
    "quote",
    "sees_payer",
]
