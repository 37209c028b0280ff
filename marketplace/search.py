"""Product search in English, Russian and Chinese, behind one small interface.

Chinese is written without spaces, so a word cannot be cut out by whitespace: every run of Han
characters is indexed as its overlapping character pairs (bigrams) plus its last character, and a
query "蜂蜜罐" looks for the pairs "蜂蜜" and "蜜罐" (a two-character word is one pair). A single
character is looked up by prefix: every character of a run starts a pair or ends the run, so
"杏":* finds it without indexing each character on its own (which would double the index). Latin and Cyrillic words are lower-cased, "ё" folded to "е", and
matched by prefix; a misspelt word ("hony", "мдё") is widened to the nearest known words by
trigram similarity over a lexicon of indexed words (:class:`SearchTerm`).

On PostgreSQL the tokens are stored as a weighted ``tsvector`` (titles weigh more than
descriptions) under a GIN index, ranked with ``ts_rank``. On SQLite (the demo) the same tokens are
matched with LIKE over ``ProductSearch.text``, newest first: good enough for a few hundred products.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import F, IntegerField, Q, QuerySet, Value
from django.db.models.functions import Cast

_HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_WORD = re.compile(rf"[{_HAN}]+|[^\W_{_HAN}]+", re.UNICODE)
_IS_HAN = re.compile(rf"[{_HAN}]")
# Longer queries are cut: nobody types 12 words into a shop's search box, and each adds a term.
MAX_TERMS = 8
# Words shorter than this are matched exactly: "a:*" would match half the catalogue.
MIN_PREFIX = 3
TYPO_MIN_LENGTH = 4
TYPO_SIMILARITY = 0.3  # pg_trgm's own default threshold for %
TYPO_CANDIDATES = 3


def normalize(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").lower().replace("ё", "е")


def han_tokens(run: str) -> list[str]:
    """Index tokens of a run of Han characters: each adjacent pair, and the last character."""
    return [run[i:i + 2] for i in range(len(run) - 1)] + [run[-1]]


def tokens(text: str) -> list[str]:
    """The tokens a document is indexed under."""
    out: list[str] = []
    for match in _WORD.finditer(normalize(text)):
        word = match.group()
        out.extend(han_tokens(word) if _IS_HAN.match(word) else [word])
    return out


def token_text(texts: Iterable[str]) -> str:
    return " ".join(t for text in texts for t in tokens(text))


@dataclass
class Term:
    """One word of the query: the tokens that must all be present (a Han run gives several
    pairs), or, for a Latin/Cyrillic word, the word itself by prefix or one of its near spellings."""

    word: str
    han: bool
    required: list[str]
    alternatives: list[str] = field(default_factory=list)

    def tsquery(self) -> str:
        if self.han:
            if len(self.word) == 1:
                return _quote(self.word) + ":*"
            return " & ".join(_quote(t) for t in self.required)
        head = _quote(self.word) + (":*" if len(self.word) >= MIN_PREFIX else "")
        options = [head] + [_quote(a) for a in self.alternatives if a != self.word]
        return "(" + " | ".join(options) + ")" if len(options) > 1 else head


def _quote(token: str) -> str:
    return "'" + token.replace("'", "''").replace("\\", "") + "'"


def parse(query: str) -> list[Term]:
    terms: list[Term] = []
    for match in _WORD.finditer(normalize(query)):
        word = match.group()
        if _IS_HAN.match(word):
            required = [word] if len(word) == 1 else [word[i:i + 2] for i in range(len(word) - 1)]
            terms.append(Term(word, True, required))
        else:
            terms.append(Term(word, False, [word]))
        if len(terms) == MAX_TERMS:
            break
    return terms


def _widen_typos(terms: list[Term]) -> None:
    """Give each Latin/Cyrillic word its nearest known spellings: one query for all words.

    Uses index marketplace_searchterm_trgm (GIN, gin_trgm_ops)."""
    words = sorted({t.word for t in terms if not t.han and len(t.word) >= TYPO_MIN_LENGTH})
    if not words:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT q.word, c.word FROM unnest(%s::text[]) AS q(word)
            CROSS JOIN LATERAL (
                SELECT s.word FROM marketplace_searchterm s
                WHERE s.word %% q.word AND similarity(s.word, q.word) >= %s
                ORDER BY s.word <-> q.word LIMIT %s
            ) c
            """,
            [words, TYPO_SIMILARITY, TYPO_CANDIDATES],
        )
        near: dict[str, list[str]] = {}
        for word, candidate in cursor.fetchall():
            near.setdefault(word, []).append(candidate)
    for term in terms:
        term.alternatives = near.get(term.word, [])


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def storefront_token(code: str) -> str:
    """The token marking a product as listed on a storefront. It lets the GIN index intersect
    "honey" with "on kz" before any row is read, instead of ranking honey on every storefront."""
    return "zzsf" + re.sub(r"[^a-z0-9]", "", code.lower())


