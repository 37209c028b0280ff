"""Search: words of titles and descriptions in English, Russian and Chinese, typos forgiven, best first."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(kz_company, make_product):
    make_product(kz_company, title="Mountain honey", ru="Горный мёд", zh="山花蜂蜜",
                 description="Raw wildflower honey from the Tian Shan foothills.")
    make_product(kz_company, title="Dried apricots", ru="Курага", zh="杏干", category="dried-fruit-nuts",
                 hs_code="081310", description="Sun-dried apricots; pairs well with honey.")
    make_product(kz_company, title="Felt slippers", ru="Войлочные тапочки", zh="羊毛毡拖鞋", category="wool-felt",
                 hs_code="560221", description="Hand-made from sheep wool.")


def found(api, q, language="en"):
    response = api.get("/api/v1/products/", {"storefront": "kz", "q": q}, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200, response.content
    return [p["title"] for p in response.json()["results"]]


@pytest.mark.parametrize(("q", "language", "first"), [
    ("honey", "en", "Mountain honey"),
    ("мёд", "ru", "Горный мёд"),
    ("мед", "ru", "Горный мёд"),          # ё typed as е
    ("蜂蜜", "zh-hans", "山花蜂蜜"),        # a word inside a Chinese title without spaces
    ("杏", "zh-hans", "杏干"),              # a single character
    ("羊毛", "zh-hans", "羊毛毡拖鞋"),
    ("wool slippers", "en", "Felt slippers"),  # title and description words together
])
def test_finds_words_in_each_language(api, catalogue, q, language, first):
    assert found(api, q, language)[0] == first


def test_title_match_ranks_above_a_description_mention(api, catalogue):
    assert found(api, "honey") == ["Mountain honey", "Dried apricots"]


@pytest.mark.parametrize(("q", "title"), [("hony", "Mountain honey"), ("apricotts", "Dried apricots"),
                                          ("тапочкм", "Felt slippers")])
def test_a_typo_in_latin_or_cyrillic_is_forgiven(api, catalogue, q, title):
    assert title in found(api, q)


def test_prefix_of_a_word_finds_it(api, catalogue):
    assert found(api, "apric") == ["Dried apricots"]


def test_nothing_matches_nonsense_and_chinese_pairs_must_all_be_present(api, catalogue):
    assert found(api, "xylophone") == []
    assert found(api, "蜂鞋") == []


def test_search_is_scoped_to_the_storefront_and_filters(api, catalogue, make_company, make_product):
    cn = make_company("CN", storefronts=["cn-kz"])
    make_product(cn, title="Honey dispenser", category="kitchen", hs_code="732393")
    assert "Honey dispenser" not in found(api, "honey")
    response = api.get("/api/v1/products/", {"storefront": "kz", "q": "honey", "category": "honey"})
    assert [p["title"] for p in response.json()["results"]] == ["Mountain honey"]


def test_search_query_count_is_constant(api, catalogue, kz_company, make_product, django_assert_max_num_queries):
    for i in range(8):
        make_product(kz_company, title=f"Linden honey {i}")
    # The answers are checked too: a refused request would run few queries whatever the page size.
    with django_assert_max_num_queries(7) as few:
        small = api.get("/api/v1/products/", {"storefront": "kz", "q": "hony", "page_size": 2})
    with django_assert_max_num_queries(7) as many:
        large = api.get("/api/v1/products/", {"storefront": "kz", "q": "hony", "page_size": 20})
    assert small.status_code == large.status_code == 200, (small.content, large.content)
    assert len(small.json()["results"]) == 2 and len(large.json()["results"]) == 10  # 8 linden + 2 catalogue
    assert len(few.captured_queries) == len(many.captured_queries)


def test_an_archived_product_leaves_the_search_results_and_comes_back(api, catalogue, kz_company):
    from core.access import SYSTEM_ACTOR
    from marketplace import services
    from marketplace.models import Product

    honey = Product.objects.get(translations__title="Mountain honey")
    services.product_status_set(product=honey, status="archived", actor=SYSTEM_ACTOR)
    assert "Mountain honey" not in found(api, "honey")
    services.product_status_set(product=honey, status="active", actor=SYSTEM_ACTOR)
    assert found(api, "honey")[0] == "Mountain honey"


def test_a_filtered_search_still_ranks(api, catalogue):
    response = api.get("/api/v1/products/", {"storefront": "kz", "q": "honey", "category": "food"})
    assert [p["title"] for p in response.json()["results"]] == ["Mountain honey", "Dried apricots"]


def test_a_prefix_finds_the_same_products_spelt_out_as_words_or_not(api, catalogue, monkeypatch):
    """On PostgreSQL a prefix is matched as the known words it begins (search._widen: GIN then
    intersects posting lists instead of a bitmap of every row of the prefix); with more words
    than PREFIX_WORDS it stays a prefix. The products found are the same either way."""
    from marketplace import search

    spelt = [found(api, q) for q in ("apric", "hon", "wool slip", "мёд")]
    assert spelt[0] == ["Dried apricots"] and spelt[1] == ["Mountain honey", "Dried apricots"]
    monkeypatch.setattr(search, "PREFIX_WORDS", 0)
    assert [found(api, q) for q in ("apric", "hon", "wool slip", "мёд")] == spelt
