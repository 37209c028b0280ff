from django.utils.translation import get_language
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from core.access import SELLER, STAFF, company_ids, get_visible, has_role
from core.api.pagination import CursorPagination
from core.api.views import IDEMPOTENCY_HEADER, GenericViewSet, ReadOnlyModelViewSet
from core.errors import DomainError, ErrorCode, field_error
from core.models import Company

from .. import selectors, services
from ..access import products_editable
from ..models import Product
from .serializers import (
    ImageSerializer,
    ImageUploadSerializer,
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


class ProductViewSet(GenericViewSet):
    """The catalogue: anyone reads what is on sale; sellers write their own company's products."""

    permission_classes = [IsSellerOrReadOnly]
    pagination_class = ProductCursorPagination
    queryset = Product.objects.none()

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

    @extend_schema(request=ProductWriteSerializer, responses={201: ProductDetailSerializer},
                   parameters=[IDEMPOTENCY_HEADER], tags=["catalogue"])
    def create(self, request):
        serializer = ProductWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        company = self._company(data.get("company"))
        product = services.product_create(company=company, actor=request.user, **self._service_kwargs(data))
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
        services.product_update(product=product, actor=request.user, **self._service_kwargs(data))
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
