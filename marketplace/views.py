"""Web pages of the catalogue: thin adapters over selectors (reads) and services (writes)."""

import mimetypes
import re

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponseNotModified, QueryDict
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.utils.translation import get_language, gettext_lazy, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from core.access import SELLER, STAFF, company_ids, get_visible, has_role
from core.errors import DomainError
from core.models import Company, Country
from core.money import Money

from . import selectors, services
from .access import products_editable
from .forms import CompanyForm, ImageForm, JoinForm, ProductForm, apply_errors
from .models import Product, ProductImage, ProductTranslation, Storefront, StorefrontMembership

SORTS = [("", gettext_lazy("Best match")), ("newest", gettext_lazy("Newest")), ("price", gettext_lazy("Price: low to high")),
         ("-price", gettext_lazy("Price: high to low"))]


def home(request):
    storefronts = list(selectors.storefront_list(user=request.user))
    featured = selectors.featured(storefronts=storefronts)
    language = get_language() or "en"
    listings = [listing for rows in featured.values() for listing in rows]
    products = [listing.product for listing in listings]
    # One query for the titles of every featured product, in the visitor's language.
    texts = {}
    for t in ProductTranslation.objects.filter(product__in=products).only("product_id", "language", "title"):
        texts.setdefault(t.product_id, []).append(t)
    for storefront in storefronts:
        storefront.featured = featured.get(storefront.pk, [])
        for listing in storefront.featured:
            listing.product.texts = texts.get(listing.product_id, [])
            selectors.decorate([listing.product], languages=selectors.card_languages(language, storefront),
                               storefront=storefront)
            listing.price = Money(listing.price_minor, listing.currency_id)
    return render(request, "marketplace/home.html", {
        "pavilions": [s for s in storefronts if s.kind == "pavilion"],
        "china_goods": [s for s in storefronts if s.kind == "china_goods"],
    })


def _page_number(request) -> int:
    try:
        return max(1, min(int(request.GET.get("page", 1)), 500))
    except ValueError:
        return 1


def storefront(request, code):
    """A storefront: category navigation, filters, sorting, search, product cards."""
    sf = selectors.storefront_get(user=request.user, code=code)
    tree = selectors.category_tree()
    params = request.GET.copy()
    params["storefront"] = sf.code
    error = None
    try:
        query = selectors.parse_product_query(params, tree=tree, storefronts={sf.code: sf})
    except DomainError as exc:
        error = exc
        query = selectors.ProductQuery(storefront=sf)
    qs, ordering = selectors.product_search(user=request.user, query=query)
    language = get_language() or "en"
    size = settings.MARKETPLACE_PAGE_SIZE
    page = _page_number(request)
    rows = list(qs.values(*selectors.page_fields(query, ordering))[(page - 1) * size: page * size + 1])
    has_next = len(rows) > size
    rows = selectors.load_cards(rows[:size], language=language, storefront=sf)
    selectors.mark_stock(rows, sf)
    fx = None
    wallet = selectors.buyer_currency(request.user)
    if wallet and wallet != sf.currency_id:
        fx = selectors.fx_rate(sf.currency_id, wallet)
    selectors.decorate(rows, languages=selectors.card_languages(language, sf), storefront=sf, fx=fx)
    selectors.card_urls(rows, storefront=sf, reader_language=getattr(request, "LANGUAGE_CODE", language))

    def page_url(number):
        q = QueryDict(mutable=True)
        q.update({k: v for k, v in request.GET.items() if k != "page" and v})
        q["page"] = number
        return f"?{q.urlencode()}"

    def category_url(slug):
        q = {k: v for k, v in request.GET.items() if k not in ("page", "category") and v}
        if slug:
            q["category"] = slug
        return f"?{urlencode(q)}" if q else "?"

    stocked = selectors.storefront_category_ids(sf)
    nav = []
    for root in tree.roots():
        children = [c for c in tree.children(root) if c.pk in stocked or (query.category and c.pk == query.category.pk)]
        if children or root.pk in stocked:
            nav.append({"node": root, "url": category_url(root.slug),
                        "children": [{"node": c, "url": category_url(c.slug)} for c in children]})
    origins = Country.objects.filter(iso2__in=["CN", "KZ", "KG", "UZ", "TJ", "TM"]).order_by("iso2")
    return render(request, "marketplace/storefront.html", {
        "storefront": sf, "products": rows, "query": query, "ordering": request.GET.get("ordering", "" if query.q else "newest"),
        "sorts": SORTS if query.q else SORTS[1:], "nav": nav, "all_url": category_url(""), "origins": origins, "error": error,
        "page": page, "next_url": page_url(page + 1) if has_next else None,
        "prev_url": page_url(page - 1) if page > 1 else None, "fx": fx, "size": size,
        "breadcrumbs": tree.ancestors(query.category) if query.category else [],
        "q": request.GET.get("q", ""), "in_stock": request.GET.get("in_stock") == "1",
        "price_min": request.GET.get("price_min", ""), "price_max": request.GET.get("price_max", ""),
        "origin": request.GET.get("origin", ""), "ranked": ordering == "relevance",
    })


