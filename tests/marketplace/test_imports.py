"""Catalogue import: a seller's CSV or XLSX file (and a ZIP of photos) becomes products, through the
API with a real Celery worker and through manage.py import_catalogue; every refused cell is reported
with its row and column, valid rows go in, and the same file twice changes nothing more."""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from core.models import TransitionEvent
from marketplace.models import Listing, Product, ProductImage, ProductTranslation
from tests.conftest import wait_for

from .conftest import image_bytes

HEADER = ("sku,category,hs_code,origin_country,net_weight_g,gross_weight_g,title_en,title_ru,title_zh,"
          "description_en,price_kz,image")


def csv_file(*rows, header=HEADER, name="catalogue.csv", bom=False, encoding="utf-8") -> SimpleUploadedFile:
    text = "\r\n".join([header, *rows]) + "\r\n"
    data = ("\ufeff" if bom else "") + text
    return SimpleUploadedFile(name, data.encode(encoding), content_type="text/csv")


def honey(n: int, price="39.90", image="", title=None) -> str:
    return (f"HNY-{n:03d},honey,040900,KZ,250,310,{title or f'Buckwheat honey {n}'},Гречишный мёд {n},荞麦蜂蜜 {n},"
            f"Dark honey,{price},{image}")


def zip_file(entries: dict[str, bytes], name="photos.zip") -> SimpleUploadedFile:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry, data in entries.items():
            archive.writestr(entry, data)
    return SimpleUploadedFile(name, out.getvalue(), content_type="application/zip")


