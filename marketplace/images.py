"""Photo intake: what comes in is distrusted, what goes out is re-encoded by us.

The format is read from the content (Pillow's decoders, restricted to JPEG, PNG and WebP), never
from the name or the declared type. Size and pixel limits are checked before any pixel is decoded,
so a decompression bomb is refused from its header. The pixels are then decoded in full (a
truncated file fails here), turned upright by their EXIF orientation and written anew as WebP,
which leaves every metadata block (EXIF, GPS, XMP, ICC comments) behind.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from core.errors import DomainError, ErrorCode

ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP")


@dataclass(frozen=True)
class Encoded:
    data: bytes
    width: int
    height: int


def _refuse(message: str) -> DomainError:
    return DomainError(ErrorCode.INVALID_IMAGE, message, {"image": [message]})


def read_upload(upload) -> bytes:
    """The bytes of an uploaded file, refusing it as soon as it passes the size limit."""
    limit = settings.MARKETPLACE_IMAGE_MAX_BYTES
    if upload is None:
        raise _refuse(_("Choose a photo to upload."))
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise _refuse(_("The photo is larger than %(mb)s MB.") % {"mb": limit // (1024 * 1024)})
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise _refuse(_("The photo is larger than %(mb)s MB.") % {"mb": limit // (1024 * 1024)})
    if not data:
        raise _refuse(_("The file is empty."))
    return data


def normalize(data: bytes) -> Encoded:
    """Check ``data`` is a whole JPEG, PNG or WebP within the limits; return it re-encoded."""
    max_pixels = settings.MARKETPLACE_IMAGE_MAX_PIXELS
    try:
        with warnings.catch_warnings():
            # Pillow warns (rather than fails) between MAX_IMAGE_PIXELS and twice that: refuse both.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
            width, height = probe.size
            if width * height > max_pixels:
                raise _refuse(_("The photo has too many pixels (at most %(mp)s megapixels).")
                              % {"mp": max_pixels // 1_000_000})
            if min(width, height) < settings.MARKETPLACE_IMAGE_MIN_SIDE:
                raise _refuse(_("The photo is too small: at least %(px)s pixels on each side.")
                              % {"px": settings.MARKETPLACE_IMAGE_MIN_SIDE})
            probe.verify()  # structure and checksums (PNG CRCs), without decoding
            image = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
            image.load()  # decodes every pixel: a truncated file fails here
    except DomainError:
        raise
    except UnidentifiedImageError:
        raise _refuse(_("This file is not a JPEG, PNG or WebP photo.")) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _refuse(_("The photo has too many pixels (at most %(mp)s megapixels).")
                      % {"mp": max_pixels // 1_000_000}) from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise _refuse(_("The photo is damaged or incomplete: please export it again.")) from None
    image = ImageOps.exif_transpose(image)
    return Encoded(_encode(image), image.width, image.height)


def _encode(image: Image.Image, width: int | None = None) -> bytes:
    if image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA" if "A" in image.getbands() or "transparency" in image.info else "RGB")
    if width and image.width > width:
        image = image.resize((width, max(1, round(image.height * width / image.width))), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    # A fresh save with no exif/icc arguments: nothing of the upload's metadata survives.
    image.save(out, "WEBP", quality=settings.MARKETPLACE_IMAGE_QUALITY, method=4)
    return out.getvalue()


def thumbnail(data: bytes, width: int) -> bytes:
    """A thumbnail ``width`` wide of an image we encoded ourselves."""
    with Image.open(io.BytesIO(data), formats=("WEBP",)) as image:
        image.load()
        return _encode(image, width)
