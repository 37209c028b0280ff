from django.http import HttpResponse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from core.access import SELLER, STAFF, company_ids, get_visible, has_role
from core.api.pagination import CursorPagination
from core.api.views import IDEMPOTENCY_HEADER, GenericViewSet, ReadOnlyModelViewSet
from core.errors import DomainError, ErrorCode, field_error
from core.models import Company

from .. import catalogue_io, selectors, services
from ..access import products_editable
from ..models import CatalogueImport, Product
from .serializers import (
    ImageSerializer,
    ImageUploadSerializer,
    ImportErrorSerializer,
    ImportSerializer,
    ImportUploadSerializer,
    ProductDetailSerializer,
    ProductListSerializer,
    ProductWriteSerializer,
    StorefrontSerializer,
)


class StorefrontViewSet(ReadOnlyModelViewSet):
    """The national pavilions and the China-goods storefronts."""

    serializer_class = StorefrontSerializer
    permission_classes = [permissions.AllowAny]
    pagination_class = None
    lookup_field = "code"

    def get_queryset(self):
        return selectors.storefront_list(user=self.request.user)


class ProductCursorPagination(CursorPagination):
    """Cursor pagination in the order the query asked for (newest, price, relevance)."""

    page_size = 24

    def get_ordering(self, request, queryset, view):
        return view.cursor_ordering


class IsSellerOrReadOnly(permissions.BasePermission):
    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return True
        return bool(request.user and request.user.is_authenticated
                    and (has_role(request.user, SELLER) or has_role(request.user, STAFF)))


LIST_PARAMETERS = [
    OpenApiParameter("storefront", str, description="Storefront code (kz, cn-uz, ...): prices, stock and price filters"),
    OpenApiParameter("q", str, description="Words of the title or description, in English, Russian or Chinese"),
    OpenApiParameter("category", str, description="Category slug; includes its subcategories"),
    OpenApiParameter("in_stock", bool, description="Only what a warehouse serving the storefront has available"),
    OpenApiParameter("price_min", str, description="Decimal, in the storefront's currency"),
    OpenApiParameter("price_max", str, description="Decimal, in the storefront's currency"),
    OpenApiParameter("origin", str, description="Country of origin, ISO alpha-2"),
    OpenApiParameter("ordering", str, enum=list(selectors.PUBLIC_ORDERINGS), description="Default: relevance with q, else newest"),
]


PRODUCT_ERRORS = [ErrorCode.INVALID_HS_CODE, ErrorCode.DUPLICATE_SKU, ErrorCode.COMPANY_NOT_VERIFIED,
                  ErrorCode.STOREFRONT_NOT_ALLOWED, ErrorCode.PRODUCT_INCOMPLETE, ErrorCode.CURRENCY_MISMATCH,
                  ErrorCode.INVALID_AMOUNT, ErrorCode.UNKNOWN_COUNTRY, ErrorCode.PERMISSION_DENIED]


