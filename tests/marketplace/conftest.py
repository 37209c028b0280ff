"""Catalogue fixtures: verified companies admitted to their storefronts, products, photos."""

import io
import itertools

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from core.access import SYSTEM_ACTOR
from core.models import Company, CompanyMember
from core.money import Money
from core.taxids import cn_make, kz_make
from marketplace import services
from marketplace.models import Storefront, StorefrontMembership

_seq = itertools.count(1)


def kz_bin() -> str:
    while True:
        first11 = f"{next(_seq):011d}"
        value = kz_make(first11)
        if value:
            return value


def cn_uscc() -> str:
    return cn_make(f"9111000060{next(_seq):07d}")


@pytest.fixture(autouse=True)
def _eager_tasks(settings, tmp_path):
    """Thumbnails run inline and photos land in a scratch media directory."""
    from config.celery import app

    settings.MEDIA_ROOT = str(tmp_path / "media")
    # The Django-namespaced key wins over the plain one when both are set.
    app.conf.update(CELERY_TASK_ALWAYS_EAGER=True, task_always_eager=True)
    yield
    app.conf.update(CELERY_TASK_ALWAYS_EAGER=False, task_always_eager=False)


@pytest.fixture
def make_company(reference, make_user):
    def make(country="KZ", *, owner=None, storefronts=(), verified=True, name=None):
        tax_id = {"KZ": kz_bin, "CN": cn_uscc}.get(country, lambda: f"{next(_seq):09d}")()
        if country == "KG":
            tax_id = f"{next(_seq):014d}"
        company = Company.objects.create(
            name=name or f"{country} Trading {next(_seq)}", country_id=country, tax_id=tax_id,
            verification=Company.Verification.VERIFIED if verified else Company.Verification.PENDING,
        )
        if owner is not None:
            CompanyMember.objects.create(company=company, user=owner, role=CompanyMember.Role.OWNER)
        for code in storefronts:
            membership = services.storefront_join_request(company=company, storefront=Storefront.objects.get(code=code),
                                                          actor=SYSTEM_ACTOR)
            services.storefront_membership_decide(membership=membership, to=StorefrontMembership.Status.APPROVED,
                                                  actor=SYSTEM_ACTOR)
        return company

    return make


@pytest.fixture
def seller(make_user):
    return make_user("seller_a", "seller")


@pytest.fixture
def other_seller(make_user):
    return make_user("seller_b", "seller")


@pytest.fixture
def kz_company(make_company, seller):
    return make_company("KZ", owner=seller, storefronts=["kz"], name="Altyn Bal LLP")


@pytest.fixture
def make_product(reference):
    def make(company, *, sku=None, title="Mountain honey", ru=None, zh=None, description="", prices=None,
             category="honey", hs_code="040900", origin=None, status="active", weight=500):
        translations = {"en": {"title": title, "description": description}}
        if ru:
            translations["ru"] = {"title": ru, "description": ""}
        if zh:
            translations["zh"] = {"title": zh, "description": ""}
        if prices is None:
            code = "kz" if company.country_id == "KZ" else "cn-kz"
            prices = {code: Money.of("88.00", Storefront.objects.get(code=code).currency_id)}
        return services.product_create(
            company=company, actor=SYSTEM_ACTOR, sku_code=sku or f"SKU-{next(_seq)}", category=category,
            hs_code=hs_code, origin_country=origin or company.country_id, net_weight_g=weight,
            gross_weight_g=weight + 50, translations=translations, prices=prices, status=status,
        )

    return make


def image_bytes(fmt="JPEG", size=(320, 240), color=(200, 120, 40), **save_kwargs) -> bytes:
    out = io.BytesIO()
    mode = "RGBA" if fmt == "PNG" else "RGB"
    Image.new(mode, size, color).save(out, fmt, **save_kwargs)
    return out.getvalue()


def upload(data: bytes, name="photo.jpg", content_type="image/jpeg"):
    return SimpleUploadedFile(name, data, content_type=content_type)
