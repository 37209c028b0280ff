import pytest

from core.access import SYSTEM_ACTOR
from core.money import Money
from payments import services
from payments.interface import Owner


@pytest.fixture
def currencies(db):
    """Currencies (the accounts' foreign key) and the reference FX rates, without the other apps' data."""
    from core import reference as core_reference
    from payments import reference as payments_reference

    core_reference.load()
    payments_reference.load()


@pytest.fixture
def fund(currencies):
    """fund(owner, "100.00", "CNY"): a simulator top-up, as the provider's webhook would book it."""
    counter = iter(range(1, 10**9))

    def top_up(owner: Owner, amount: str, currency: str):
        return services.wallet_top_up(owner=owner, amount=Money.of(amount, currency), provider="simulator",
                                      provider_event_id=f"test-{next(counter)}", actor=SYSTEM_ACTOR)

    return top_up


@pytest.fixture
def alice(make_user):
    return make_user("alice", "buyer")


@pytest.fixture
def bob(make_user):
    return make_user("bob", "buyer")


@pytest.fixture
def seller_company(make_seller, currencies):
    """A seller user and the company it owns (make_seller: tests/conftest.py)."""
    user = make_seller("seller_kz", "KZ", name="Altyn Bal LLP")
    return user, user.company