class ProductViewSet(GenericViewSet):
    """The catalogue: anyone reads what is on sale; sellers write their own company's products."""

    permission_classes = [IsSellerOrReadOnly]
    pagination_class = ProductCursorPagination
    queryset = Product.objects.none()
    error_codes = {"create": PRODUCT_ERRORS, "partial_update": PRODUCT_ERRORS, "images": [ErrorCode.INVALID_IMAGE]}

    def _context(self, query=None):
        language = get_language() or "en"
        storefront = query.storefront if query else None
        fx = None
        if storefront is not None:
            wallet = selectors.buyer_currency(self.request.user)
            if wallet and wallet != storefront.currency_id:
                fx = selectors.fx_rate(storefront.currency_id, wallet)
        return {"language": language, "languages": selectors.card_languages(language, storefront),
                "storefront": storefront, "fx": fx}

    @extend_schema(parameters=LIST_PARAMETERS, responses=ProductListSerializer(many=True), tags=["catalogue"])
    def list(self, request):
        query = selectors.parse_product_query(request.query_params)
        qs, ordering = selectors.product_search(user=request.user, query=query)
        self.cursor_ordering = selectors.ORDERINGS[ordering]
        ctx = self._context(query)
        rows = self.paginate_queryset(qs.values(*selectors.page_fields(query, ordering)))
        page = selectors.load_cards(rows, language=ctx["language"], storefront=query.storefront)
        selectors.mark_stock(page, query.storefront)
        selectors.decorate(page, languages=ctx["languages"], storefront=query.storefront, fx=ctx["fx"])
        data = ProductListSerializer(page, many=True, context={"request": request, "language": ctx["language"]}).data
        return self.get_paginated_response(data)

    @extend_schema(parameters=[OpenApiParameter("storefront", str, description="Price on this storefront")],
                   responses=ProductDetailSerializer, tags=["catalogue"])
    def retrieve(self, request, pk=None):
        return Response(self._detail(pk, request.query_params.get("storefront")))

    def _detail(self, pk, storefront_code=None):
        product = selectors.product_detail(user=self.request.user, pk=pk)
        storefront = None
        if storefront_code:
            storefront = next((o.storefront for o in product.offers if o.storefront_id == storefront_code), None)
            if storefront is None:
                raise field_error("storefront", "This product is not on sale on that storefront.")
        ctx = self._context(selectors.ProductQuery(storefront=storefront))
        offer = next((o for o in product.offers if storefront and o.storefront_id == storefront.pk), None)
        if offer:
            product.price_minor, product.price_currency = offer.price_minor, offer.currency_id
            product.in_stock = selectors.available_quantity(product=product, storefront=storefront) > 0
        selectors.decorate([product], languages=ctx["languages"], storefront=storefront, fx=ctx["fx"])
        return ProductDetailSerializer(product, context={"request": self.request, "language": ctx["language"]}).data

    def _company(self, requested: int | None) -> Company:
        mine = company_ids(self.request.user)
        if requested is not None:
            if requested not in mine and not has_role(self.request.user, STAFF):
                raise field_error("company", "You are not a member of this company.")
            return Company.objects.get(pk=requested)
        if len(mine) == 1:
            return Company.objects.get(pk=next(iter(mine)))
        if not mine:
            raise DomainError(ErrorCode.PERMISSION_DENIED, "Register your company before listing products.")
        raise field_error("company", "You belong to several companies: say which one.")

    @staticmethod
    def _service_kwargs(data: dict) -> dict:
        kwargs = {k: v for k, v in data.items() if k not in ("company", "sku")}
        if "sku" in data:
            kwargs["sku_code"] = data["sku"]
        return kwargs

    @staticmethod
    def _refusal_in_api_names(exc: DomainError) -> DomainError:
        """The services name the SKU ``sku_code`` (a duplicate, spaces, an invisible character): the
        API's field is ``sku``."""
        exc.fields = {("sku" if name == "sku_code" else name): messages for name, messages in exc.fields.items()}
        return exc

    @extend_schema(request=ProductWriteSerializer, responses={201: ProductDetailSerializer},
                   parameters=[IDEMPOTENCY_HEADER], tags=["catalogue"])
    def create(self, request):
        serializer = ProductWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        company = self._company(data.get("company"))
        try:
            product = services.product_create(company=company, actor=request.user, **self._service_kwargs(data))
        except DomainError as exc:
            raise self._refusal_in_api_names(exc) from None
        return Response(self._detail(product.pk), status=status.HTTP_201_CREATED)

    @extend_schema(request=ProductWriteSerializer(partial=True), responses=ProductDetailSerializer,
                   parameters=[IDEMPOTENCY_HEADER], tags=["catalogue"])
    def partial_update(self, request, pk=None):
        product = get_visible(request.user, products_editable(request.user, Product.objects.all()), pk=pk)
        serializer = ProductWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if "company" in data:
            raise field_error("company", "A product cannot move to another company.")
        try:
            services.product_update(product=product, actor=request.user, **self._service_kwargs(data))
        except DomainError as exc:
            raise self._refusal_in_api_names(exc) from None
        return Response(self._detail(product.pk))

    @extend_schema(request={"multipart/form-data": ImageUploadSerializer}, responses={201: ImageSerializer},
                   parameters=[IDEMPOTENCY_HEADER], tags=["catalogue"])
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser])
    def images(self, request, pk=None):
        product = get_visible(request.user, products_editable(request.user, Product.objects.all()), pk=pk)
        upload = request.FILES.get("image")
        if upload is None:
            raise DomainError(ErrorCode.INVALID_IMAGE, "Send the photo as the multipart field 'image'.",
                              {"image": ["No file was sent."]})
        image = services.product_image_add(product=product, upload=upload, actor=request.user,
                                           alt=request.data.get("alt", ""))
        return Response(ImageSerializer(image).data, status=status.HTTP_201_CREATED)


