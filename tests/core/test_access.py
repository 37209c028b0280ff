"""One answer to "is this staff?" (core.access.is_staff): a superuser without the is_staff flag and
a staff user who is not a superuser get the same answer from every rule of every app."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from core.access import STAFF, SYSTEM_ACTOR, is_staff, roles_of, visible
from core.errors import DomainError
from core.models import Company, CompanyMember, TransitionEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_only(make_user):
    return make_user("staff_only", is_staff=True, is_superuser=False)


@pytest.fixture
def superuser_only(make_user):
    return make_user("superuser_only", is_staff=False, is_superuser=True)


def answers(user, company, other_company) -> dict:
    """What each app's rules say about ``user``, where a member of ``company`` would be told no."""
    from customs.access import declarations
    from customs.models import Declaration
    from marketplace import services as marketplace_services
    from marketplace.access import products_editable
    from marketplace.models import Product, StorefrontMembership
    from orders.access import orders_visible
    from orders.models import Order
    from payments import access as payments_access
    from payments.interface import Owner
    from payments.models import Account
    from warehouses.access import may_operate, skus_visible
    from warehouses.models import Sku

    def outcome(call) -> str:
        try:
            call()
        except DomainError as exc:
            return exc.code.value
        except Http404:
            return "not_found"
        return "ok"

    def sees_all(qs) -> bool:
        return not qs.query.where.children  # no filter at all (none() adds one that matches nothing)

    return {
        "core.is_staff": is_staff(user),
        "core.roles": STAFF in roles_of(user),
        "core.visible(Company)": visible(user, Company.objects.all()).count(),
        "core.visible(unscoped)": sees_all(visible(user, TransitionEvent.objects.all())),
        "states.membership": StorefrontMembership.machine.allows("requested", "approved", user),
        "marketplace.products_editable": sees_all(products_editable(user, Product.objects.all())),
        # Staff passes the permission check and stops at the bad value; anybody else is refused first.
        "marketplace.member_add": outcome(lambda: marketplace_services.company_member_add(
            company=other_company, user=user, role="bogus", actor=user)),
        "marketplace.verify": outcome(lambda: marketplace_services.company_verification_set(
            company=company, verification="bogus", actor=user)),
        "warehouses.may_operate": may_operate(user, "ALA-1"),
        "warehouses.skus_visible": sees_all(skus_visible(user, Sku.objects.all())),
        "customs.declarations": sees_all(declarations(user, Declaration.objects.all())),
        "orders.orders_visible": sees_all(orders_visible(user, Order.objects.all())),
        "payments.may_act_for": payments_access.may_act_for(user, Owner.company(other_company.pk)),
        "payments.owner_for": outcome(lambda: payments_access.owner_for(user, other_company.pk)),
        "payments.accounts_visible": sees_all(payments_access.accounts_visible(user, Account.objects.all())),
    }


def test_a_superuser_without_is_staff_and_a_staff_user_are_treated_alike_everywhere(
        make_company, staff_only, superuser_only):
    company, other = make_company("KZ"), make_company("KZ")

    staff_view = answers(staff_only, company, other)

    assert answers(superuser_only, company, other) == staff_view
    assert staff_view == {
        "core.is_staff": True, "core.roles": True, "core.visible(Company)": 2, "core.visible(unscoped)": True,
        "states.membership": True, "marketplace.products_editable": True, "marketplace.member_add": "validation_error",
        "marketplace.verify": "validation_error", "warehouses.may_operate": True, "warehouses.skus_visible": True,
        "customs.declarations": True, "orders.orders_visible": True, "payments.may_act_for": True,
        "payments.owner_for": "ok", "payments.accounts_visible": True,
    }


def test_a_company_member_is_not_staff(make_company, make_user):
    company, other = make_company("KZ"), make_company("KZ")
    member = make_user("member", "seller")
    CompanyMember.objects.create(company=company, user=member, role=CompanyMember.Role.OWNER)

    assert answers(member, company, other) == {
        "core.is_staff": False, "core.roles": False, "core.visible(Company)": 1, "core.visible(unscoped)": False,
        "states.membership": False, "marketplace.products_editable": False,
        "marketplace.member_add": "permission_denied", "marketplace.verify": "permission_denied",
        "warehouses.may_operate": False, "warehouses.skus_visible": False, "customs.declarations": False,
        "orders.orders_visible": False, "payments.may_act_for": False, "payments.owner_for": "not_found",
        "payments.accounts_visible": False,
    }


def test_never_anonymous_nor_the_system(db):
    assert not is_staff(None) and not is_staff(AnonymousUser()) and not is_staff(SYSTEM_ACTOR)
