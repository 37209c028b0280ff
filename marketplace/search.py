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
# A prefix is matched as the known words it begins when there are at most this many (see _widen).
PREFIX_WORDS = 50


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
    # The known words (the lexicon) that begin with ``word``; None: match the prefix itself.
    completions: list[str] | None = None

    def tsquery(self, *, matching: bool = False) -> str:
        """The term as tsquery text. ``matching``: for the WHERE clause, where a prefix is spelt
        out as the words it begins (the same rows, see :func:`_widen`); the rank keeps the prefix,
        so that relevance is what it was."""
        if self.han:
            if len(self.word) == 1:
                return _quote(self.word) + ":*"
            return " & ".join(_quote(t) for t in self.required)
        if matching and self.completions is not None:
            heads = [_quote(w) for w in dict.fromkeys([self.word, *self.completions])]
        else:
            heads = [_quote(self.word) + (":*" if len(self.word) >= MIN_PREFIX else "")]
        options = heads + [_quote(a) for a in self.alternatives if a != self.word and a not in (self.completions or ())]
        return "(" + " | ".join(options) + ")" if len(options) > 1 else options[0]


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


def _widen(terms: list[Term]) -> None:
    """Give each Latin/Cyrillic word its nearest known spellings (a typo) and the known words it
    begins (a prefix): one query for all words.

    Why the completions: GIN answers a prefix ('honey':*) by collecting every row of every lexeme
    it begins into one bitmap before intersecting it with the storefront's token, and at a million
    products that bitmap outgrows work_mem and goes lossy: whole pages to recheck (0.1 s for a word
    with no match on the storefront, a third more rows read for one with many). Spelt out as the
    words themselves ('honey' | 'honeys'), the posting lists are intersected item by item. The
    rows are the same: every indexed word of four letters or more, digits aside, is in the
    lexicon (search_index adds them), a shorter one that begins the prefix is the prefix itself,
    and a digit-only prefix, or one beginning too many words, stays a prefix.

    Uses index marketplace_searchterm_trgm (GIN, gin_trgm_ops) for the typos and
    marketplace_searchterm_word_..._like (varchar_pattern_ops) for the completions."""
    near_words = sorted({t.word for t in terms if not t.han and len(t.word) >= TYPO_MIN_LENGTH})
    prefixes = sorted({t.word for t in terms if not t.han and len(t.word) >= MIN_PREFIX and not t.word.isdigit()})
    if not near_words and not prefixes:
        return
    with connection.cursor() as cursor:
        # ~>=~ and ~<~ compare bytes, as the pattern index is ordered, whatever the collation:
        # every word that begins with q.word sorts between it and q.word followed by the last
        # code point.
        cursor.execute(
            """
            SELECT 'near', q.word, c.word FROM unnest(%s::text[]) AS q(word)
            CROSS JOIN LATERAL (
                SELECT s.word FROM marketplace_searchterm s
                WHERE s.word %% q.word AND similarity(s.word, q.word) >= %s
                ORDER BY s.word <-> q.word LIMIT %s
            ) c
            UNION ALL
            SELECT 'begins', q.word, c.word FROM unnest(%s::text[]) AS q(word)
            CROSS JOIN LATERAL (
                SELECT s.word FROM marketplace_searchterm s
                WHERE s.word::text ~>=~ q.word AND s.word::text ~<~ (q.word || chr(1114111))
                LIMIT %s
            ) c
            """,
            [near_words, TYPO_SIMILARITY, TYPO_CANDIDATES, prefixes, PREFIX_WORDS + 1],
        )
        found: dict[tuple[str, str], list[str]] = {}
        for kind, word, candidate in cursor.fetchall():
            found.setdefault((kind, word), []).append(candidate)
    for term in terms:
        term.alternatives = found.get(("near", term.word), [])
        if term.word in prefixes:
            words = found.get(("begins", term.word), [])
            # Too many, or one cut at the lexicon's 64 characters: the prefix itself.
            term.completions = None if len(words) > PREFIX_WORDS or any(len(w) >= 64 for w in words) else words


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
    _widen(terms)
    wanted = SearchQuery(" & ".join(t.tsquery() for t in terms), search_type="raw", config="simple")
    # Ranked on the words alone: ts_rank weighs how close the query's tokens stand, and the
    # storefront token (at the end of the vector) would favour words near the end of descriptions.
    rank = Cast(SearchRank(F("search__vector"), wanted) * Value(1_000_000), output_field=IntegerField())
    raw = " & ".join(t.tsquery(matching=True) for t in terms)
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
    _widen(terms)
    wanted = SearchQuery(" & ".join(t.tsquery() for t in terms), search_type="raw", config="simple")
    rank = Cast(SearchRank(F("vector"), wanted) * Value(1_000_000), output_field=IntegerField())
    raw = " & ".join(t.tsquery(matching=True) for t in terms)
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
