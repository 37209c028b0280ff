"""Photos: only real, whole, reasonable JPEG/PNG/WebP files get in, cleaned; nothing else leaves a trace."""

import io
import os
import struct
import zlib

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from marketplace.models import ProductImage
from tests.conftest import wait_for

from .conftest import image_bytes, upload

pytestmark = pytest.mark.django_db


def stored_files(settings):
    root = settings.MEDIA_ROOT
    return sorted(os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs)


def post(client, product, data, name="photo.jpg", content_type="image/jpeg"):
    return client.post(f"/api/v1/products/{product.pk}/images/", {"image": upload(data, name, content_type)},
                       format="multipart")


def test_upload_is_re_encoded_without_exif_and_gets_thumbnails(api_as, seller, kz_company, make_product, settings,
                                                                django_capture_on_commit_callbacks):
    product = make_product(kz_company)
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    data = image_bytes("JPEG", size=(1200, 900), exif=exif.tobytes())
    with django_capture_on_commit_callbacks(execute=True):
        response = post(api_as(seller), product, data)
    assert response.status_code == 201, response.content
    image = ProductImage.objects.get(product=product)
    # turned upright by its orientation tag, then written anew as WebP with no metadata
    assert (image.width, image.height) == (900, 1200)
    with default_storage.open(image.file) as fh:
        stored = Image.open(fh)
        assert stored.format == "WEBP" and not stored.getexif() and "exif" not in stored.info
    assert set(image.thumbnails) == {"160", "320", "800"}
    with default_storage.open(image.thumbnails["320"]) as fh:
        assert Image.open(fh).width == 320
    product.refresh_from_db()
    assert product.cover_id == image.pk


def test_photo_is_served_with_long_cache_headers(api_as, client, seller, kz_company, make_product,
                                                   django_capture_on_commit_callbacks):
    product = make_product(kz_company)
    with django_capture_on_commit_callbacks(execute=True):
        post(api_as(seller), product, image_bytes("PNG"))
    url = ProductImage.objects.get().url(160)
    assert url.endswith("_160.webp")
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/webp"
    assert "immutable" in response["Cache-Control"] and "max-age=31536000" in response["Cache-Control"]
    assert client.get(url, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
    assert client.get("/img/products/1/../../secret.webp").status_code == 404


def _png_with_huge_header(width, height) -> bytes:
    def chunk(kind, payload):
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 100)) + chunk(b"IEND", b"")


def _gif():
    out = io.BytesIO()
    Image.new("RGB", (100, 100)).save(out, "GIF")
    return out.getvalue()


@pytest.mark.parametrize(("data", "name", "says"), [
    (b"%PDF-1.4 not an image at all", "photo.jpg", "not a JPEG, PNG or WebP"),
    (_gif(), "photo.png", "not a JPEG, PNG or WebP"),
    (b"", "empty.jpg", "empty"),
    (image_bytes("JPEG", size=(800, 600))[:2000], "truncated.jpg", "damaged or incomplete"),
    (_png_with_huge_header(20_000, 20_000), "bomb.png", "too many pixels"),
    (image_bytes("PNG", size=(20, 20)), "tiny.png", "too small"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "photo.webp", "not a JPEG, PNG or WebP"),
], ids=["pdf", "gif", "empty", "truncated", "bomb", "tiny", "svg"])
def test_bad_uploads_get_a_400_and_leave_nothing(api_as, seller, kz_company, make_product, settings, data, name, says):
    product = make_product(kz_company)
    before = stored_files(settings) if os.path.exists(settings.MEDIA_ROOT) else []
    response = post(api_as(seller), product, data, name)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid_image" and says in error["message"] and "image" in error["fields"]
    assert not ProductImage.objects.exists()
    after = stored_files(settings) if os.path.exists(settings.MEDIA_ROOT) else []
    assert after == before


def test_oversized_upload_is_refused(api_as, seller, kz_company, make_product, settings):
    settings.MARKETPLACE_IMAGE_MAX_BYTES = 50_000
    product = make_product(kz_company)
    noisy = Image.effect_noise((600, 600), 100).convert("RGB")
    out = io.BytesIO()
    noisy.save(out, "PNG")
    response = post(api_as(seller), product, out.getvalue(), "big.png", "image/png")
    assert response.status_code == 400 and "larger than" in response.json()["error"]["message"]
    assert not ProductImage.objects.exists()


def test_missing_file_field_is_a_clear_400(api_as, seller, kz_company, make_product):
    product = make_product(kz_company)
    response = api_as(seller).post(f"/api/v1/products/{product.pk}/images/", {}, format="multipart")
    assert response.status_code == 400 and "image" in response.json()["error"]["fields"]


def test_thumbnail_task_twice_changes_nothing_more(api_as, seller, kz_company, make_product, settings,
                                                    django_capture_on_commit_callbacks):
    from marketplace.services import image_thumbnails_make

    product = make_product(kz_company)
    with django_capture_on_commit_callbacks(execute=True):
        post(api_as(seller), product, image_bytes("JPEG", size=(1000, 1000)))
    image = ProductImage.objects.get()
    files = stored_files(settings)
    assert image_thumbnails_make(image_id=image.pk) == image.thumbnails
    assert stored_files(settings) == files


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_thumbnails_are_made_by_a_real_worker(celery_worker, api_as, seller, kz_company, make_product, settings):
    """The upload answers at once; a Celery worker on Redis adds the thumbnails after commit."""
    from config.celery import app

    app.conf.update(CELERY_TASK_ALWAYS_EAGER=False, task_always_eager=False)
    product = make_product(kz_company)
    response = post(api_as(seller), product, image_bytes("JPEG", size=(900, 900)))
    assert response.status_code == 201
    image_id = response.json()["id"]
    thumbnails = wait_for(lambda: ProductImage.objects.get(pk=image_id).thumbnails)
    assert set(thumbnails) == {"160", "320", "800"}
    assert all(default_storage.exists(name) for name in thumbnails.values())
