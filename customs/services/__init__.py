"""Customs writes and computations, one module per concern:

- ``quotes``: landed-cost quotes, and the per-buyer allowances that span orders;
- ``declarations``: declarations, their clearance through the gateway, duties and the broker's actions;
- ``gateway_steps``: the gateway's steps on many declarations at once (the authority asked with no
  transaction open, the answers recorded set-based), and the duties paid per batch;
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
    declarations_create,
    gateway_poll,
    gateway_register,
)
from .documents import document_upload, may_act, sees_payer
from .gateway_steps import declaration_pay_batch, declaration_submit_batch, gateway_poll_batch, gateway_register_batch
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
    "declaration_pay_batch",
    "declaration_submit",
    "declaration_submit_batch",
    "declarations_create",
    "document_upload",
    "gateway_poll",
    "gateway_poll_batch",
    "gateway_register",
    "gateway_register_batch",
    "may_act",
    "quote",
    "sees_payer",
]