def product(request, pk):
    """A product page, on a storefront (``?storefront=``, default the first that sells it)."""
    item = selectors.product_detail(user=request.user, pk=pk)
    offers = [o for o in item.offers if o.is_visible]
    code = request.GET.get("storefront")
    offer = next((o for o in offers if o.storefront_id == code), offers[0] if offers else None)
    sf = offer.storefront if offer else None
    language = get_language() or "en"
    fx, available, ships_from = None, None, []
    if offer:
        # Read before available_quantity, which then asks for the warehouse codes no more.
        ships_from = selectors.ships_from(sf)
        item.price_minor, item.price_currency = offer.price_minor, offer.currency_id
        available = selectors.available_quantity(product=item, storefront=sf)
        wallet = selectors.buyer_currency(request.user)
        if wallet and wallet != sf.currency_id:
            fx = selectors.fx_rate(sf.currency_id, wallet)
    selectors.decorate([item], languages=selectors.card_languages(language, sf), storefront=sf, fx=fx)
    tree = selectors.category_tree()
    category = tree.by_slug(item.category.slug)
    can_edit = request.user.is_authenticated and (item.company_id in company_ids(request.user) or has_role(request.user, STAFF))
    return render(request, "marketplace/product.html", {
        "product": item, "storefront": sf, "offer": offer, "offers": offers, "available": available, "fx": fx,
        "breadcrumbs": tree.ancestors(category) if category else [], "images": list(item.images.all()),
        "can_edit": can_edit, "ships_from": ships_from,
    })


_IMAGE_NAME = re.compile(r"^products/\d+/[0-9a-f]{32}(_\d+)?\.webp$")


def image_file(request, name):
    """A photo or thumbnail. Names carry a random token and never change content, so browsers
    and proxies may keep them for a year (immutable). No database query."""
    if not _IMAGE_NAME.match(name) or not default_storage.exists(name):
        raise Http404
    etag = '"' + name.rsplit("/", 1)[-1].split(".")[0] + '"'
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponseNotModified()
    else:
        response = FileResponse(default_storage.open(name, "rb"),
                                content_type=mimetypes.types_map.get(".webp", "image/webp"))
    response["Cache-Control"] = f"public, max-age={settings.MARKETPLACE_IMAGE_CACHE_SECONDS}, immutable"
    response["ETag"] = etag
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- seller portal ----------------------------------------------------------------------------


def _seller_required(view):
    @login_required
    def wrapped(request, *args, **kwargs):
        if not (has_role(request.user, SELLER) or has_role(request.user, STAFF)):
            raise Http404
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


@_seller_required
@require_http_methods(["GET", "POST"])
def seller_company(request):
    """The seller's companies, their storefronts, and forms to register a company and join a storefront."""
    companies = list(Company.objects.filter(pk__in=company_ids(request.user)).select_related("country"))
    memberships = list(StorefrontMembership.objects.filter(company__in=companies).select_related("storefront", "company"))
    company_form = CompanyForm(request.POST if request.POST.get("form") == "company" else None)
    join_form = JoinForm(request.POST if request.POST.get("form") == "join" else None, companies=companies)
    if request.method == "POST":
        try:
            if request.POST.get("form") == "company" and company_form.is_valid():
                company = services.company_register(user=request.user, actor=request.user, **company_form.cleaned_data)
                messages.success(request, _("%(name)s is registered; staff will verify it shortly.") % {"name": company.name})
                return redirect("seller-company")
            if request.POST.get("form") == "join" and join_form.is_valid():
                services.storefront_join_request(actor=request.user, **join_form.cleaned_data)
                messages.success(request, _("Your request has been sent to staff."))
                return redirect("seller-company")
        except DomainError as exc:
            apply_errors(company_form if request.POST.get("form") == "company" else join_form, exc)
    verdicts = selectors.company_verdicts(c.pk for c in companies)
    for company in companies:
        company.verdict = verdicts.get(company.pk)
    return render(request, "marketplace/seller_company.html", {
        "companies": companies, "memberships": memberships, "company_form": company_form, "join_form": join_form,
    })


