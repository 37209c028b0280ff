"""marketplace services: images."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.translation import gettext as _

from core.errors import DomainError, ErrorCode, field_error
from core.tasks import enqueue

from .. import images
from ..models import (
    Product,
    ProductImage,
)
from .companies import _require_member

# --- photos -----------------------------------------------------------------------------------


def photo_prepare(upload, *, field: str = "image") -> images.Encoded:
    """Check and clean one uploaded photo (size, format, pixels), without storing anything. A refusal
    names the file when it is one of several (``field`` other than ``image``)."""
    try:
        return images.normalize(images.read_upload(upload))
    except DomainError as exc:
        if field == "image":
            raise
        message = _("%(file)s: %(error)s") % {"file": getattr(upload, "name", "?"), "error": exc.message}
        raise field_error(field, message, ErrorCode.INVALID_IMAGE) from None


def _photo_store(product: Product, encoded: images.Encoded, *, alt: str = "", position: int) -> ProductImage:
    """Save the file and its row (inside the caller's transaction). The caller deletes ``image.file``
    from storage if its transaction fails."""
    name = default_storage.save(f"products/{product.pk}/{uuid.uuid4().hex}.webp", ContentFile(encoded.data))
    try:
        return ProductImage.objects.create(
            product=product, file=name, width=encoded.width, height=encoded.height,
            size_bytes=len(encoded.data), position=position, alt=(alt or "")[:200],
        )
    except BaseException:
        default_storage.delete(name)
        raise


def product_photos_add(*, product: Product, uploads: list, actor, cover: int | None = None) -> list[ProductImage]:
    """Several photos at once (the editor's multi-upload): every file is checked before any is stored,
    so one refused file stores none. ``cover`` is the index of the upload to make the cover."""
    _require_member(actor, product.company_id)
    uploads = [u for u in uploads if u]
    existing = ProductImage.objects.filter(product=product).count()
    limit = settings.MARKETPLACE_IMAGES_PER_PRODUCT
    if existing + len(uploads) > limit:
        raise field_error("photos", _("A product has at most %(n)s photos.") % {"n": limit}, ErrorCode.INVALID_IMAGE)
    prepared = [photo_prepare(upload, field="photos") for upload in uploads]
    stored: list[ProductImage] = []
    try:
        with transaction.atomic():
            for i, encoded in enumerate(prepared):
                stored.append(_photo_store(product, encoded, position=existing + i))
            if stored and (product.cover_id is None or cover is not None):
                chosen = stored[cover] if cover is not None and 0 <= cover < len(stored) else stored[0]
                Product.objects.filter(pk=product.pk).update(cover=chosen)
                product.cover = chosen
    except BaseException:
        for image in stored:
            default_storage.delete(image.file)
        raise
    from ..tasks import make_thumbnails

    for image in stored:
        enqueue(make_thumbnails, image.pk)
    return stored


def product_image_add(*, product: Product, upload, actor, alt: str = "") -> ProductImage:
    """Check, clean and store a photo; thumbnails follow from Celery. A refused upload leaves
    no file and no row."""
    _require_member(actor, product.company_id)
    if ProductImage.objects.filter(product=product).count() >= settings.MARKETPLACE_IMAGES_PER_PRODUCT:
        raise field_error("image", _("A product has at most %(n)s photos.") % {"n": settings.MARKETPLACE_IMAGES_PER_PRODUCT},
                          ErrorCode.INVALID_IMAGE)
    encoded = photo_prepare(upload)
    image = None
    try:
        with transaction.atomic():
            position = ProductImage.objects.filter(product=product).count()
            image = _photo_store(product, encoded, alt=alt, position=position)
            if product.cover_id is None:
                Product.objects.filter(pk=product.pk, cover__isnull=True).update(cover=image)
                product.cover = image
    except BaseException:
        if image is not None:
            default_storage.delete(image.file)
        raise
    from ..tasks import make_thumbnails

    enqueue(make_thumbnails, image.pk)
    return image


def product_photos_arrange(*, product: Product, order: list[int], cover: int | None, actor) -> None:
    """Put the product's photos in ``order`` (photo ids, first shown first; photos not named keep
    their turn after them) and make ``cover`` the cover photo."""
    _require_member(actor, product.company_id)
    with transaction.atomic():
        product = Product.objects.select_for_update().get(pk=product.pk)
        photos = {image.pk: image for image in ProductImage.objects.filter(product=product).order_by("position", "id")}
        try:
            named = [int(pk) for pk in order]
            cover_id = int(cover) if cover not in (None, "") else None
        except (TypeError, ValueError):
            raise field_error("photos", _("Unknown photo.")) from None
        if any(pk not in photos for pk in named) or (cover_id is not None and cover_id not in photos):
            raise field_error("photos", _("Unknown photo."))
        ranked = list(dict.fromkeys(named)) + [pk for pk in photos if pk not in named]
        changed = []
        for position, pk in enumerate(ranked):
            if photos[pk].position != position:
                photos[pk].position = position
                changed.append(photos[pk])
        ProductImage.objects.bulk_update(changed, ["position"])
        if cover_id is not None and cover_id != product.cover_id:
            product.cover_id = cover_id
            product.save(update_fields=["cover"])


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
