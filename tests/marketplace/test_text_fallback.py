"""A product's text falls back along a chain its reader can read: kk → ru → en, uz → ru → en,
zh → en; never to Chinese for a Kazakh or Uzbek reader when any readable text exists."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("language", "ru", "expected"), [
    ("kk", "Горный мёд", "Горный мёд"),   # Kazakh reader: Russian before the pavilion's Chinese
    ("uz", "Горный мёд", "Горный мёд"),   # Uzbek reader: the same
    ("kk", None, "Mountain honey"),       # no Russian: English, still not Chinese
    ("zh-hans", "Горный мёд", "高山蜂蜜"),
    ("en", "Горный мёд", "Mountain honey"),
])
def test_titles_on_the_pavilion_fall_back_to_a_language_the_reader_reads(client, kz_company, make_product,
                                                                         language, ru, expected):
    product = make_product(kz_company, title="Mountain honey", ru=ru, zh="高山蜂蜜")

    page = client.get(f"/p/{product.pk}/?storefront=kz", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    api = client.get("/api/v1/products/?storefront=kz", HTTP_ACCEPT_LANGUAGE=language).json()["results"]

    assert expected in page
    assert [row["title"] for row in api if row["id"] == product.pk] == [expected]