def xlsx_file(rows: list[list], name="catalogue.xlsx") -> SimpleUploadedFile:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return SimpleUploadedFile(name, out.getvalue(),
                              content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def upload(client, file, images=None, **extra):
    data = {"file": file, **extra}
    if images is not None:
        data["images"] = images
    return client.post("/api/v1/imports/", data, format="multipart")


def finished(client, pk):
    def state():
        body = client.get(f"/api/v1/imports/{pk}/").json()
        return body if body["status"] in ("done", "failed") else None

    return wait_for(state, timeout=60)


def snapshot(company):
    """Everything an import may write for a company, to compare two runs."""
    products = list(Product.objects.filter(company=company).order_by("sku_code").values(
        "pk", "sku_code", "status", "hs_code", "net_weight_g", "gross_weight_g", "category_id", "cover_id", "updated_at"))
    return {
        "products": products,
        "texts": list(ProductTranslation.objects.filter(product__company=company).order_by("pk").values()),
        "listings": list(Listing.objects.filter(product__company=company).order_by("pk").values()),
        "images": list(ProductImage.objects.filter(product__company=company).order_by("pk").values("pk", "file")),
        "events": TransitionEvent.objects.filter(machine="product").count(),
    }


# --- with a real worker, through the API ----------------------------------------------------------

worker = pytest.mark.django_db(transaction=True)
pytestmark = pytest.mark.django_db


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def live_worker(_eager_tasks, celery_worker, media):
    """A real worker: the marketplace conftest's eager mode is turned off for these tests."""
    from config.celery import app

    app.conf.update(CELERY_TASK_ALWAYS_EAGER=False, task_always_eager=False)
    return celery_worker


@worker
def test_a_clean_csv_becomes_products_on_sale(api_as, seller, kz_company, live_worker):
    client = api_as(seller)
    response = upload(client, csv_file(*[honey(n) for n in range(1, 13)]))
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "queued" and body["rows_total"] == 12 and body["rows_done"] == 0
    result = finished(client, body["id"])
    assert result["status"] == "done", result
    assert (result["rows_done"], result["rows_failed"], result["products_created"]) == (12, 0, 12)
    assert result["progress"]["percent"] == 100
    product = Product.objects.get(company=kz_company, sku_code="HNY-007")
    assert product.status == "active" and product.gross_weight_g == 310
    assert dict(product.translations.values_list("language", "title")) == {
        "en": "Buckwheat honey 7", "ru": "Гречишный мёд 7", "zh": "荞麦蜂蜜 7"}
    listing = product.listings.get()
    assert (listing.storefront_id, listing.price_minor, listing.currency_id, listing.is_visible) == ("kz", 3990, "CNY", True)
    # On the storefront, found by search.
    found = client.get("/api/v1/products/", {"storefront": "kz", "q": "buckwheat"}).json()
    assert {p["sku"] for p in found["results"]} >= {"HNY-001", "HNY-007"}
    assert client.get("/api/v1/imports/").json()["results"][0]["id"] == body["id"]


@worker
def test_broken_rows_are_reported_cell_by_cell_and_the_valid_rows_go_in(api_as, seller, kz_company, live_worker):
    client = api_as(seller)
    rows = [
        honey(1),
        "HNY-002,honey,999999,KZ,250,310,Bad code,,,,39.90,",  # unknown HS chapter
        "HNY-003,nonsense,040900,XX,-5,310,Everything wrong,,,,abc,",
        "HNY-004,honey,040900,KZ,300,200,Lighter gross,,,,39.90,",
        "HNY-005,honey,040900,KZ,250,310,,,,,39.90,",  # no title at all
        "HNY-006,honey,040900,KZ,250,310,Too dear,,,,99999999999.00,",
        honey(1, title="Duplicate"),
        honey(8),
    ]
    response = upload(client, csv_file(*rows))
    assert response.status_code == 202, response.content
    result = finished(client, response.json()["id"])
    assert result["status"] == "done"
    assert (result["rows_done"], result["rows_failed"]) == (2, 6)
    errors = client.get(f"/api/v1/imports/{result['id']}/errors/").json()
    cells = {(e["row"], e["column"]) for e in errors}
    assert cells == {
        (3, "hs_code"),
        (4, "category"), (4, "origin_country"), (4, "net_weight_g"), (4, "price_kz"),
        (5, "gross_weight_g"),
        (6, "title_en"),
        (7, "price_kz"),
        (8, "sku"),
    }
    by_cell = {(e["row"], e["column"]): e["message"] for e in errors}
    assert "row 2" in by_cell[(8, "sku")]
    assert "known chapter" in by_cell[(3, "hs_code")]
    assert set(Product.objects.filter(company=kz_company).values_list("sku_code", flat=True)) == {"HNY-001", "HNY-008"}
    # The report as CSV, in the reader's language.
    report = client.get(f"/api/v1/imports/{result['id']}/errors/?format=csv", HTTP_ACCEPT_LANGUAGE="ru")
    assert report.status_code == 200 and report["Content-Type"].startswith("text/csv")
    text = report.content.decode("utf-8-sig")
    assert text.splitlines()[0] == "row,column,message"
    assert "Неизвестная категория" in text or "категори" in text.lower()


@worker
def test_the_same_file_twice_changes_nothing_more(api_as, seller, kz_company, live_worker):
    client = api_as(seller)
    rows = [honey(n, image=f"jar-{n}.png") for n in range(1, 6)]
    photos = {f"jar-{n}.png": image_bytes("PNG", size=(400, 300), color=(n * 40, 90, 20)) for n in range(1, 6)}
    first = finished(client, upload(client, csv_file(*rows), zip_file(photos)).json()["id"])
    assert first["status"] == "done" and first["products_created"] == 5
    before = snapshot(kz_company)
    assert len(before["images"]) == 5
    assert all(p["cover_id"] for p in before["products"])
    second = finished(client, upload(client, csv_file(*rows), zip_file(photos)).json()["id"])
    assert second["status"] == "done"
    assert (second["rows_done"], second["products_created"], second["products_updated"]) == (5, 0, 0)
    assert snapshot(kz_company) == before


@worker
def test_an_xlsx_file_with_photos(api_as, seller, kz_company, live_worker):
    client = api_as(seller)
    header = HEADER.split(",")
    rows = [header,
            ["APR-1", "dried-fruit-nuts", 81310, "KZ", 500, 520, "Dried apricots", "Курага", "杏干", "Sweet", 25.5, "a/apricot.jpg"],
            ["APR-2", "dried-fruit-nuts", "081310", "KZ", 1000, 1040.0, "Dried apricots 1 kg", "", "", "", "49", ""]]
    response = upload(client, xlsx_file(rows), zip_file({"a/apricot.jpg": image_bytes("JPEG", size=(1000, 800))}))
    assert response.status_code == 202, response.content
    result = finished(client, response.json()["id"])
    assert (result["status"], result["rows_done"], result["rows_failed"]) == ("done", 2, 0), result
    apricot = Product.objects.get(sku_code="APR-1")
    assert apricot.hs_code == "081310"  # the leading zero a spreadsheet dropped is back
    assert apricot.listings.get().price_minor == 2550
    image = apricot.cover
    assert (image.width, image.height) == (1000, 800)
    assert set(image.thumbnails) == {"160", "320", "800"} and image.thumbnails["800"] != image.file
    assert Product.objects.get(sku_code="APR-2").gross_weight_g == 1040


@worker
def test_another_sellers_import_is_not_found(api_as, seller, kz_company, make_seller, live_worker):
    client = api_as(seller)
    pk = upload(client, csv_file(honey(1))).json()["id"]
    finished(client, pk)
    stranger = make_seller("seller_other", "KZ", storefronts=["kz"])
    other = api_as(stranger)
    for path in (f"/api/v1/imports/{pk}/", f"/api/v1/imports/{pk}/errors/", f"/api/v1/imports/{pk}/errors/?format=csv"):
        assert other.get(path).status_code == 404, path
    assert other.get("/api/v1/imports/").json()["results"] == []


@worker
def test_export_edit_import_round_trips(api_as, seller, kz_company, live_worker):
    client = api_as(seller)
    finished(client, upload(client, csv_file(*[honey(n) for n in range(1, 4)])).json()["id"])
    for kind in ("csv", "xlsx"):
        exported = client.get("/api/v1/imports/export/", {"format": kind})
        assert exported.status_code == 200, exported.content
        again = finished(client, upload(client, SimpleUploadedFile(f"catalogue.{kind}", exported.content)).json()["id"])
        assert (again["status"], again["rows_done"], again["products_updated"], again["products_created"]) == ("done", 3, 0, 0)
    # Edit one price in the exported CSV, import it back: that product alone changes.
    text = client.get("/api/v1/imports/export/", {"format": "csv"}).content.decode("utf-8-sig")
    edited = text.replace("39.90", "42.00", 1)
    result = finished(client, upload(client, SimpleUploadedFile("edited.csv", edited.encode())).json()["id"])
    assert (result["rows_done"], result["products_updated"]) == (3, 1)
    assert Listing.objects.get(product__sku_code="HNY-001").price_minor == 4200


def test_the_command_imports_a_file_and_prints_progress(kz_company, tmp_path, media):
    from core.models import Company

    path = tmp_path / "catalogue.csv"
    path.write_bytes(csv_file(*[honey(n) for n in range(1, 5)], "HNY-009,honey,12,KZ,250,310,Bad,,,,1,").read())
    out = io.StringIO()
    call_command("import_catalogue", str(path), "--company", Company.objects.get(pk=kz_company.pk).tax_id, stdout=out)
    printed = out.getvalue()
    assert "100 %" in printed and "done: 4 rows imported (4 new, 0 updated), 1 refused" in printed
    assert "row 6 hs_code" in printed
    assert Product.objects.filter(company=kz_company).count() == 4


def test_a_chunk_run_twice_writes_its_rows_once(seller, kz_company, media, settings, django_capture_on_commit_callbacks):
    from marketplace import services

    settings.MARKETPLACE_IMPORT_CHUNK_ROWS = 2
    imp = services.catalogue_import_create(company=kz_company, file=csv_file(*[honey(n) for n in range(1, 6)]),
                                           actor=seller, run=False)
    assert services.catalogue_import_start(import_id=imp.pk, send_chunks=False) == [0, 1, 2]
    assert services.catalogue_import_start(import_id=imp.pk, send_chunks=False) == [0, 1, 2]  # a duplicate start
    assert services.catalogue_import_chunk(import_id=imp.pk, index=1) is True
    before = snapshot(kz_company)
    assert len(before["products"]) == 2
    assert services.catalogue_import_chunk(import_id=imp.pk, index=1) is False  # the same message again
    assert snapshot(kz_company) == before
    imp.refresh_from_db()
    assert (imp.status, imp.rows_done, imp.chunks_done) == ("running", 2, 1)
    # A worker that died before committing chunk 0 left nothing: its task, run again, writes it.
    assert services.catalogue_import_start(import_id=imp.pk, send_chunks=False) == [0, 2]
    for index in (0, 2):
        services.catalogue_import_chunk(import_id=imp.pk, index=index)
    imp.refresh_from_db()
    assert (imp.status, imp.rows_done, imp.rows_failed) == ("done", 5, 0)
    assert Product.objects.filter(company=kz_company).count() == 5
    assert services.catalogue_import_chunk(import_id=imp.pk, index=0) is False


def test_error_report_comes_in_the_readers_language(api_as, seller, kz_company, media):
    from marketplace import services

    imp = services.catalogue_import_create(company=kz_company, file=csv_file(honey(1, price="abc")), actor=seller,
                                           run=False)
    services.catalogue_import_run(import_id=imp.pk)
    client = api_as(seller)
    english = client.get(f"/api/v1/imports/{imp.pk}/errors/", HTTP_ACCEPT_LANGUAGE="en").json()
    chinese = client.get(f"/api/v1/imports/{imp.pk}/errors/", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert english[0]["column"] == chinese[0]["column"] == "price_kz"
    assert "12.50" in english[0]["message"] and "CNY" in english[0]["message"]
    assert chinese[0]["message"] != english[0]["message"]


@worker
def test_two_imports_of_one_company_at_once_do_not_corrupt_each_other(seller, kz_company, media, settings):
    """Both files name the same SKUs: whichever chunk writes second updates what the first created."""
    import threading

    from django.db import connection

    from marketplace import services

    settings.MARKETPLACE_IMPORT_CHUNK_ROWS = 5
    imports = [services.catalogue_import_create(company=kz_company, actor=seller, run=False,
                                                file=csv_file(*[honey(n, price=price) for n in range(1, 21)]))
               for price in ("10.00", "20.00")]
    # One thread per import, each writing its chunks in the same order: the same SKUs at the same time.
    jobs = [[(imp.pk, index) for index in services.catalogue_import_start(import_id=imp.pk, send_chunks=False)]
            for imp in imports]
    failures = []

    def run(mine):
        try:
            for pk, index in mine:
                services.catalogue_import_chunk(import_id=pk, index=index)
        except Exception as exc:  # noqa: BLE001 - reported below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(mine,)) for mine in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    for imp in imports:
        imp.refresh_from_db()
        assert (imp.status, imp.rows_done, imp.rows_failed) == ("done", 20, 0)
    assert Product.objects.filter(company=kz_company).count() == 20
    assert Listing.objects.filter(product__company=kz_company).count() == 20
    assert ProductTranslation.objects.filter(product__company=kz_company).count() == 60
    assert sum(imp.products_created for imp in imports) == 20
