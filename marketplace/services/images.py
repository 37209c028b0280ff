"""marketplace services: images."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.translation import gettext as _

from core.errors import ErrorCode, field_error
from core.tasks import enqueue

from .. import images
from ..models import (
    Product,
    ProductImage,
)
from .companies import _require_member

# --- photos -----------------------------------------------------------------------------------


def product_image_add(*, product: Product, upload, actor, alt: str = "") -> ProductImage:
    """Check, clean and store a photo; thumbnails follow from Celery. A refused upload leaves
    no file and no row."""
    _require_member(actor, product.company_id)
    if ProductImage.objects.filter(product=product).count() >= settings.MARKETPLACE_IMAGES_PER_PRODUCT:
        raise field_error("image", _("A product has at most %(n)s photos.") % {"n": settings.MARKETPLACE_IMAGES_PER_PRODUCT},
                          ErrorCode.INVALID_IMAGE)
    encoded = images.normalize(images.read_upload(upload))
    name = default_storage.save(f"products/{product.pk}/{uuid.uuid4().hex}.webp", ContentFile(encoded.data))
    try:
        with transaction.atomic():
            position = ProductImage.objects.filter(product=product).count()
            image = ProductImage.objects.create(
                product=product, file=name, width=encoded.width, height=encoded.height,
                size_bytes=len(encoded.data), position=position, alt=(alt or "")[:200],
            )
            if product.cover_id is None:
                Product.objects.filter(pk=product.pk, cover__isnull=True).update(cover=image)
                product.cover = image
    except BaseException:
        default_storage.delete(name)
        raise
    from ..tasks import make_thumbnails

    enqueue(make_thumbnails, image.pk)
    return image


def product_image_delete(*, image: ProductImage, actor) -> None:
    _require_member(actor, image.product.company_id)
    names = [image.file, *image.thumbnails.values()]
    product_id = image.product_id
    with transaction.atomic():
        image.delete()
        product = Product.objects.select_for_update().get(pk=product_id)
        if product.cover_id is None:
            first = ProductImage.objects.filter(product_id=product_id).order_by("position", "id").first()
            if first:
                product.cover = first
                product.save(update_fields=["cover"])
        transaction.on_commit(lambda: [default_storage.delete(n) for n in names])


def image_thumbnails_make(*, image_id: int) -> dict:
    """Make the missing thumbnails of a photo. Safe to run twice: existing ones are kept."""
    image = ProductImage.objects.filter(pk=image_id).first()
    if image is None:  # deleted meanwhile
        return {}
    with default_storage.open(image.file, "rb") as fh:
        data = fh.read()
    made = dict(image.thumbnails)
    stem = image.file.rsplit(".", 1)[0]
    for width in settings.MARKETPLACE_THUMBNAIL_SIZES:
        if str(width) in made and default_storage.exists(made[str(width)]):
            continue
        if width >= image.width:
            made[str(width)] = image.file  # never upscale: the original is already small enough
            continue
        name = f"{stem}_{width}.webp"
        if not default_storage.exists(name):
            default_storage.save(name, ContentFile(images.thumbnail(data, width)))
        made[str(width)] = name
    ProductImage.objects.filter(pk=image.pk).update(thumbnails=made)
    return made
