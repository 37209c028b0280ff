"""Writes of the payments app, one module per concern (being split out of ``posting``)."""

from core.money import Money  # noqa: F401 - callers read services.Money

from .posting import (
    CHARGE_ACCOUNTS,
    PLATFORM_SHARDS,
    AccountKey,
    TransferRequest,
    charge,
    check_amount,
    check_wallet_currency,
    complete_payout,
    conversion_quote,
    convert,
    escrow_pay_duty,
    fail_payout,
    fx_rates_load,
    hold_in_escrow,
    may_act_for,
    new_idempotency_key,
    platform,
    process_payout,
    refund,
    release_escrow,
    request_payout,
    simulate_top_up,
    spread,
    top_up,
    transfer,
    transfer_batch,
    txn_info,
    wallet,
    webhook_receive,
)

__all__ = [
    "CHARGE_ACCOUNTS", "PLATFORM_SHARDS", "AccountKey", "TransferRequest", "charge", "check_amount",
    "check_wallet_currency", "complete_payout", "conversion_quote", "convert", "escrow_pay_duty", "fail_payout",
    "fx_rates_load", "hold_in_escrow", "may_act_for", "new_idempotency_key", "platform", "process_payout", "refund",
    "release_escrow", "request_payout", "simulate_top_up", "spread", "top_up", "transfer", "transfer_batch",
    "txn_info", "wallet", "webhook_receive",
]