# --- catalogue imports ------------------------------------------------------------------------


class _FileRenderer(BaseRenderer):
    """Lets ``?format=csv`` / ``?format=xlsx`` reach the view, which answers the file itself."""

    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, bytes):
            return data
        # Not the file: the error envelope (a refused company, an unknown import), which is JSON
        # whatever file was asked for (typed text/csv, the API middleware replaced it with a bare 400).
        response = (renderer_context or {}).get("response")
        if response is not None:
            response["Content-Type"] = "application/json"
        return JSONRenderer().render(data)


class CSVRenderer(_FileRenderer):
    media_type, format = "text/csv", "csv"


class XLSXRenderer(_FileRenderer):
    media_type, format = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"


def file_response(data: bytes, kind: str, filename: str) -> HttpResponse:
    content_type = CSVRenderer.media_type + "; charset=utf-8" if kind == "csv" else XLSXRenderer.media_type
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _seller_company(user, requested) -> Company:
    """The company a seller acts for: the one named (theirs), else their only one."""
    mine = company_ids(user)
    if requested not in (None, ""):
        try:
            requested = int(requested)
        except (TypeError, ValueError):
            raise field_error("company", _("Unknown company.")) from None
        if requested not in mine and not has_role(user, STAFF):
            raise field_error("company", _("You are not a member of this company."))
        company = Company.objects.filter(pk=requested).first()
        if company is None:
            raise field_error("company", _("Unknown company."))
        return company
    if len(mine) == 1:
        return Company.objects.get(pk=next(iter(mine)))
    if not mine:
        raise DomainError(ErrorCode.PERMISSION_DENIED, _("Register your company before importing products."))
    raise field_error("company", _("You belong to several companies: say which one."))


def _file_kind(request) -> str:
    """csv or xlsx, from ``?format=`` or the Accept header; a client that accepts only JSON is told how to ask."""
    kind = request.accepted_renderer.format
    if kind not in ("csv", "xlsx"):
        raise DomainError(ErrorCode.NOT_ACCEPTABLE, _("This is a file: ask for ?format=csv or ?format=xlsx."),
                          {"format": [_("csv or xlsx.")]})
    return kind


FORMAT_FILE = OpenApiParameter("format", str, enum=["csv", "xlsx"], description="csv (UTF-8) or xlsx")
FILE_RESPONSES = {(200, "text/csv"): OpenApiTypes.BINARY, (200, XLSXRenderer.media_type): OpenApiTypes.BINARY}