@_seller_required
def seller_products(request):
    """The seller's own products, every status."""
    language = get_language() or "en"
    qs = products_editable(request.user, Product.objects.all())
    status = request.GET.get("status", "")
    if status in Product.Status.values:
        qs = qs.filter(status=status)
    q = request.GET.get("q", "").replace("\x00", "").strip()  # PostgreSQL text holds no NUL
    if q:
        qs = qs.filter(Q(sku_code__icontains=q) | Q(pk__in=ProductTranslation.objects.filter(
            title__icontains=q).values("product_id")))
    rows = list(selectors.with_cards(qs.order_by("-id"), language=language, storefront=None).prefetch_related(
        "listings")[:200])
    selectors.decorate(rows, languages=selectors.card_languages(language, None), storefront=None)
    return render(request, "marketplace/seller_products.html", {
        "products": rows, "status": status, "statuses": Product.Status.choices, "q": q,
        "has_company": bool(company_ids(request.user)),
    })


def _editor(request, *, item, company, storefronts, form, image_form=None, status=200):
    """The editor's page: the product form, and for a saved product its photos and their upload form."""
    images = list(item.images.all()) if item else []
    return render(request, "marketplace/seller_product_form.html", {
        "form": form, "product": item, "company": company, "storefronts": storefronts, "images": images,
        "image_form": image_form or ImageForm(), "max_mb": settings.MARKETPLACE_IMAGE_MAX_BYTES // (1024 * 1024),
        "max_photos": settings.MARKETPLACE_IMAGES_PER_PRODUCT,
    }, status=status)


def _admitted(company):
    return list(Storefront.objects.filter(
        memberships__company=company, memberships__status=StorefrontMembership.Status.APPROVED).select_related("currency"))


@_seller_required
@require_http_methods(["GET", "POST"])
def seller_product_edit(request, pk=None):
    """Create or edit a product: texts per language side by side, facts, prices per admitted
    storefront, and on creation its photos in the same step."""
    companies = list(Company.objects.filter(pk__in=company_ids(request.user)))
    if not companies and not has_role(request.user, STAFF):
        messages.warning(request, _("Register your company first."))
        return redirect("seller-company")
    item = None
    if pk is not None:
        item = get_visible(request.user, products_editable(request.user, Product.objects.select_related("company")), pk=pk)
    company = item.company if item else companies[0]
    storefronts = _admitted(company)
    form = ProductForm(request.POST or None, request.FILES or None, product=item, storefronts=storefronts)
    if request.method == "POST" and form.is_valid():
        try:
            data = form.service_data()
            if item is None:
                item = services.product_create(company=company, actor=request.user, **data)
                count = len(data.get("photos", ()))
                if count:
                    messages.success(request, ngettext("Product saved with %(n)s photo.", "Product saved with %(n)s photos.",
                                                       count) % {"n": count})
                else:
                    messages.success(request, _("Product saved. Add photos below."))
            else:
                services.product_update(product=item, actor=request.user, **data)
                messages.success(request, _("Product saved."))
            return redirect("seller-product-edit", pk=item.pk)
        except DomainError as exc:
            apply_errors(form, exc)
    if request.method == "POST" and form.errors and item is None and request.FILES.getlist("photos") \
            and "photos" not in form.errors:
        # A browser never keeps chosen files across a refused form: say so where the seller looks.
        form.add_error("photos", _("The photos were not saved: choose them again."))
    return _editor(request, item=item, company=company, storefronts=storefronts, form=form)


@_seller_required
@require_POST
def seller_product_image(request, pk):
    """Add one or several photos to a saved product. A refusal is shown on this page, at the top and
    at the file field (no jump to an anchor below the message)."""
    item = get_visible(request.user, products_editable(request.user, Product.objects.select_related("company")), pk=pk)
    form = ImageForm(request.POST, request.FILES)
    if form.is_valid():
        uploads = form.cleaned_data["image"]
        try:
            if len(uploads) == 1:
                services.product_image_add(product=item, upload=uploads[0], actor=request.user,
                                           alt=form.cleaned_data.get("alt", ""))
                messages.success(request, _("Photo added."))
            else:
                services.product_photos_add(product=item, uploads=uploads, actor=request.user)
                messages.success(request, ngettext("%(n)s photo added.", "%(n)s photos added.", len(uploads))
                                 % {"n": len(uploads)})
            return redirect("seller-product-edit", pk=item.pk)
        except DomainError as exc:
            for messages_ in exc.fields.values():
                for message in messages_:
                    form.add_error("image", message)
            if not exc.fields:
                form.add_error("image", exc.message)
    messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    storefronts = _admitted(item.company)
    return _editor(request, item=item, company=item.company, storefronts=storefronts,
                   form=ProductForm(product=item, storefronts=storefronts), image_form=form, status=400)


@_seller_required
@require_POST
def seller_product_photos_arrange(request, pk):
    """The photos' order (``position_<id>``, smallest first; the editor's script renumbers them as
    they are dragged) and the cover (``cover``: a photo id)."""
    item = get_visible(request.user, products_editable(request.user, Product.objects.all()), pk=pk)
    ids = list(item.images.values_list("pk", flat=True))

    def rank(pk_):
        try:
            return (float(request.POST.get(f"position_{pk_}", "")), ids.index(pk_))
        except ValueError:
            return (float("inf"), ids.index(pk_))

    try:
        services.product_photos_arrange(product=item, order=sorted(ids, key=rank), cover=request.POST.get("cover") or None,
                                        actor=request.user)
        messages.success(request, _("Photos arranged."))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("seller-product-edit", pk=item.pk)


