"""One error taxonomy for the whole platform.

Services raise DomainError with a code from ErrorCode; the API maps it once to
``{"error": {"code", "message", "fields"}}`` and the UI to form errors.
"""

from enum import StrEnum


class ErrorCode(StrEnum):
    VALIDATION = "validation_error"
    PARSE_ERROR = "parse_error"
    NOT_AUTHENTICATED = "not_authenticated"
    AUTHENTICATION_FAILED = "authentication_failed"
    LOGIN_LOCKED = "login_locked"
    PERMISSION_DENIED = "permission_denied"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    NOT_ACCEPTABLE = "not_acceptable"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    THROTTLED = "throttled"
    SERVER_ERROR = "server_error"
    SERVICE_UNAVAILABLE = "service_unavailable"  # the database is unreachable for a moment (a restart)
    CONFLICT = "conflict"
    ILLEGAL_TRANSITION = "illegal_transition"
    TRANSITION_NOT_PERMITTED = "transition_not_permitted"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    IDEMPOTENCY_KEY_IN_FLIGHT = "idempotency_key_in_flight"
    IDEMPOTENCY_KEY_INVALID = "idempotency_key_invalid"
    CURRENCY_MISMATCH = "currency_mismatch"
    UNKNOWN_CURRENCY = "unknown_currency"
    INVALID_AMOUNT = "invalid_amount"
    # payments
    INSUFFICIENT_FUNDS = "insufficient_funds"
    UNBALANCED_TRANSACTION = "unbalanced_transaction"
    FX_RATE_MISSING = "fx_rate_missing"
    WEBHOOK_SIGNATURE_INVALID = "webhook_signature_invalid"
    WEBHOOK_STALE = "webhook_stale"
    WEBHOOK_REPLAYED = "webhook_replayed"
    # customs
    INVALID_HS_CODE = "invalid_hs_code"
    UNKNOWN_COUNTRY = "unknown_country"
    LIMIT_EXCEEDED = "limit_exceeded"
    REGIME_NOT_SUPPORTED = "regime_not_supported"
    TARIFF_RATE_MISSING = "tariff_rate_missing"
    INVALID_DOCUMENT = "invalid_document"
    # warehouses
    INSUFFICIENT_STOCK = "insufficient_stock"
    UNKNOWN_SKU = "unknown_sku"
    UNKNOWN_WAREHOUSE = "unknown_warehouse"
    RESERVATION_CONFLICT = "reservation_conflict"
    CUSTOMS_NOT_CLEARED = "customs_not_cleared"
    # marketplace
    INVALID_TAX_ID = "invalid_tax_id"
    INVALID_IMAGE = "invalid_image"
    STOREFRONT_NOT_ALLOWED = "storefront_not_allowed"
    COMPANY_NOT_VERIFIED = "company_not_verified"
    DUPLICATE_SKU = "duplicate_sku"
    PRODUCT_INCOMPLETE = "product_incomplete"
    INVALID_FILE = "invalid_file"
    # orders
    RETURN_WINDOW_CLOSED = "return_window_closed"


# HTTP status per code; a code missing here answers 400.
STATUS = {
    ErrorCode.NOT_AUTHENTICATED: 401,
    ErrorCode.AUTHENTICATION_FAILED: 401,
    ErrorCode.LOGIN_LOCKED: 429,
    ErrorCode.PERMISSION_DENIED: 403,
    ErrorCode.TRANSITION_NOT_PERMITTED: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.NOT_ACCEPTABLE: 406,
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: 415,
    ErrorCode.THROTTLED: 429,
    ErrorCode.SERVER_ERROR: 500,
    ErrorCode.SERVICE_UNAVAILABLE: 503,
    ErrorCode.CONFLICT: 409,
    ErrorCode.ILLEGAL_TRANSITION: 409,
    ErrorCode.IDEMPOTENCY_KEY_REUSED: 422,
    ErrorCode.IDEMPOTENCY_KEY_IN_FLIGHT: 409,
    ErrorCode.INSUFFICIENT_FUNDS: 409,
    ErrorCode.INSUFFICIENT_STOCK: 409,
    ErrorCode.RESERVATION_CONFLICT: 409,
    ErrorCode.CUSTOMS_NOT_CLEARED: 409,
    ErrorCode.WEBHOOK_SIGNATURE_INVALID: 401,
    ErrorCode.WEBHOOK_STALE: 401,
    ErrorCode.WEBHOOK_REPLAYED: 409,
    ErrorCode.LIMIT_EXCEEDED: 422,
    ErrorCode.TARIFF_RATE_MISSING: 422,
    ErrorCode.FX_RATE_MISSING: 409,
    ErrorCode.UNBALANCED_TRANSACTION: 500,
    ErrorCode.STOREFRONT_NOT_ALLOWED: 422,
    ErrorCode.COMPANY_NOT_VERIFIED: 409,
    ErrorCode.RETURN_WINDOW_CLOSED: 409,
    ErrorCode.DUPLICATE_SKU: 409,
    ErrorCode.PRODUCT_INCOMPLETE: 422,
}


class DomainError(Exception):
    """A rule refused the request. ``fields`` maps a field name to its messages."""

    def __init__(self, code: ErrorCode, message: str = "", fields: dict | None = None, status: int | None = None):
        self.code = ErrorCode(code)
        self.message = str(message or self.code.value.replace("_", " ").capitalize())
        self.fields = {k: [str(m) for m in (v if isinstance(v, list | tuple) else [v])] for k, v in (fields or {}).items()}
        self.status = status or STATUS.get(self.code, 400)
        super().__init__(self.message)

    def as_dict(self) -> dict:
        return {"error": {"code": self.code.value, "message": self.message, "fields": self.fields}}

    def __repr__(self):
        return f"DomainError({self.code.value!r}, {self.message!r}, {self.fields!r})"


def field_error(field: str, message: str, code: ErrorCode = ErrorCode.VALIDATION) -> DomainError:
    return DomainError(code, message, {field: [message]})
