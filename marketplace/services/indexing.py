"""marketplace services: the search index of products."""


from __future__ import annotations

from django.db import connection

from .. import search
from ..models import (
    Listing,
    ProductSearch,
    ProductTranslation,
    SearchTerm,
)

# --- search index -----------------------------------------------------------------------------


def search_index(*, product_ids: list[int]) -> None:
    """Rebuild what search reads of these products: tokens of their translations and the
    storefronts they are listed on (and the lexicon of words typo correction draws on)."""
    texts: dict[int, tuple[list[str], list[str], list[str]]] = {pk: ([], [], []) for pk in product_ids}
    for pk, title, description in ProductTranslation.objects.filter(product_id__in=product_ids).values_list(
        "product_id", "title", "description"
    ):
        texts[pk][0].append(title)
        texts[pk][1].append(description)
    # Only where the product is on sale: a search on a storefront then needs nothing but the index.
    for pk, code in Listing.objects.filter(product_id__in=product_ids, is_visible=True).values_list(
        "product_id", "storefront_id"
    ):
        texts[pk][2].append(search.storefront_token(code))
    words: set[str] = set()
    documents = {}
    for pk, (titles, bodies, storefronts) in texts.items():
        title_tokens, body_tokens = search.document(titles, bodies)
        documents[pk] = (title_tokens, body_tokens, " ".join(sorted(storefronts)))
        words |= search.lexicon_words(title_tokens) | search.lexicon_words(body_tokens)
    if search.is_postgres():
        _write_vectors(documents)
    else:
        for pk, (title_tokens, body_tokens, sf_tokens) in documents.items():
            text = f"{title_tokens}\n{body_tokens}\n{sf_tokens}"
            if not ProductSearch.objects.filter(product_id=pk).update(text=text):
                ProductSearch.objects.create(product_id=pk, text=text)
    if words:
        SearchTerm.objects.bulk_create([SearchTerm(word=w[:64]) for w in words], ignore_conflicts=True)


def _write_vectors(documents: dict[int, tuple[str, str, str]]) -> None:
    """PostgreSQL searches the vector alone (the text left empty halves the rows a search reads):
    the vectors of many products in one UPDATE, as ``search.vector_expression`` builds each (titles
    weight A, descriptions B, storefronts D)."""
    if not documents:
        return
    ProductSearch.objects.bulk_create([ProductSearch(product_id=pk, text="") for pk in documents], ignore_conflicts=True)
    table = ProductSearch._meta.db_table
    for start in range(0, len(documents), 1000):
        batch = list(documents.items())[start:start + 1000]
        rows = ", ".join(["(%s::bigint, %s::text, %s::text, %s::text)"] * len(batch))
        params = [value for pk, doc in batch for value in (pk, *doc)]
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} AS s SET text = '', vector = "  # noqa: S608 - the table name is ours, values are parameters
                "setweight(to_tsvector('simple'::regconfig, COALESCE(v.a, '')), 'A') || "
                "setweight(to_tsvector('simple'::regconfig, COALESCE(v.b, '')), 'B') || "
                "setweight(to_tsvector('simple'::regconfig, COALESCE(v.c, '')), 'D') "
                f"FROM (VALUES {rows}) AS v(id, a, b, c) WHERE s.product_id = v.id", params)
