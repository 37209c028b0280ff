"""The seller portal's import pages: upload, the import's page and its report, template and export
downloads (the XLSX explains each column in the reader's language), and nobody else's import."""

import io

import openpyxl
import pytest

from marketplace import services

from .test_imports import csv_file, honey

pytestmark = pytest.mark.django_db


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def test_upload_then_the_import_page_and_its_report(client, seller, kz_company, media):
    client.force_login(seller)
    page = client.get("/seller/imports/")
    assert page.status_code == 200 and b"import-form" in page.content
    response = client.post("/seller/imports/", {"company": kz_company.pk, "file": csv_file(honey(1), honey(2, price="x"))})
    assert response.status_code == 302
    imp = kz_company.catalogue_imports.get()
    assert response["Location"] == f"/seller/imports/{imp.pk}/"
    queued = client.get(response["Location"])
    assert b'hx-trigger="every 1s"' in queued.content and b'data-status="queued"' in queued.content
    services.catalogue_import_run(import_id=imp.pk)
    done = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="ru")
    text = done.content.decode()
    assert "hx-trigger" not in text and 'value="100"' in text
    assert "Введите цену в виде 12.50, в CNY." in text
    report = client.get(f"/seller/imports/{imp.pk}/errors.csv")
    assert report["Content-Type"].startswith("text/csv")
    assert report.content.decode("utf-8-sig").splitlines()[1].startswith("3,price_kz,")


def test_a_refused_upload_is_shown_on_the_form(client, seller, kz_company, media):
    client.force_login(seller)
    response = client.post("/seller/imports/", {"file": csv_file(honey(1), header="sku,colour")})
    assert response.status_code == 400
    assert "Columns missing from the first row" in response.content.decode()
    assert not kz_company.catalogue_imports.exists()


def test_template_xlsx_explains_every_column_in_the_readers_language(client, seller, kz_company):
    client.force_login(seller)
    response = client.get("/seller/imports/template.xlsx", HTTP_ACCEPT_LANGUAGE="ru")
    assert response.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
    catalogue, columns = workbook.worksheets
    header = next(catalogue.iter_rows(values_only=True))
    assert header[:3] == ("sku", "category", "hs_code") and "price_kz" in header and header[-1] == "image"
    explained = dict(columns.iter_rows(values_only=True))
    assert set(explained) == set(header)
    assert explained["net_weight_g"] == "Обязательно. Вес нетто в граммах, целое число."
    csv_template = client.get("/seller/imports/template.csv").content.decode("utf-8-sig")
    assert csv_template.splitlines()[0] == ",".join(header)


def test_the_export_has_the_products_and_nobody_sees_anothers_import(client, seller, kz_company, make_product,
                                                                      make_seller, media):
    make_product(kz_company, sku="EXP-1", title="Linden honey")
    client.force_login(seller)
    text = client.get("/seller/imports/export.csv").content.decode("utf-8-sig")
    assert "EXP-1,honey,040900,KZ,500,550,Linden honey" in text and ",88.00," in text
    imp = services.catalogue_import_create(company=kz_company, file=csv_file(honey(1)), actor=seller, run=False)
    client.force_login(make_seller("seller_other", "KZ"))
    assert client.get(f"/seller/imports/{imp.pk}/").status_code == 404
    assert client.get(f"/seller/imports/{imp.pk}/errors.csv").status_code == 404
    assert client.get("/seller/imports/export.txt").status_code == 404
