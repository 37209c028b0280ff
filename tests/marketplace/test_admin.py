"""Staff in the admin: verifying companies and deciding storefront requests go through the services."""

import pytest

from core.access import SYSTEM_ACTOR
from core.models import Company, TransitionEvent
from marketplace.models import Listing, StorefrontMembership

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, make_user):
    client.force_login(make_user("boss", "staff", is_superuser=True))
    return client


def test_staff_approves_a_storefront_request_and_the_event_is_recorded(admin_client, make_company, make_product):
    company = make_company("KZ", storefronts=["kz"])
    product = make_product(company)
    from marketplace import services
    from marketplace.models import Storefront

    membership = company.storefront_memberships.get()
    services.storefront_membership_decide(membership=membership, to="suspended", actor=SYSTEM_ACTOR)
    assert not Listing.objects.get(product=product).is_visible
    response = admin_client.post("/admin/marketplace/storefrontmembership/", {
        "action": "move_to_approved", "_selected_action": [membership.pk]})
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.status == "approved" and Listing.objects.get(product=product).is_visible
    assert TransitionEvent.objects.filter(machine="storefront_membership", object_id=membership.pk,
                                          to_state="approved", actor_label="boss").exists()
    assert Storefront.objects.get(code="kz").listings.filter(is_visible=True).count() == 1


def test_unverifying_a_company_takes_its_products_off_sale(admin_client, make_company, make_product):
    company = make_company("KZ", storefronts=["kz"])
    product = make_product(company)
    admin_client.post("/admin/core/company/", {"action": "mark_pending", "_selected_action": [company.pk]})
    company.refresh_from_db()
    assert company.verification == "pending" and not Listing.objects.get(product=product).is_visible


def test_admin_refuses_a_bad_tax_id(admin_client, reference):
    response = admin_client.post("/admin/core/company/add/", {
        "name": "Bad BIN LLP", "country": "KZ", "tax_id": "123456789012",
        "members-TOTAL_FORMS": "0", "members-INITIAL_FORMS": "0",
        "storefront_memberships-TOTAL_FORMS": "0", "storefront_memberships-INITIAL_FORMS": "0"})
    assert response.status_code == 200 and "check digit" in response.content.decode()
    assert not Company.objects.filter(name="Bad BIN LLP").exists()


def test_storefront_membership_requires_staff(make_company, seller):
    from core.errors import DomainError
    from marketplace import services

    company = make_company("KZ", owner=seller)
    from marketplace.models import Storefront

    membership = services.storefront_join_request(company=company, storefront=Storefront.objects.get(code="kz"), actor=seller)
    with pytest.raises(DomainError) as exc:
        services.storefront_membership_decide(membership=membership, to="approved", actor=seller)
    assert exc.value.code == "transition_not_permitted"
    assert StorefrontMembership.objects.get(pk=membership.pk).status == "requested"
