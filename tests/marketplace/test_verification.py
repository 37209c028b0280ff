"""A company's verification under its machine (marketplace/states.py): every verdict is an event
that says who gave it, when and why, and only the declared moves exist."""

import pytest

from core.access import SYSTEM_ACTOR
from core.errors import DomainError
from core.models import Company, TransitionEvent
from core.states import history
from marketplace import services
from marketplace.models import Listing
from tests.conftest import tax_id_for

pytestmark = pytest.mark.django_db


def verification_events(company):
    return [(e.from_state, e.to_state, e.actor_label, e.reason) for e in history(company)
            if e.machine == "company_verification"]


def test_registering_records_who_registered_and_staff_verdict_records_who_when_and_why(reference, seller, staff):
    company = services.company_register(user=seller, name="Dala Foods LLP", country="KZ", tax_id=tax_id_for("KZ"),
                                        actor=seller)
    assert company.verification == "pending"

    services.company_verification_set(company=company, verification="verified", actor=staff, reason="Papers match")

    company.refresh_from_db()
    assert company.verification == "verified"
    assert verification_events(company) == [("", "pending", "seller_a", ""),
                                             ("pending", "verified", "staff_a", "Papers match")]
    event = TransitionEvent.objects.filter(machine="company_verification").last()
    assert event.actor == staff and event.at is not None


def test_a_rejection_needs_a_reason_and_is_never_turned_into_a_verification_directly(make_company, staff):
    company = make_company("KZ", verified=False)

    with pytest.raises(DomainError) as missing:
        services.company_verification_set(company=company, verification="rejected", actor=staff)
    assert missing.value.code == "validation_error" and list(missing.value.fields) == ["reason"]
    services.company_verification_set(company=company, verification="rejected", actor=staff, reason="Blurred scan")

    with pytest.raises(DomainError) as illegal:
        services.company_verification_set(company=company, verification="verified", actor=staff)
    assert illegal.value.code == "illegal_transition"
    services.company_verification_set(company=company, verification="pending", actor=staff, reason="New scan sent")
    services.company_verification_set(company=company, verification="verified", actor=staff)

    assert [(f, t) for f, t, _who, _why in verification_events(company)] == [
        ("pending", "rejected"), ("rejected", "pending"), ("pending", "verified")]
    assert Company.objects.get(pk=company.pk).verification == "verified"


def test_only_staff_or_the_system_verify(make_company, seller, make_user):
    company = make_company("KZ", verified=False)
    with pytest.raises(DomainError) as exc:
        services.company_verification_set(company=company, verification="verified", actor=seller)
    assert exc.value.code == "permission_denied"
    superuser = make_user("root", is_superuser=True)  # not is_staff: staff all the same (core.access.is_staff)
    services.company_verification_set(company=company, verification="verified", actor=superuser)
    services.company_verification_set(company=company, verification="rejected", actor=SYSTEM_ACTOR, reason="test")
    assert [who for _f, _t, who, _why in verification_events(company)] == ["root", "system"]


def test_the_same_verdict_twice_is_refused_and_changes_nothing(make_company, staff):
    company = make_company("KZ")
    with pytest.raises(DomainError) as exc:
        services.company_verification_set(company=company, verification="verified", actor=staff)
    assert exc.value.code == "illegal_transition"
    assert verification_events(company) == []


def test_admin_action_records_the_reason_and_the_change_page_shows_the_history(client, make_user, make_company,
                                                                                 make_product):
    company = make_company("KZ", storefronts=["kz"])
    product = make_product(company)
    client.force_login(make_user("boss", "staff", is_superuser=True))

    response = client.post("/admin/core/company/", {"action": "mark_rejected", "_selected_action": [company.pk],
                                                    "reason": "Licence expired"})

    assert response.status_code == 302
    company.refresh_from_db()
    assert company.verification == "rejected" and not Listing.objects.get(product=product).is_visible
    assert verification_events(company) == [("verified", "rejected", "boss", "Licence expired")]
    page = client.get(f"/admin/core/company/{company.pk}/change/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="verification-history"' in html and "Licence expired" in html and "boss" in html


def test_admin_rejection_without_a_reason_changes_nothing(client, make_user, make_company):
    company = make_company("KZ")
    client.force_login(make_user("boss", "staff", is_superuser=True))
    response = client.post("/admin/core/company/", {"action": "mark_rejected", "_selected_action": [company.pk]},
                           follow=True)
    assert response.status_code == 200
    assert Company.objects.get(pk=company.pk).verification == "verified"
    assert verification_events(company) == []


def test_the_seller_reads_why_its_company_was_rejected(client, make_company, seller, staff):
    company = make_company("KZ", owner=seller, verified=False)
    services.company_verification_set(company=company, verification="rejected", actor=staff,
                                      reason="The tax certificate is unreadable")
    client.force_login(seller)
    response = client.get("/seller/company/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "The tax certificate is unreadable" in response.content.decode()
