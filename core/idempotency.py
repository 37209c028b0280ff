"""Idempotency keys for unsafe API requests.

The key is claimed in its own short transaction (so that a concurrent duplicate sees it and gets
409 ``idempotency_key_in_flight``); the effect and the stored response are then written in one
transaction, so a stored response always means the effect happened, and a failure leaves neither.
Only successful (2xx) responses are kept for replay: an error releases the key so the client can
correct the request and retry with the same key. A replay is the first response byte for byte: its
rendered body, status and headers, not its data rendered again.
"""

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpResponse, HttpResponseBase
from django.utils import timezone

from .errors import DomainError, ErrorCode
from .models import IdempotencyKey

# A claim older than this is taken to belong to a crashed request and may be taken over.
ABANDONED_AFTER = timedelta(minutes=10)
MAX_KEY_LENGTH = 255


@dataclass
class Claim:
    row: IdempotencyKey | None = None
    replay: HttpResponse | None = None


def body_hash(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


def claim(*, user, key: str, method: str, path: str, digest: str) -> Claim:
    """Claim ``key`` for this request, or say what to answer instead."""
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise DomainError(ErrorCode.IDEMPOTENCY_KEY_INVALID, "Idempotency-Key must be 1 to 255 printable characters.",
                          {"Idempotency-Key": ["1 to 255 printable characters."]})
    now = timezone.now()
    try:
        with transaction.atomic():
            row = IdempotencyKey.objects.create(
                user=user, key=key, method=method, path=path, body_hash=digest,
                created_at=now, expires_at=now + settings.IDEMPOTENCY_KEY_TTL,
            )
        return Claim(row=row)
    except IntegrityError:
        pass
    with transaction.atomic():
        row = IdempotencyKey.objects.select_for_update().filter(user=user, key=key).first()
        if row is None:  # released meanwhile: claim again
            return claim(user=user, key=key, method=method, path=path, digest=digest)
        if row.expires_at <= now:
            row.delete()
            return claim(user=user, key=key, method=method, path=path, digest=digest)
        if row.body_hash != digest:
            raise DomainError(ErrorCode.IDEMPOTENCY_KEY_REUSED,
                              "This Idempotency-Key was used with a different request.",
                              {"Idempotency-Key": ["Already used with a different request."]})
        if row.status == IdempotencyKey.Status.DONE:
            return Claim(replay=replay(row))
        if now - row.created_at < ABANDONED_AFTER:
            raise DomainError(ErrorCode.IDEMPOTENCY_KEY_IN_FLIGHT,
                              "A request with this Idempotency-Key is still being processed.")
        row.created_at = now
        row.save(update_fields=["created_at"])
        return Claim(row=row)


def complete(row: IdempotencyKey, response: HttpResponseBase) -> None:
    """Store the finalized response as sent; call inside the transaction of the effect."""
    if getattr(response, "streaming", False):
        content = b"".join(response.streaming_content)
        response.streaming_content = [content]
    else:
        if hasattr(response, "render"):
            response.render()
        content = response.content
    IdempotencyKey.objects.filter(pk=row.pk).update(
        status=IdempotencyKey.Status.DONE, response_status=response.status_code,
        response_content=content, response_headers=[[name, value] for name, value in response.items()],
    )


def replay(row: IdempotencyKey) -> HttpResponse:
    response = HttpResponse(bytes(row.response_content or b""), status=row.response_status)
    for name, value in row.response_headers:
        response[name] = value
    response["Idempotent-Replay"] = "true"
    return response


def release(row: IdempotencyKey) -> None:
    IdempotencyKey.objects.filter(pk=row.pk, status=IdempotencyKey.Status.IN_FLIGHT).delete()


def purge_expired() -> int:
    deleted, _ = IdempotencyKey.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted
