"""Demo declarations in different states for the broker's queue. Idempotent (by reference)."""

from datetime import date
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile

from core.access import SYSTEM_ACTOR
from core.money import Money

from . import services
from .interface import DeclarationLineInput, ParcelInput
from .models import Declaration, TariffLine

DEMO_IIN = "900307400102"  # valid check digit; a made-up person born 1990-03-07
DEMO_SOURCE = "Demo rate for trying the platform: not verified, replace with the national tariff line before use."

TARIFF = [
    # hs, country, description, duty %
    ("851713", "KZ", "Smartphones", "0"),
    ("851713", "UZ", "Smartphones", "0"),
    ("847130", "KZ", "Laptops and tablets", "0"),
    ("610910", "UZ", "Cotton T-shirts", "10"),
    ("851830", "KZ", "Headphones", "5"),
]


def _pdf(title: str) -> bytes:
    text = title.replace("(", "").replace(")", "")
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = b"%PDF-1.4\n", []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1) + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out


def _line(hs, description, qty, kg, value, currency):
    return DeclarationLineInput(hs_code=hs, description=description, quantity=qty, weight_kg=Decimal(kg),
                                value=Money.of(value, currency), origin_country="CN")


def _drive(info, *, invoice: bool, steps: list, broker):
    declaration = Declaration.objects.get(pk=info.id)
    if declaration.status != "draft":
        return
    if invoice:
        services.document_upload(declaration_id=info.id, kind="invoice", actor=broker,
                                 file=SimpleUploadedFile(f"invoice-{info.reference}.pdf", _pdf(f"Commercial invoice {info.reference}")))
        services.document_upload(declaration_id=info.id, kind="packing_list", actor=broker,
                                 file=SimpleUploadedFile(f"packing-{info.reference}.pdf", _pdf(f"Packing list {info.reference}")))
    for step in steps:
        if step == "submit":
            services.declaration_submit(declaration_id=info.id, actor=broker)
        elif step == "register":
            services.gateway_register(declaration_id=info.id)
        elif step == "poll":
            services.gateway_poll(declaration_id=info.id)
        else:
            action, reason = step
            services.declaration_act(declaration_id=info.id, action=action, reason=reason, actor=broker)


def seed(out, users=None, **context) -> dict:
    users = users or {}
    broker = users.get("broker") or SYSTEM_ACTOR
    for hs, country, description, duty in TARIFF:
        TariffLine.objects.get_or_create(hs_code=hs, country=country, effective_from=date(2020, 1, 1),
                                         defaults={"description": description, "duty_percent": Decimal(duty), "source": DEMO_SOURCE})
    plans = [
        ("DEMO-TAS-REL-001", "release_from_bond", "UZ", [_line("851713", "Smartphones X1", 200, "70.000", "120000000", "UZS")],
         "70.000", None, False, ["submit", "register", "poll"]),  # no invoice → documents requested
        ("DEMO-ALA-REL-002", "release_from_bond", "KZ", [_line("847130", "Laptops L14", 40, "80.000", "12000000", "KZT")],
         "80.000", "104.000", True, ["submit", "register", "poll"]),  # 30% heavier than declared → inspection
        ("DEMO-ALA-IMP-007", "import", "KZ", [_line("851713", "Smartphones X1", 500, "175.000", "3000000", "KZT"),
                                              _line("851830", "Earbuds", 1000, "60.000", "1500000", "KZT")],
         "235.000", "235.000", True, ["submit", "register", "poll", "poll"]),  # green, nothing due on entry → released
        ("DEMO-TAS-REL-004", "release_from_bond", "UZ", [_line("610910", "Cotton T-shirts", 300, "60.000", "36000000", "UZS")],
         "60.000", "60.500", True, ["submit", "register", "poll"]),  # green → assessed, awaiting payment
        ("DEMO-PCL-KZ-005", "parcel", "KZ", [_line("851830", "Headphones", 1, "0.400", "145000", "KZT")],
         "0.400", None, False, []),  # a draft
        ("DEMO-ALA-REL-006", "release_from_bond", "KZ", [_line("851830", "Headphones", 100, "40.000", "6000000", "KZT")],
         "40.000", None, False, ["submit", "register", "poll", ("reject", "Invoice was not provided within 10 days")]),
    ]
    for reference, kind, country, lines, declared, recorded, invoice, steps in plans:
        parcel = None
        if kind == "parcel":  # a courier's parcel of a buyer in Almaty, declared by hand
            parcel = ParcelInput(regime="eaeu_ecommerce", prepaid=Money.zero(lines[0].value.currency),
                                 recipient_name="Aigerim Nurlanovna", recipient_id=DEMO_IIN)
        info = services.declaration_create(kind=kind, reference=reference, importer_country=country, lines=lines,
                                           declared_weight_kg=Decimal(declared), recorded_weight_kg=recorded, actor=broker,
                                           parcel=parcel)
        _drive(info, invoice=invoice, steps=steps, broker=broker)
    out.write(f"customs: {Declaration.objects.filter(reference__startswith='DEMO-').count()} demo declarations")
    return {}