@_seller_required
def seller_hs_codes(request):
    """HS codes of the reference list matching what is typed (code or words), described in the
    reader's language: the editor's helper (htmx)."""
    from customs import selectors as customs_selectors

    q = request.GET.get("q") or request.GET.get("hs_code") or ""
    rows = customs_selectors.hs_code_search(q, language=get_language() or "en")
    return render(request, "marketplace/_hs_results.html", {"rows": rows, "q": q.strip()})


@_seller_required
@require_POST
def seller_product_image_delete(request, pk, image_id):
    item = get_visible(request.user, products_editable(request.user, Product.objects.all()), pk=pk)
    image = get_visible(request.user, ProductImage.objects.filter(product=item).select_related("product"), pk=image_id)
    services.product_image_delete(image=image, actor=request.user)
    messages.success(request, _("Photo removed."))
    return redirect("seller-product-edit", pk=item.pk)



# --- catalogue imports (seller portal) --------------------------------------------------------


def _import_company(request):
    """The company a seller imports for: the one chosen (theirs), else their first."""
    mine = sorted(company_ids(request.user))
    chosen = request.POST.get("company") or request.GET.get("company")
    if chosen and chosen.isdigit() and (int(chosen) in mine or has_role(request.user, STAFF)):
        return Company.objects.filter(pk=int(chosen)).first()
    return Company.objects.filter(pk=mine[0]).first() if mine else None


def _download(data: bytes, kind: str, filename: str):
    from django.http import HttpResponse

    content_type = ("text/csv; charset=utf-8" if kind == "csv"
                    else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@_seller_required
@require_http_methods(["GET", "POST"])
def seller_imports(request):
    """Upload a catalogue file (and a ZIP of photos); the imports so far; template and export."""
    company = _import_company(request)
    if company is None:
        messages.warning(request, _("Register your company first."))
        return redirect("seller-company")
    errors = {}
    if request.method == "POST":
        try:
            imp = services.catalogue_import_create(company=company, file=request.FILES.get("file"),
                                                   images_zip=request.FILES.get("images"), actor=request.user)
            return redirect("seller-import", pk=imp.pk)
        except DomainError as exc:
            errors = exc.fields or {"file": [exc.message]}
    imports = list(selectors.import_list(user=request.user)[:50])
    for imp in imports:
        imp.progress = selectors.import_progress(imp)
    companies = list(Company.objects.filter(pk__in=company_ids(request.user)).order_by("name"))
    return render(request, "marketplace/imports/list.html", {
        "company": company, "companies": companies, "imports": imports, "errors": errors,
        "max_mb": settings.MARKETPLACE_IMPORT_MAX_BYTES // (1024 * 1024),
        "zip_max_mb": settings.MARKETPLACE_IMPORT_ZIP_MAX_BYTES // (1024 * 1024),
        "storefronts": selectors.catalogue_storefronts(company),
    }, status=400 if errors else 200)


@_seller_required
def seller_import(request, pk):
    """One import: a progress bar that htmx refreshes while it runs, then the summary."""
    imp = selectors.import_get(user=request.user, pk=pk)
    language = get_language() or "en"
    storefront = next(iter(selectors.catalogue_storefronts(imp.company)), None)
    return render(request, "marketplace/imports/detail.html", {
        "imp": imp, "progress": selectors.import_progress(imp), "live": imp.status in ("queued", "running"),
        "error": selectors.import_message(imp.error, language) if imp.error else "",
        "errors": selectors.import_errors(imp, language=language)[:20] if imp.rows_failed else [],
        "storefront": storefront,
    })


@_seller_required
def seller_import_errors(request, pk):
    """The refused rows of an import, as CSV, in the reader's language."""
    from . import catalogue_io

    imp = selectors.import_get(user=request.user, pk=pk)
    rows = selectors.import_errors(imp, language=get_language())
    return _download(catalogue_io.write_csv(["row", "column", "message"], rows), "csv", f"import-{imp.pk}-errors.csv")


@_seller_required
def seller_import_template(request, kind):
    company = _import_company(request)
    if company is None or kind not in ("csv", "xlsx"):
        raise Http404
    return _download(selectors.catalogue_template(company, kind), kind, f"catalogue-template.{kind}")


@_seller_required
def seller_catalogue_export(request, kind):
    company = _import_company(request)
    if company is None or kind not in ("csv", "xlsx"):
        raise Http404
    return _download(selectors.catalogue_file(company, kind), kind, f"catalogue-{company.pk}.{kind}")
