"""marketplace services: the search index of products."""


from __future__ import annotations

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
    for pk, (titles, bodies, storefronts) in texts.items():
        title_tokens, body_tokens = search.document(titles, bodies)
        sf_tokens = " ".join(sorted(storefronts))
        values = {"text": f"{title_tokens}\n{body_tokens}\n{sf_tokens}"}
        if search.is_postgres():
            # PostgreSQL searches the vector alone; leaving the text out halves the rows the
            # search has to read.
            values = {"text": "", "vector": search.vector_expression(title_tokens, body_tokens, sf_tokens)}
        if not ProductSearch.objects.filter(product_id=pk).update(**values):
            ProductSearch.objects.create(product_id=pk, text=values["text"])
            if "vector" in values:
                ProductSearch.objects.filter(product_id=pk).update(vector=values["vector"])
        words |= search.lexicon_words(title_tokens) | search.lexicon_words(body_tokens)
    if words:
        SearchTerm.objects.bulk_create([SearchTerm(word=w[:64]) for w in words], ignore_conflicts=True)
