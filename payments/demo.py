"""Demo wallets, topped up through the simulator provider like a real top-up. Idempotent."""

from core.access import SYSTEM_ACTOR
from core.money import Money

from .interface import Owner
from .services import wallet_top_up

# Generous enough that every journey (several orders, duties, conversions) can be tried.
DEMO_TOP_UPS = {
    "buyer_cn": [Money.of("50000.00", "CNY")],
    "buyer_uz": [Money.of("100000000.00", "UZS")],
    "buyer_kz": [Money.of("3000000.00", "KZT")],
}


def seed(out, users, **context) -> dict:
    for username, amounts in DEMO_TOP_UPS.items():
        user = users.get(username)
        if user is None:
            continue
        for amount in amounts:
            # A fixed event id per wallet and currency: a re-run finds the top-up and books nothing.
            info = wallet_top_up(owner=Owner.user(user), amount=amount, provider="simulator",
                                 provider_event_id=f"demo-{username}-{amount.currency}", actor=SYSTEM_ACTOR)
            if info.booked:
                out.write(f"payments: topped up {username} with {amount}\n")
    return {}
