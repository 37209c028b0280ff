"""GET every page each demo account reaches from the navigation, in every language; report the broken ones.

For each demo account (core.demo.ACCOUNTS) and an anonymous visitor, with Django's test client:

1. the home page, and every link of its navigation (the top bar: ``<header>``/``<nav>`` outside
   ``<main>``), each in every language of settings.LANGUAGES (the ``karavan_language`` cookie and
   ``Accept-Language``); the page must come back in that language (``<html lang>``);
2. every on-site link found on those pages (the first level below the navigation), once, in the
   account's own language;
3. the GET forms (search boxes, filters) of all those pages, once per form, their defaults kept and
   their empty text boxes filled with a probe word (``--probe``);
4. every GET operation of the API schema, path parameters filled from the matching list endpoint.

A page fails when it does not end in 200 after its redirects (a logged-in account sent to the login
page fails; an anonymous visitor may be), or its body is an error page (Django's DEBUG 404/500
page, templates/500.html). An API call fails on a 5xx, a 405 or a body that is not JSON. Skipped:
static and media files, logout, /i18n/ and /admin/ below /admin/ itself. Only GET requests are sent;
accounts are logged in with ``force_login`` (a login form would be a POST).

Read-only on purpose, but it reads the real database: run it on the demo (``KARAVAN_ENV=demo``).
Exit status 1 when anything failed; ``--json PATH`` writes the report for tests.
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import asdict, dataclass
from html.parser import HTMLParser
from urllib.parse import quote, urlencode, urljoin, urlsplit, urlunsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.test import Client
from django.urls import Resolver404, resolve, reverse

from core.demo import ACCOUNTS, PASSWORD

ANONYMOUS = "anonymous"
HOST = "testserver"
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
# Django's technical 404/500 pages (DEBUG on) and the project's own 500 page.
ERROR_MARKERS = (
    ("<code>DEBUG = True</code>", "Django's debug error page"),
    ("Traceback (most recent call last)", "a traceback in the page"),
    ("The error has been logged. Please try again in a moment.", "the 500 page"),
)
# Words and names a reader of another language must never meet in English: the navigation, the
# buttons of the buyer's road, statuses, storefronts, warehouses and raw customs codes.
KNOWN_ENGLISH = (
    "Storefronts", "My orders", "Log out", "Add to cart", "Landed cost", "Order desk", "Warehouse console",
    "Kazakhstan pavilion", "Uzbekistan pavilion", "China goods in Kazakhstan", "China goods in Uzbekistan",
    "Tashkent bonded warehouse", "Almaty bonded warehouse", "customs_value", "cn_cbec_", "eaeu_ecommerce",
    "eaeu_personal_parcel", "Placed", "Delivered", "In transit", "Cleared by customs",
    # Rule texts, warnings and customs notes, stored as messages and shown in the reader's language.
    "Duty-free up to", "Dutiable price", "Customs value:", "Duties paid", "No risk rule matched",
    "in the reference data", "Single customs payment replacing", "Green channel", "FX ",
    "No commercial invoice attached", "Menu",
)
VISIBLE_TEXT = re.compile(r"(?is)<(script|style)\b.*?</\1>|<[^>]+>")
HTML_LANG = re.compile(r"<html[^>]*\blang=\"([^\"]*)\"", re.IGNORECASE)
PATH_PARAM = re.compile(r"\{(\w+)\}")
API_VALUES_PER_PARAM = 5


@dataclass
class Failure:
    who: str
    language: str
    url: str
    status: int
    reason: str
    found_on: str = ""

    def __str__(self):
        where = f" (linked from {self.found_on})" if self.found_on else ""
        return f"{self.who} [{self.language}] GET {self.url} -> {self.status}: {self.reason}{where}"


class LinkParser(HTMLParser):
    """Every ``<a href>`` of a page, apart those of the top bar (header/nav outside <main>), and its GET
    forms as they would be submitted: defaults kept, empty text and search boxes filled with ``probe``."""

    TEXT_INPUTS = ("", "text", "search")
    HTMX_WRITES = ("hx-post", "hx-put", "hx-patch", "hx-delete")

    def __init__(self, probe: str = ""):
        super().__init__(convert_charrefs=True)
        self.probe = probe
        self.nav: list[str] = []
        self.links: list[str] = []
        self.forms: list[tuple[str, list[tuple[str, str]]]] = []
        self._main = 0
        self._top = 0
        self._form: tuple[str, list[tuple[str, str]]] | None = None
        self._select: tuple[str, list[str], list[str]] | None = None  # name, option values, selected values
        self._option: list[str] | None = None  # the text of an open <option> without a value
        self._option_selected = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "main":
            self._main += 1
        elif tag in ("header", "nav") and not self._main:
            self._top += 1
        elif tag == "a":
            href = a.get("href")
            if href:
                self.links.append(href)
                if self._top and not self._main:
                    self.nav.append(href)
        elif tag == "form":
            method = (a.get("method") or "get").lower()
            if method == "get" and not any(k in a for k in self.HTMX_WRITES):
                self._form = (a.get("action") or "", [])
        elif tag == "option" and self._select is not None:
            self._end_option()
            if "value" in a:
                self._add_option(a["value"], "selected" in a)
            else:
                self._option = []
                self._option_selected = "selected" in a
        elif self._form is not None and a.get("name") and "disabled" not in a:
            self._field(tag, a)

    def _field(self, tag, a):
        name, fields = a["name"], self._form[1]
        if tag == "input":
            kind = (a.get("type") or "").lower()
            value = a.get("value") or ""
            if kind in self.TEXT_INPUTS:
                fields.append((name, value or self.probe))
            elif kind in ("checkbox", "radio"):
                if "checked" in a:
                    fields.append((name, value or "on"))
            elif kind not in ("submit", "button", "image", "reset", "file"):
                fields.append((name, value))
        elif tag == "textarea":
            fields.append((name, self.probe))
        elif tag == "select":
            self._select = (name, [], [])

    def _add_option(self, value: str, selected: bool):
        self._select[1].append(value)
        if selected:
            self._select[2].append(value)

    def _end_option(self):
        if self._option is not None and self._select is not None:
            self._add_option("".join(self._option).strip(), self._option_selected)
        self._option = None

    def handle_endtag(self, tag):
        if tag == "main":
            self._main = max(0, self._main - 1)
        elif tag in ("header", "nav") and not self._main:
            self._top = max(0, self._top - 1)
        elif tag == "option":
            self._end_option()
        elif tag == "select" and self._select is not None and self._form is not None:
            self._end_option()
            name, options, selected = self._select
            chosen = selected[:1] or options[:1]
            self._form[1].extend((name, value) for value in chosen)
            self._select = None
        elif tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None

    def handle_data(self, data):
        if self._option is not None:  # an <option> without a value attribute submits its text
            self._option.append(data)


class ErrorLog(logging.Handler):
    """Keeps the exceptions logged while a request runs (the API middleware turns them into JSON 500s)."""

    def __init__(self):
        super().__init__(level=logging.ERROR)
        self.errors: list[tuple[bool, str]] = []

    def emit(self, record):
        if record.exc_info and record.exc_info[1] is not None:
            self.errors.append((True, _describe(record.exc_info[1])))
        else:
            self.errors.append((False, record.getMessage().splitlines()[0]))

    def describe(self) -> str:
        """The first exception logged, else the last message ("Internal Server Error: /path")."""
        for has_exception, text in self.errors:
            if has_exception:
                return text
        return self.errors[-1][1] if self.errors else ""


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".strip()


class Crawler:
    def __init__(self, *, languages: list[str], deep_languages: str, api: bool, probe: str):
        self.languages = languages
        self.probe = probe
        self.deep_languages = deep_languages
        self.api = api
        self.failures: list[Failure] = []
        self.requests = 0
        self.timings: list[tuple[float, str, str]] = []
        self.visited: dict[str, set[str]] = {}
        self.who = ""
        self.login_path = reverse("login")
        self.skip_prefixes = tuple(
            "/" + p.lstrip("/") for p in (settings.STATIC_URL, settings.MEDIA_URL, reverse("logout"), "/i18n/") if p
        )
        self.errors = ErrorLog()

    # --- one request -------------------------------------------------------------------------

    def get(self, client: Client, url: str, language: str):
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        self.errors.errors.clear()
        self.requests += 1
        self.visited.setdefault(self.who, set()).add(url)
        started = time.monotonic()
        response = client.get(url, follow=True, HTTP_ACCEPT_LANGUAGE=language)
        self.timings.append((time.monotonic() - started, url, language))
        final = response.request["PATH_INFO"]
        if response.request.get("QUERY_STRING"):
            final += "?" + response.request["QUERY_STRING"]
        return response, final

    def reason(self, response) -> str:
        exc_info = getattr(response, "exc_info", None)
        if exc_info and exc_info[1] is not None:
            return _describe(exc_info[1])
        return self.errors.describe()

    def check_page(self, who: str, client: Client, url: str, language: str, found_on: str = "",
                   expect_language: bool = False):
        """GET a page; record a failure if it is broken. Returns (final url, links, body) or None."""
        response, final = self.get(client, url, language)

        def fail(reason: str):
            detail = self.reason(response)
            self.failures.append(Failure(who, language, url, response.status_code,
                                         f"{reason}: {detail}" if detail else reason, found_on))

        final_path = urlsplit(final).path
        if final_path == self.login_path and url.split("?")[0] != self.login_path:
            if who != ANONYMOUS:
                fail("redirected to the login page")
            return None
        if response.status_code != 200:
            fail(f"status {response.status_code}" + (f" after redirects to {final}" if response.redirect_chain else ""))
            return None
        content_type = response.get("Content-Type", "")
        if not content_type.startswith("text/html") or getattr(response, "streaming", False):
            return final, LinkParser(), ""
        body = response.content.decode(response.charset or "utf-8", errors="replace")
        for marker, name in ERROR_MARKERS:
            if marker in body:
                fail(f"the body is {name}")
                return None
        if expect_language:
            match = HTML_LANG.search(body)
            if match and match.group(1).lower() != language.lower():
                fail(f'rendered in "{match.group(1)}", not in the language asked for')
            if not language.startswith("en"):
                text = VISIBLE_TEXT.sub(" ", body)
                left = [word for word in KNOWN_ENGLISH if re.search(rf"\b{re.escape(word)}", text)]
                if left:
                    fail(f"English left in a {language} page: {', '.join(left)}")
        parser = LinkParser(self.probe)
        parser.feed(body)
        parser.close()
        return final, parser, body

    # --- links -------------------------------------------------------------------------------

    def on_site(self, base: str, href: str) -> str | None:
        """The path (and query) of ``href`` on this site, or None for off-site and skipped links."""
        href = href.strip()
        if not href or href.startswith(("#", "mailto:", "tel:", "javascript:", "data:")):
            return None
        parts = urlsplit(urljoin(f"http://{HOST}{base}", href))
        if parts.scheme not in ("http", "https") or parts.netloc != HOST:
            return None
        path = parts.path or "/"
        if path.startswith(self.skip_prefixes):
            return None
        if path.startswith("/admin/") and path != "/admin/":
            return None
        return urlunsplit(("", "", path, parts.query, ""))

    def collect_forms(self, page: str, parser: LinkParser, forms: dict[tuple, tuple[str, str]]):
        """The GET forms of ``page`` as URLs, one per (URL pattern of the action, field names): the
        search box of one storefront stands for those of all storefronts."""
        for action, fields in parser.forms:
            target = self.on_site(page, action.strip() or page)  # no action: the page itself
            if target is None or not fields:
                continue
            path = urlsplit(target).path
            try:
                pattern = resolve(path).route
            except Resolver404:
                pattern = path
            key = (pattern, tuple(sorted({name for name, _ in fields})))
            forms.setdefault(key, (f"{path}?{urlencode(fields)}", page))

    # --- one account -------------------------------------------------------------------------

    def crawl(self, who: str, client: Client, own_language: str):
        self.who = who
        nav_pages: dict[str, None] = {"/": None}
        first = self.check_page(who, client, "/", self.languages[0], expect_language=True)
        if first is None:
            return
        home_final, home, body = first
        if who != ANONYMOUS and f'data-testid="username">{who}<' not in body:
            self.failures.append(Failure(who, self.languages[0], "/", 200,
                                         "the home page does not show the account as logged in"))
        for href in home.nav:
            url = self.on_site(home_final, href)
            if url:
                nav_pages.setdefault(url, None)
        deep: dict[str, str] = {}
        forms: dict[tuple, tuple[str, str]] = {}
        for url in nav_pages:
            for language in self.languages:
                if url == "/" and language == self.languages[0]:
                    result = first
                else:
                    result = self.check_page(who, client, url, language, expect_language=True,
                                             found_on="" if url == "/" else "the navigation")
                if result is None or language != self.languages[0]:
                    continue
                final, parser, _ = result
                self.collect_forms(final, parser, forms)
                for href in parser.links:
                    link = self.on_site(final, href)
                    if link and link not in nav_pages:
                        deep.setdefault(link, url)
        languages = self.languages if self.deep_languages == "all" else [own_language]
        for url, found_on in deep.items():
            for language in languages:
                result = self.check_page(who, client, url, language, found_on=found_on)
                if result is not None and language == languages[0]:
                    self.collect_forms(result[0], result[1], forms)
        for url, found_on in forms.values():
            if url not in nav_pages and url not in deep:
                self.check_page(who, client, url, own_language, found_on=f"a search form on {found_on}")
        if self.api:
            self.crawl_api(who, client)

    # --- the API -----------------------------------------------------------------------------

    def api_paths(self) -> list[str]:
        if not hasattr(self, "_api_paths"):
            client = Client(raise_request_exception=False)
            self.requests += 1
            response = client.get(reverse("schema"), {"format": "json"})
            if response.status_code != 200:
                self.failures.append(Failure(ANONYMOUS, "en", reverse("schema"), response.status_code,
                                             "the API schema does not load"))
                self._api_paths = []
            else:
                schema = json.loads(response.content)
                self._api_paths = [path for path, ops in schema.get("paths", {}).items() if "get" in ops]
        return self._api_paths

    def api_get(self, who: str, client: Client, url: str):
        self.errors.errors.clear()
        self.requests += 1
        self.visited.setdefault(self.who, set()).add(url)
        started = time.monotonic()
        response = client.get(url, HTTP_ACCEPT="application/json")
        self.timings.append((time.monotonic() - started, url, "en"))
        is_json = response.get("Content-Type", "").startswith("application/json")
        if response.status_code >= 500 or response.status_code == 405 or not is_json:
            detail = self.reason(response)
            if not detail and is_json:
                detail = json.loads(response.content).get("message", "") if response.content else ""
            reason = f"status {response.status_code}" if is_json else f"not JSON ({response.get('Content-Type')})"
            self.failures.append(Failure(who, "en", url, response.status_code,
                                         f"{reason}: {detail}" if detail else reason, "the API schema"))
            return None
        if response.status_code != 200:
            return None
        return json.loads(response.content)

    def crawl_api(self, who: str, client: Client):
        lists: dict[str, list] = {}
        for path in self.api_paths():
            names = PATH_PARAM.findall(path)
            if not names:
                data = self.api_get(who, client, path)
                lists[path] = _items(data)
                continue
            if len(names) > 1:
                continue  # none today: one parameter, filled from the list endpoint before it
            prefix, rest = path.split("{" + names[0] + "}", 1)
            if prefix not in lists:
                lists[prefix] = _items(self.api_get(who, client, prefix))
            values = []
            for item in lists[prefix]:
                value = item.get(names[0]) if isinstance(item, dict) else None
                if isinstance(value, str | int) and not isinstance(value, bool) and value not in values:
                    values.append(value)
            for value in values[:API_VALUES_PER_PARAM]:
                self.api_get(who, client, prefix + quote(str(value)) + rest)


def _items(data) -> list:
    if isinstance(data, dict):
        data = data.get("results", [])
    return data if isinstance(data, list) else []


class Command(BaseCommand):
    help = ("GET every page each demo account reaches from the navigation, in every language, and the API's "
            "GET endpoints; list the ones that fail. Read-only (no POST). For the demo (SQLite) database.")

    def add_arguments(self, parser):
        parser.add_argument("--accounts", default="", help="Comma-separated usernames and/or 'anonymous' (default: all).")
        parser.add_argument("--languages", default="",
                            help="Comma-separated language codes for the navigation pages (default: settings.LANGUAGES).")
        parser.add_argument("--deep-languages", choices=["own", "all"], default="own",
                            help="Pages below the navigation in the account's own language (default) or in all.")
        parser.add_argument("--probe", default="tea",
                            help="The word typed into the empty text and search boxes of GET forms (default: tea).")
        parser.add_argument("--no-api", action="store_true", help="Skip the API's GET endpoints.")
        parser.add_argument("--json", default="", help="Write the report (failures, request count, seconds) here.")

    def handle(self, *args, accounts="", languages="", deep_languages="own", probe="tea", no_api=False, json="",
               **options):
        import json as jsonlib

        who_all = [ANONYMOUS, *ACCOUNTS]
        wanted = [a.strip() for a in accounts.split(",") if a.strip()] or who_all
        unknown = set(wanted) - set(who_all)
        if unknown:
            raise CommandError(f"unknown accounts: {', '.join(sorted(unknown))}")
        langs = [code.strip() for code in languages.split(",") if code.strip()] or [c for c, _ in settings.LANGUAGES]
        crawler = Crawler(languages=langs, deep_languages=deep_languages, api=not no_api, probe=probe)
        loggers = [logging.getLogger(name) for name in ("django.request", "karavan")]
        saved = [(lg.propagate, lg.handlers[:]) for lg in loggers]
        for lg in loggers:  # keep the tracebacks out of the output: the report names each error
            lg.handlers = [crawler.errors]
            lg.propagate = False
        started = time.monotonic()
        User = get_user_model()
        try:
            for who in wanted:
                client = Client(raise_request_exception=False)
                own_language = "en"
                if who != ANONYMOUS:
                    user = User.objects.filter(username=who).first()
                    if user is None or not user.check_password(PASSWORD):
                        crawler.failures.append(Failure(who, "en", reverse("login"), 0,
                                                        f"no demo account {who!r} with the demo password"))
                        continue
                    client.force_login(user, backend=MODEL_BACKEND)
                    own_language = ACCOUNTS[who][4]
                before = crawler.requests
                crawler.crawl(who, client, own_language)
                self.stdout.write(f"{who}: {crawler.requests - before} requests")
        finally:
            for lg, (propagate, handlers) in zip(loggers, saved, strict=True):
                lg.propagate, lg.handlers = propagate, handlers
        seconds = round(time.monotonic() - started, 1)
        for failure in crawler.failures:
            self.stdout.write(self.style.ERROR(f"FAIL {failure}"))
        self.stdout.write(f"{crawler.requests} requests, {len(crawler.failures)} failures, {seconds} s")
        if json:
            with open(json, "w", encoding="utf-8") as fh:
                slowest = sorted(crawler.timings, reverse=True)[:10]
                jsonlib.dump({"requests": crawler.requests, "seconds": seconds,
                              "failures": [asdict(f) | {"text": str(f)} for f in crawler.failures],
                              "slowest": [{"seconds": round(t, 3), "url": u, "language": lang} for t, u, lang in slowest],
                              "visited": {who: sorted(urls) for who, urls in crawler.visited.items()}},
                             fh, indent=1)
        if crawler.failures:
            raise CommandError(f"{len(crawler.failures)} pages failed")