class ImportViewSet(GenericViewSet):
    """Bulk catalogue imports of the caller's companies: upload a CSV or XLSX file (and a ZIP of its
    photos), follow its progress, read the refused rows; download the template and the catalogue."""

    permission_classes = [permissions.IsAuthenticated, IsSellerOrReadOnly]
    parser_classes = [MultiPartParser, FormParser]
    queryset = CatalogueImport.objects.none()
    # Refusals each action can answer (core.api.schema documents them with the envelope).
    error_codes = {
        "create": [ErrorCode.INVALID_FILE, ErrorCode.LIMIT_EXCEEDED, ErrorCode.PERMISSION_DENIED, ErrorCode.VALIDATION],
        "export": [ErrorCode.NOT_ACCEPTABLE, ErrorCode.PERMISSION_DENIED, ErrorCode.VALIDATION],
        "template": [ErrorCode.NOT_ACCEPTABLE, ErrorCode.PERMISSION_DENIED, ErrorCode.VALIDATION],
    }
    cursor_ordering = ("-id",)

    class Pagination(CursorPagination):
        page_size = 50
        ordering = ("-id",)

    pagination_class = Pagination

    @extend_schema(responses=ImportSerializer(many=True), tags=["imports"])
    def list(self, request):
        page = self.paginate_queryset(selectors.import_list(user=request.user))
        return self.get_paginated_response(ImportSerializer(page, many=True).data)

    @extend_schema(responses=ImportSerializer, tags=["imports"])
    def retrieve(self, request, pk=None):
        return Response(ImportSerializer(selectors.import_get(user=request.user, pk=pk)).data)

    @extend_schema(request={"multipart/form-data": ImportUploadSerializer}, responses={202: ImportSerializer},
                   parameters=[IDEMPOTENCY_HEADER], tags=["imports"])
    def create(self, request):
        # ImportUploadSerializer documents the shape; the service checks the files themselves (an
        # empty one too), so that every refusal of a file has the same code and field.
        if "file" not in request.FILES:
            raise field_error("file", _("Send the catalogue as the multipart field 'file' (CSV or XLSX)."),
                              ErrorCode.INVALID_FILE)
        company = _seller_company(request.user, request.data.get("company"))
        imp = services.catalogue_import_create(company=company, file=request.FILES["file"],
                                               images_zip=request.FILES.get("images"), actor=request.user)
        return Response(ImportSerializer(imp).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(parameters=[OpenApiParameter("format", str, enum=["json", "csv"])],
                   responses={(200, "application/json"): ImportErrorSerializer(many=True),
                              (200, "text/csv"): OpenApiTypes.BINARY}, tags=["imports"])
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, CSVRenderer], pagination_class=None,
            url_name="errors")
    def errors(self, request, pk=None):
        imp = selectors.import_get(user=request.user, pk=pk)
        rows = selectors.import_errors(imp, language=get_language())
        if request.accepted_renderer.format == "csv":
            return file_response(catalogue_io.write_csv(["row", "column", "message"], rows), "csv",
                                 f"import-{imp.pk}-errors.csv")
        return Response(ImportErrorSerializer(rows, many=True).data)

    @extend_schema(parameters=[FORMAT_FILE, OpenApiParameter("company", int, required=False)],
                   responses=FILE_RESPONSES, tags=["imports"],
                   description="The company's catalogue in the import's columns: edit it and import it back.")
    @action(detail=False, methods=["get"], renderer_classes=[CSVRenderer, XLSXRenderer, JSONRenderer],
            pagination_class=None)
    def export(self, request):
        kind = _file_kind(request)
        company = _seller_company(request.user, request.query_params.get("company"))
        return file_response(selectors.catalogue_file(company, kind), kind, f"catalogue-{company.pk}.{kind}")

    @extend_schema(parameters=[FORMAT_FILE, OpenApiParameter("company", int, required=False)],
                   responses=FILE_RESPONSES, tags=["imports"],
                   description="An empty file with the columns, and (XLSX) a second sheet explaining each one.")
    @action(detail=False, methods=["get"], renderer_classes=[CSVRenderer, XLSXRenderer, JSONRenderer],
            pagination_class=None)
    def template(self, request):
        kind = _file_kind(request)
        company = _seller_company(request.user, request.query_params.get("company"))
        data = selectors.catalogue_template(company, kind)
        return file_response(data, kind, f"catalogue-template.{kind}")
