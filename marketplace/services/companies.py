"""marketplace services: companies."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from core.access import SYSTEM_ACTOR, company_ids, is_staff
from core.errors import DomainError, ErrorCode, field_error
from core.models import Company, CompanyMember, Country
from core.states import record_creation, transition
from core.taxids import validate_tax_id

from ..models import (
    Listing,
    Product,
    SellerCompany,
    Storefront,
    StorefrontMembership,
)
from .indexing import search_index

# --- companies --------------------------------------------------------------------------------


def _is_staff(actor) -> bool:
    """Staff (core.access.is_staff, superusers included) or the system."""
    return actor is SYSTEM_ACTOR or is_staff(actor)


def _require_member(actor, company_id: int) -> None:
    if _is_staff(actor):
        return
    if company_id not in company_ids(actor):
        # Existence of another company's objects is not disclosed.
        raise DomainError(ErrorCode.NOT_FOUND, _("Not found."))


def company_register(*, user, name: str, country: str, tax_id: str, actor) -> Company:
    """A new seller company with ``user`` as its owner, pending staff verification."""
    name = (name or "").strip()
    if not name:
        raise field_error("name", _("Enter the company's legal name."))
    if not Country.objects.filter(iso2=(country or "").upper()).exists():
        raise field_error("country", _("Unknown country."), ErrorCode.UNKNOWN_COUNTRY)
    checked = validate_tax_id(country, tax_id)
    if Company.objects.filter(country_id=checked.country, tax_id=checked.value).exists():
        raise DomainError(ErrorCode.CONFLICT, _("A company with this tax id is already registered."),
                          {"tax_id": [_("Already registered: ask its owner to add you as a manager.")]})
    with transaction.atomic():
        company = SellerCompany.objects.create(name=name, country_id=checked.country, tax_id=checked.value,
                                               needs_manual_check=checked.needs_manual_check)
        CompanyMember.objects.create(company=company, user=user, role=CompanyMember.Role.OWNER)
        # The first event of its verification history: who registered it, and when.
        record_creation(company, actor=actor)
    if hasattr(user, "_karavan_companies"):
        del user._karavan_companies
    return company


def company_member_add(*, company: Company, user, role: str, actor) -> CompanyMember:
    if not _is_staff(actor) and not CompanyMember.objects.filter(
        company=company, user=actor, role=CompanyMember.Role.OWNER
    ).exists():
        raise DomainError(ErrorCode.PERMISSION_DENIED, _("Only the company's owner may add members."))
    if role not in CompanyMember.Role.values:
        raise field_error("role", _("Unknown role."))
    member, _created = CompanyMember.objects.update_or_create(company=company, user=user, defaults={"role": role})
    return member


def company_verification_set(*, company: Company, verification: str, actor, reason: str = "") -> Company:
    """Staff's verdict on a company's papers, recorded with who gave it, when and why (the
    ``company_verification`` machine of marketplace/states.py). A rejection says why: the seller
    reads it on its company page. A company no longer verified disappears from sale."""
    if not _is_staff(actor):
        raise DomainError(ErrorCode.PERMISSION_DENIED, _("Only staff verify companies."))
    if verification not in Company.Verification.values:
        raise field_error("verification", _("Unknown verification status."))
    reason = (reason or "").strip()
    if verification == Company.Verification.REJECTED and not reason:
        raise field_error("reason", _("Say why the company is rejected: its owner will read it."))
    with transaction.atomic():
        transition(SellerCompany.of(company), verification, actor=actor, reason=reason)
        company.refresh_from_db(fields=["verification"])
        listings_refresh(company_id=company.pk)
    return company


# --- storefront membership --------------------------------------------------------------------


def storefront_admits(storefront: Storefront, company: Company) -> bool:
    """A pavilion admits companies of its country; a China-goods storefront, Chinese companies."""
    return storefront.seller_country_id == company.country_id


def storefront_join_request(*, company: Company, storefront: Storefront, actor, note: str = "") -> StorefrontMembership:
    _require_member(actor, company.pk)
    if not storefront_admits(storefront, company):
        message = _("%(storefront)s admits only companies registered in %(country)s.") % {
            "storefront": storefront.name_en, "country": storefront.seller_country_id}
        raise DomainError(ErrorCode.STOREFRONT_NOT_ALLOWED, message, {"storefront": [message]})
    membership = StorefrontMembership.objects.filter(company=company, storefront=storefront).first()
    if membership is None:
        return StorefrontMembership.objects.create(
            company=company, storefront=storefront, note=note, requested_at=timezone.now(),
            requested_by=actor if getattr(actor, "pk", None) else None,
        )
    if membership.status == StorefrontMembership.Status.REJECTED:
        transition(membership, StorefrontMembership.Status.REQUESTED, actor=actor, reason=note,
                   extra_updates={"requested_at": timezone.now(), "note": note})
    return membership


def storefront_membership_decide(*, membership: StorefrontMembership, to: str, actor, reason: str = "") -> StorefrontMembership:
    """Staff approves, rejects or suspends; the company's listings there follow."""
    transition(membership, to, actor=actor, reason=reason, extra_updates={"decided_at": timezone.now()})
    listings_refresh(company_id=membership.company_id, storefront_id=membership.storefront_id)
    return membership


