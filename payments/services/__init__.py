"""Writes of the payments app, one module per concern:

- ``posting``: the posting engine every movement goes through, the argument checks, account keys;
- ``wallets``: top-ups, transfers (one or a batch), charges to the platform;
- ``escrow``: hold, release, refund, and the parcel's duties paid out of escrow;
- ``fx``: quotes, conversions, rates loaded from the provider;
- ``webhooks``: payment providers' signed events, and the demo's simulated top-up;
- ``payouts``: request, process, complete, fail;
- ``returns``: refunds of returns after delivery, and the sellers' debts they leave.

Callers import from here (``from payments import services``); the modules are an inner layout.
"""

from ..access import may_act_for  # moved to payments.access; re-exported for old imports
from .escrow import (
    escrow_hold,
    escrow_hold_request,
    escrow_pay_duty,
    escrow_pay_duty_batch,
    escrow_refund,
    escrow_release,
    escrow_release_batch,
)
from .fx import conversion_quote, fx_rates_load, spread, wallet_convert
from .payouts import payout_complete, payout_fail, payout_process, payout_request
from .posting import (
    PLATFORM_SHARDS,
    AccountKey,
    check_amount,
    check_wallet_currency,
    new_idempotency_key,
    platform,
    txn_info,
    wallet,
)
from .returns import debts_settle, return_refund
from .wallets import (
    CHARGE_ACCOUNTS,
    TransferRequest,
    wallet_charge,
    wallet_top_up,
    wallet_transfer,
    wallet_transfer_batch,
)
from .webhooks import wallet_top_up_simulate, webhook_receive

top_up = wallet_top_up  # old name, until callers move
transfer = wallet_transfer  # old name, until callers move
charge = wallet_charge  # old name, until callers move
transfer_batch = wallet_transfer_batch  # old name, until callers move
convert = wallet_convert  # old name, until callers move
simulate_top_up = wallet_top_up_simulate  # old name, until callers move
hold_in_escrow = escrow_hold  # old name, until callers move
release_escrow = escrow_release  # old name, until callers move
refund = escrow_refund  # old name, until callers move
request_payout = payout_request  # old name, until callers move
process_payout = payout_process  # old name, until callers move
complete_payout = payout_complete  # old name, until callers move
fail_payout = payout_fail  # old name, until callers move

__all__ = [
    "CHARGE_ACCOUNTS", "PLATFORM_SHARDS", "AccountKey", "TransferRequest", "check_amount", "check_wallet_currency",
    "conversion_quote", "escrow_hold", "escrow_hold_request", "escrow_pay_duty", "escrow_pay_duty_batch", "escrow_refund", "escrow_release",
    "escrow_release_batch", "fx_rates_load",
    "may_act_for", "new_idempotency_key", "payout_complete", "payout_fail", "payout_process", "payout_request",
    "platform", "spread", "txn_info", "wallet", "wallet_charge", "wallet_convert", "wallet_top_up",
    "wallet_top_up_simulate", "wallet_transfer", "wallet_transfer_batch", "webhook_receive", "return_refund",
    "debts_settle",
    # old names
    "charge", "complete_payout", "convert", "fail_payout", "hold_in_escrow", "process_payout", "refund",
    "release_escrow", "request_payout", "simulate_top_up", "top_up", "transfer", "transfer_batch",
]
