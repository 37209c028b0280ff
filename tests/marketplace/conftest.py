"""Catalogue fixtures: the seller's company on the kz pavilion, products, photos (companies and
sellers: make_company and make_seller in tests/conftest.py)."""

import io
import itertools

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from core.access import SYSTEM_ACTOR
from core.money import Money
from marketplace import services
from marketplace.models import Storefront

_seq = itertools.count(1)


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
def seller(make_user):
    return make_user("seller_a", "seller")


@pytest.fixture
def other_seller(make_user):
    return make_user("seller_b", "seller")


@pytest.fixture
def kz_company(make_company, seller):
    """The seller's company on the kz pavilion (make_company: tests/conftest.py)."""
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