def listings_refresh(*, company_id: int | None = None, product_id: int | None = None,
                     storefront_id: str | None = None, product_ids: list[int] | None = None,
                     reindex: bool = True) -> int:
    """Recompute ``Listing.is_visible``: product active, listing on, company verified and admitted.

    The products whose visibility changed get their search tokens rebuilt: the tokens carry the
    storefronts a product is on sale on (``reindex=False``: the caller rebuilds them itself)."""
    qs = Listing.objects.all()
    if company_id is not None:
        qs = qs.filter(product__company_id=company_id)
    if product_id is not None:
        qs = qs.filter(product_id=product_id)
    if product_ids is not None:
        qs = qs.filter(product_id__in=product_ids)
    if storefront_id is not None:
        qs = qs.filter(storefront_id=storefront_id)
    admitted = StorefrontMembership.objects.filter(
        company_id=OuterRef("product__company_id"), storefront_id=OuterRef("storefront_id"),
        status=StorefrontMembership.Status.APPROVED,
    )
    rule = {"is_enabled": True, "product__status": Product.Status.ACTIVE,
            "product__company__verification": Company.Verification.VERIFIED}
    if product_ids is not None:
        # A known set of products (a chunk of an import): one read of their listings and the rule
        # per row, instead of the set queries below, which a planner without statistics on fresh
        # rows turns into a scan per listing.
        rows = qs.annotate(admitted=Exists(admitted)).values_list(
            "pk", "product_id", "is_visible", "admitted", *rule)
        hide_pks, show_pks, products = [], [], set()
        for pk, product, is_visible, is_admitted, *facts in rows:
            should = bool(is_admitted) and tuple(facts) == tuple(rule.values())
            if should != is_visible:
                (show_pks if should else hide_pks).append(pk)
                products.add(product)
    else:
        visible = qs.filter(Exists(admitted), **rule).values("pk")
        hide = qs.filter(is_visible=True).exclude(pk__in=visible)
        show = qs.filter(is_visible=False, pk__in=visible)
        products = set(hide.values_list("product_id", flat=True)) | set(show.values_list("product_id", flat=True))
        if products:
            hide_pks, show_pks = list(hide.values_list("pk", flat=True)), list(show.values_list("pk", flat=True))
    if not products:
        return 0
    changed = Listing.objects.filter(pk__in=hide_pks).update(is_visible=False)
    changed += Listing.objects.filter(pk__in=show_pks).update(is_visible=True)
    if not reindex:
        return changed
    ids = sorted(products)
    for start in range(0, len(ids), 500):
        search_index(product_ids=ids[start:start + 500])
    return changed
