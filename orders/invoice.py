"""The seller's commercial invoice of an order as a one-page PDF, attached to the parcel's customs
declaration (a yellow channel asks for it).

Written with the PDF's own text operators and the standard Helvetica font, so it needs no library;
that font holds Latin-1 only, so text in other scripts is shown by its SKU and HS code, which
customs reads anyway.
"""

from __future__ import annotations

FONTS = {"Helvetica": "F1", "Helvetica-Bold": "F2", "Courier": "F3"}


def _text(value) -> str:
    raw = str(value).encode("latin-1", "replace").decode("latin-1")
    return raw.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def render(order) -> bytes:
    company = order.company
    lines = [
        ("Helvetica-Bold", 16, f"Commercial invoice - order {order.pk}"),
        ("Helvetica", 10, f"Seller: {company.name} ({company.country_id}, tax id {company.tax_id})"),
        ("Helvetica", 10, f"Buyer: {order.ship_to_name}, {order.ship_to_city}, {order.ship_to_country_id}"),
        ("Helvetica", 10, f"Date: {order.placed_at:%Y-%m-%d}   Regime: {order.regime}   Currency: {order.currency_id}"),
        ("Helvetica", 10, ""),
        ("Helvetica-Bold", 10, "#  HS code     Qty   Unit price        Total   Description"),
    ]
    for line in sorted(order.lines.all(), key=lambda line: line.position):  # a batch's prefetch, else one query
        unit = order.money(line.unit_price_minor).amount
        total = order.money(line.line_total_minor).amount
        lines.append(("Courier", 9, f"{line.position + 1:<2} {line.hs_code:<10} {line.quantity:>5} {unit:>12} {total:>12}   "
                                    f"{line.title[:40]}"))
    lines += [
        ("Helvetica", 10, ""),
        ("Helvetica-Bold", 10, f"Goods {order.goods.amount}  Shipping {order.shipping.amount}  "
                               f"Duties and taxes prepaid {order.taxes.amount}  Total {order.total.amount} {order.currency_id}"),
    ]
    ops, y = [], 800
    for font, size, text in lines:
        ops.append(f"BT /{FONTS[font]} {size} Tf 50 {y} Td ({_text(text)}) Tj ET")
        y -= size + 8
    stream = "\n".join(ops).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R /F2 6 0 R /F3 7 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Courier /Encoding /WinAnsiEncoding >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)
