"""Staff see a read-only ledger; reads cost a fixed number of queries."""

import pytest

from core.money import Money
from payments import selectors, services
from payments.interface import Owner
from payments.models import Entry, Payout

pytestmark = pytest.mark.django_db


def test_ledger_entries_cannot_be_edited_or_deleted_in_the_admin(client, staff, alice, fund):
    staff.is_superuser = True
    staff.save(update_fields=["is_superuser"])
    fund(Owner.user(alice), "10.00", "CNY")
    entry = Entry.objects.first()
    client.force_login(staff)
    assert client.get("/admin/payments/entry/").status_code == 200
    assert client.get(f"/admin/payments/transaction/{entry.txn_id}/change/").status_code == 200
    assert client.post(f"/admin/payments/entry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get("/admin/payments/entry/add/").status_code == 403
    assert Entry.objects.filter(pk=entry.pk).exists()


def test_staff_fail_a_payout_from_the_admin_and_the_money_returns(client, staff, seller_company, fund):
    staff.is_superuser = True
    staff.save(update_fields=["is_superuser"])
    user, company = seller_company
    owner = Owner.company(company.pk)
    fund(owner, "100.00", "KZT")
    payout = services.payout_request(owner=owner, amount=Money.of("40.00", "KZT"), actor=user)
    client.force_login(staff)
    client.post("/admin/payments/payout/", {"action": "mark_failed", "_selected_action": [payout.pk]})
    payout.refresh_from_db()
    assert payout.status == Payout.Status.FAILED
    assert selectors.balance(owner=owner, currency="KZT").available == Money.of("100.00", "KZT")


def test_balances_cost_three_queries_however_many_currencies(alice, fund, django_assert_num_queries):
    for currency in ("CNY", "KZT", "UZS", "USD"):
        fund(Owner.user(alice), "10.00", currency)
    with django_assert_num_queries(3):
        assert len(selectors.balances(owner=Owner.user(alice))) == 4


def test_statement_api_queries_do_not_grow_with_the_page(api_as, alice, fund, django_assert_num_queries):
    for _ in range(30):
        fund(Owner.user(alice), "1.00", "CNY")
    client = api_as(alice)
    client.get("/api/v1/wallets/CNY/statement/?page_size=5")  # warm the session and role caches
    with django_assert_num_queries(1) as small:  # force-authenticated: only the entries with their transactions
        client.get("/api/v1/wallets/CNY/statement/?page_size=5")
    with django_assert_num_queries(len(small.captured_queries)):
        assert len(client.get("/api/v1/wallets/CNY/statement/?page_size=25").json()["results"]) == 25
