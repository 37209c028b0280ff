from django.db.models import Q

from core.access import STAFF, company_ids, has_role, is_staff, public, scope
from core.models import CompanyMember

from .models import CatalogueImport, Listing, Product, ProductImage, Storefront, StorefrontMembership


@scope(Storefront)
@public
def storefronts_visible(user, qs):
    return qs.filter(is_active=True)


@scope(Product)
@public
def products_visible(user, qs):
    """Anyone sees what is on sale; a seller also sees every product of its own companies."""
    on_sale = Q(status=Product.Status.ACTIVE, listings__is_visible=True)
    if user is None:
        return qs.filter(pk__in=Product.objects.filter(on_sale).values("pk"))
    if has_role(user, STAFF):
        return qs
    return qs.filter(Q(pk__in=Product.objects.filter(on_sale).values("pk")) | Q(company_id__in=company_ids(user)))


@scope(Listing)
@public
def listings_visible(user, qs):
    if user is not None and has_role(user, STAFF):
        return qs
    mine = company_ids(user) if user is not None else frozenset()
    return qs.filter(Q(is_visible=True) | Q(product__company_id__in=mine))


@scope(ProductImage)
@public
def images_visible(user, qs):
    return qs.filter(product__in=products_visible(user, Product.objects.all()))


@scope(CompanyMember)
def members_visible(user, qs):
    if has_role(user, STAFF):
        return qs
    return qs.filter(company_id__in=company_ids(user))


@scope(StorefrontMembership)
def memberships_visible(user, qs):
    if has_role(user, STAFF):
        return qs
    return qs.filter(company_id__in=company_ids(user))


def products_editable(user, qs):
    """The products ``user`` may change: those of their companies (staff: all)."""
    if is_staff(user):
        return qs
    return qs.filter(company_id__in=company_ids(user))


@scope(CatalogueImport)
def imports_visible(user, qs):
    """A seller sees the imports of its companies (staff: all)."""
    if has_role(user, STAFF):
        return qs
    return qs.filter(company_id__in=company_ids(user))
