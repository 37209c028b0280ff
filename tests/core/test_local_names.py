"""Countries, places and storefronts in Kazakh and Uzbek too (from the project's own data), and a
name missing in a language falls back along the reader's chain (kk → ru → en, uz → ru → en)."""

import pytest

from core.models import Country, Place

pytestmark = pytest.mark.django_db


def test_names_come_in_all_five_languages(reference):
    kz = Country.objects.get(iso2="KZ")
    assert [kz.name(lang) for lang in ("en", "ru", "zh-hans", "kk", "uz")] == [
        "Kazakhstan", "Казахстан", "哈萨克斯坦", "Қазақстан", "Qozogʻiston"]
    crossing = Place.objects.get(code="BC-KHORGOS-ALTYNKOL")
    assert crossing.name("kk") == "Қорғас – Алтынкөл шекара өткелі"
    assert crossing.name("uz").startswith("Xorgos")


def test_a_missing_name_falls_back_along_the_readers_chain(reference):
    place = Place.objects.get(code="ALA")
    place.name_kk = place.name_uz = ""
    assert place.name("kk") == place.name_ru == place.name("uz")
    place.name_ru = ""
    assert place.name("kk") == place.name_en


def test_storefront_pages_name_the_storefront_in_kazakh_and_uzbek(client, reference):
    kk = client.get("/s/cn-kz/", HTTP_ACCEPT_LANGUAGE="kk").content.decode()
    uz = client.get("/s/cn-uz/", HTTP_ACCEPT_LANGUAGE="uz").content.decode()
    assert "Қазақстандағы қытай тауарлары" in kk and "China goods in Kazakhstan" not in kk
    assert "Oʻzbekistondagi Xitoy tovarlari" in uz and "China goods in Uzbekistan" not in uz