def filter_products(qs: QuerySet, query: str, storefront_code: str | None = None) -> tuple[QuerySet, bool]:
    """Keep the products matching ``query``; annotate ``relevance`` (an integer, higher first)
    on PostgreSQL. Returns the queryset and whether it is ranked."""
    terms = parse(query)
    if not terms:
        return qs, False
    if not is_postgres():
        for term in terms:
            condition = Q()
            for token in term.required:
                condition &= Q(search__text__contains=token)
            qs = qs.filter(condition)
        return qs, False
    _widen_typos(terms)
    raw = " & ".join(t.tsquery() for t in terms)
    wanted = SearchQuery(raw, search_type="raw", config="simple")
    # Ranked on the words alone: ts_rank weighs how close the query's tokens stand, and the
    # storefront token (at the end of the vector) would favour words near the end of descriptions.
    rank = Cast(SearchRank(F("search__vector"), wanted) * Value(1_000_000), output_field=IntegerField())
    if storefront_code:
        raw = f"{raw} & {_quote(storefront_token(storefront_code))}"
    # ts_rank is a float: scaled to an integer so that cursor pagination can compare it exactly.
    # Uses index marketplace_productsearch_gin.
    matched = SearchQuery(raw, search_type="raw", config="simple")
    return qs.filter(search__vector=matched).annotate(relevance=rank), True


def ranked(query: str, storefront_code: str | None, *, within: QuerySet | None) -> QuerySet | None:
    """ProductSearch rows matching ``query`` among the products ``within`` (a values("pk")
    queryset carrying the other filters), annotated with ``relevance``. PostgreSQL only; None
    when the query has no words."""
    from .models import ProductSearch

    terms = parse(query)
    if not terms:
        return None
    _widen_typos(terms)
    raw = " & ".join(t.tsquery() for t in terms)
    wanted = SearchQuery(raw, search_type="raw", config="simple")
    rank = Cast(SearchRank(F("vector"), wanted) * Value(1_000_000), output_field=IntegerField())
    if storefront_code:
        raw = f"{raw} & {_quote(storefront_token(storefront_code))}"
    matched = SearchQuery(raw, search_type="raw", config="simple")
    # Uses index marketplace_productsearch_gin.
    rows = ProductSearch.objects.filter(vector=matched)
    if within is not None:
        rows = rows.filter(product_id__in=within)
    return rows.annotate(relevance=rank)


def document(titles: Iterable[str], bodies: Iterable[str]) -> tuple[str, str]:
    """The (title tokens, body tokens) of a product."""
    return token_text(titles), token_text(bodies)


def vector_expression(title_tokens: str, body_tokens: str, storefront_tokens: str = ""):
    return (SearchVector(Value(title_tokens), weight="A", config="simple")
            + SearchVector(Value(body_tokens), weight="B", config="simple")
            + SearchVector(Value(storefront_tokens), weight="D", config="simple"))


def lexicon_words(text: str) -> set[str]:
    """The Latin/Cyrillic words worth offering as corrections of a typo."""
    return {t for t in text.split() if len(t) >= TYPO_MIN_LENGTH and not _IS_HAN.match(t) and not t.isdigit()}
