"""customs services: documents."""

from __future__ import annotations

import hashlib
import logging

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _

from core.access import BROKER, STAFF, SYSTEM_ACTOR, company_ids, has_role
from core.errors import DomainError, ErrorCode

from ..models import Declaration, DeclarationDocument
from ..states import DeclarationStatus as S

log = logging.getLogger(__name__)

CHANNELS = ("courier", "post", "b2b", "domestic")


# --- documents -------------------------------------------------------------------------------------

_SIGNATURES = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
)


def _sniff(head: bytes) -> tuple[str, str] | None:
    return next(((ctype, ext) for magic, ctype, ext in _SIGNATURES if head.startswith(magic)), None)


def document_upload(*, declaration_id: int, kind: str, file, actor) -> DeclarationDocument:
    """Attach a document (PDF, PNG or JPEG, up to the configured size) to a declaration.

    The type is read from the content, never the name; images are checked to decode.
    """
    content, content_type, ext = _checked_file(kind, file)
    with transaction.atomic():
        declaration = Declaration.objects.select_for_update().filter(pk=declaration_id).first()
        if declaration is None:
            raise DomainError(ErrorCode.NOT_FOUND, _("Declaration not found."))
        if declaration.status in (S.RELEASED, S.REJECTED):
            raise DomainError(ErrorCode.CONFLICT, _("This declaration is closed: no more documents."),
                              {"file": [_("The declaration is closed.")]})
        doc = _stored(declaration, kind, file, content, content_type, ext, actor)
        doc.save()
    return doc


def document_row(declaration: Declaration, kind: str, file, actor) -> DeclarationDocument:
    """The document :func:`document_upload` attaches, checked alike and its file stored, for a
    declaration being filed (not saved: the caller writes its rows together)."""
    content, content_type, ext = _checked_file(kind, file)
    return _stored(declaration, kind, file, content, content_type, ext, actor)


def _stored(declaration, kind, file, content: bytes, content_type: str, ext: str, actor) -> DeclarationDocument:
    doc = DeclarationDocument(declaration=declaration, kind=kind, original_name=(getattr(file, "name", "") or "document")[-200:],
                              content_type=content_type, size=len(content), sha256=hashlib.sha256(content).hexdigest(),
                              extension=ext, uploaded_by=None if actor is SYSTEM_ACTOR else actor)
    doc.file.save(f"{doc.sha256[:16]}{ext}", ContentFile(content), save=False)
    return doc


def _checked_file(kind: str, file) -> tuple[bytes, str, str]:
    if kind not in DeclarationDocument.Kind.values:
        raise DomainError(ErrorCode.VALIDATION, _("Unknown document kind %(kind)s.") % {"kind": repr(kind)},
                          {"kind": [_("One of %(choices)s.") % {"choices": ", ".join(DeclarationDocument.Kind.values)}]})
    if file is None:
        raise DomainError(ErrorCode.INVALID_DOCUMENT, _("Attach a file."), {"file": [_("A file is required.")]})
    limit = settings.CUSTOMS_DOCUMENT_MAX_BYTES
    if file.size > limit:
        raise DomainError(ErrorCode.INVALID_DOCUMENT, _("The file is over %(mb)s MB.") % {"mb": limit // (1024 * 1024)},
                          {"file": [_("At most %(mb)s MB.") % {"mb": limit // (1024 * 1024)}]})
    content = file.read(limit + 1)
    if not content:
        raise DomainError(ErrorCode.INVALID_DOCUMENT, _("The file is empty."), {"file": [_("The file is empty.")]})
    if len(content) > limit:
        raise DomainError(ErrorCode.INVALID_DOCUMENT, _("The file is too large."), {"file": [_("Too large.")]})
    sniffed = _sniff(content[:16])
    if sniffed is None:
        raise DomainError(ErrorCode.INVALID_DOCUMENT, _("Documents must be PDF, PNG or JPEG files."),
                          {"file": [_("PDF, PNG or JPEG only.")]})
    content_type, ext = sniffed
    if content_type.startswith("image/"):
        _check_image(content)
    elif b"%%EOF" not in content[-2048:]:
        raise DomainError(ErrorCode.INVALID_DOCUMENT, _("The PDF is truncated."), {"file": [_("The PDF is incomplete.")]})
    return content, content_type, ext


def _check_image(content: bytes) -> None:
    import io

    from PIL import Image

    try:
        with Image.open(io.BytesIO(content)) as image:
            if image.width * image.height > settings.CUSTOMS_DOCUMENT_MAX_PIXELS:
                raise DomainError(ErrorCode.INVALID_DOCUMENT, _("The image is too large."), {"file": [_("Too many pixels.")]})
            image.verify()
    except DomainError:
        raise
    except Exception:  # noqa: BLE001 - Pillow raises many types for a broken file; all mean the same to the user
        raise DomainError(ErrorCode.INVALID_DOCUMENT, _("The image cannot be read."),
                          {"file": [_("Broken or truncated image.")]}) from None


def may_act(user) -> bool:
    return has_role(user, BROKER) or has_role(user, STAFF)


def sees_payer(user, declaration: Declaration) -> bool:
    if declaration.payer_kind == "company":
        return declaration.payer_id in company_ids(user)
    return declaration.payer_kind == "user" and declaration.payer_id == getattr(user, "pk", None)
