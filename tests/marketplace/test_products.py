"""Products: what a seller can list, and what the catalogue refuses."""

import pytest

from core.access import SYSTEM_ACTOR
from core.errors import DomainError
from core.money import Money
from marketplace import services
from marketplace.models import Listing, Product, Storefront
from warehouses.models import Sku

pytestmark = pytest.mark.django_db


def test_a_product_gets_its_warehouse_sku_and_its_price_per_storefront(kz_company, make_product):
    product = make_product(kz_company, sku="HONEY-1", title="Mountain honey", ru="Горный мёд", zh="山花蜂蜜")
    sku = Sku.objects.get(company=kz_company, code="HONEY-1")
    assert product.sku_id == sku.pk
    assert (sku.hs_code, sku.origin_country_id, sku.weight_g, sku.name) == ("040900", "KZ", 550, "Mountain honey")
    listing = Listing.objects.get(product=product)
    assert (listing.storefront_id, listing.price_minor, listing.currency_id, listing.is_visible) == ("kz", 8800, "CNY", True)


def test_sku_is_unique_per_company_but_not_across_companies(kz_company, make_company, make_product):
    make_product(kz_company, sku="A-1")
    with pytest.raises(DomainError) as exc:
        make_product(kz_company, sku="A-1")
    assert exc.value.code == "duplicate_sku" and "sku_code" in exc.value.fields
    other = make_company("KZ", storefronts=["kz"])
    make_product(other, sku="A-1")
    assert Product.objects.filter(sku_code="A-1").count() == 2


@pytest.mark.parametrize(("hs_code", "ok"), [
    ("040900", True), ("0409000000", True), ("851713", True), ("04090", False), ("04090000001", False),
    ("04a900", False), ("999999", False),
])
def test_hs_code_is_checked_against_the_customs_reference(kz_company, make_product, hs_code, ok):
    if ok:
        assert make_product(kz_company, hs_code=hs_code).hs_code == hs_code
    else:
        with pytest.raises(DomainError) as exc:
            make_product(kz_company, hs_code=hs_code)
        assert exc.value.code == "invalid_hs_code" and "hs_code" in exc.value.fields
        assert not Product.objects.exists() and not Sku.objects.exists()


def test_price_must_be_in_the_storefront_currency(kz_company, make_product):
    with pytest.raises(DomainError) as exc:
        make_product(kz_company, prices={"kz": Money.of("10", "KZT")})
    assert exc.value.code == "currency_mismatch" and "prices.kz" in exc.value.fields
    assert not Product.objects.exists()


def test_a_company_cannot_price_on_a_storefront_it_has_not_joined(kz_company, make_product):
    with pytest.raises(DomainError) as exc:
        make_product(kz_company, prices={"cn-kz": Money.of("1000", "KZT")})
    assert exc.value.code == "storefront_not_allowed"


def test_an_unverified_company_cannot_publish(make_company, make_product):
    company = make_company("KZ", storefronts=["kz"], verified=False)
    with pytest.raises(DomainError) as exc:
        make_product(company)
    assert exc.value.code == "company_not_verified" and exc.value.status == 409
    draft = make_product(company, status="draft")
    assert draft.status == "draft" and not Listing.objects.get(product=draft).is_visible


def test_archiving_takes_the_product_off_sale_and_back(kz_company, make_product):
    product = make_product(kz_company)
    services.product_status_set(product=product, status="archived", actor=SYSTEM_ACTOR)
    assert not Listing.objects.get(product=product).is_visible
    services.product_status_set(product=product, status="active", actor=SYSTEM_ACTOR)
    assert Listing.objects.get(product=product).is_visible


def test_suspending_a_company_on_a_storefront_hides_its_listings(kz_company, make_product):
    product = make_product(kz_company)
    membership = kz_company.storefront_memberships.get(storefront_id="kz")
    services.storefront_membership_decide(membership=membership, to="suspended", actor=SYSTEM_ACTOR)
    assert not Listing.objects.get(product=product).is_visible


def test_gross_weight_below_net_is_refused(kz_company):
    with pytest.raises(DomainError) as exc:
        services.product_create(company=kz_company, actor=SYSTEM_ACTOR, sku_code="W", category="honey",
                                hs_code="040900", origin_country="KZ", net_weight_g=500, gross_weight_g=400,
                                translations={"en": {"title": "Honey"}})
    assert "gross_weight_g" in exc.value.fields


def test_update_changes_only_what_is_given(kz_company, make_product):
    product = make_product(kz_company, title="Honey", ru="Мёд")
    services.product_update(product=product, actor=SYSTEM_ACTOR, translations={"zh": {"title": "蜂蜜"}},
                            prices={"kz": Money.of("99.50", "CNY")}, gross_weight_g=900)
    product.refresh_from_db()
    assert dict(product.translations.values_list("language", "title")) == {"en": "Honey", "ru": "Мёд", "zh": "蜂蜜"}
    assert product.gross_weight_g == 900 and product.sku.weight_g == 900
    assert Listing.objects.get(product=product).price_minor == 9950
    assert Storefront.objects.get(code="kz").listings.count() == 1


def test_a_code_outside_the_reference_is_accepted_once_staff_enter_its_rate(kz_company, make_product):
    from datetime import date
    from decimal import Decimal

    from customs.models import TariffLine

    with pytest.raises(DomainError):
        make_product(kz_company, hs_code="8543709000")
    TariffLine.objects.create(hs_code="854370", country="CN", description="Electrical machines n.e.s.",
                              duty_percent=Decimal("8"), effective_from=date(2025, 1, 1))
    assert make_product(kz_company, hs_code="8543709000").hs_code == "8543709000"
