"""Customs refusals in the reader's language: every message and field message is marked for
translation, and the catalogues of the five languages hold a translation of each."""

import ast
import gettext
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from .test_api import QUOTE

CUSTOMS = Path(__file__).resolve().parents[2] / "customs"

# A CBEC order into China with an HS code that has neither a reference row nor a staff rate.
UNKNOWN_HS = {**QUOTE, "origin_country": "KZ", "destination_country": "CN", "currency": "CNY",
              "shipping": {"amount": "0.00", "currency": "CNY"}, "insurance": {"amount": "0.00", "currency": "CNY"},
              "lines": [{**QUOTE["lines"][0], "hs_code": "851712", "unit_price": {"amount": "100.00", "currency": "CNY"}}]}


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "message", "field"), [
    ("ru", "Кода ТН ВЭД 851712 нет в справочнике, и сотрудники не ввели для него ставку для CN.",
     "Нет в справочнике: сначала сотрудники должны ввести для него ставку."),
    ("kk", "851712 СЭҚ ТН коды анықтамалықта жоқ және қызметкерлер оған CN үшін мөлшерлеме енгізбеген.",
     "Анықтамалықта жоқ: алдымен қызметкерлер оған мөлшерлеме енгізуі керек."),
    ("uz", "851712 TIF TN kodi ma’lumotnomada yo‘q va xodimlar u uchun CN bo‘yicha stavka kiritmagan.",
     "Ma’lumotnomada yo‘q: avval xodimlar u uchun stavka kiritishi kerak."),
    ("zh-hans", "HS 编码 851712 不在参考清单中，工作人员也未录入其在 CN 的税率。", "不在参考清单中：须先由工作人员录入税率。"),
    ("en", "HS code 851712 is not in the reference list and has no staff-entered rate for CN.",
     "Not in the reference list: staff must enter a rate for it first."),
])
def test_an_unknown_hs_code_is_refused_in_the_readers_language(api, tariff, language, message, field):
    response = api.post("/api/v1/customs/quote/", UNKNOWN_HS, format="json", HTTP_ACCEPT_LANGUAGE=language)

    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid_hs_code"
    assert error["message"] == message
    assert error["fields"] == {"lines.0.hs_code": [field]}


@pytest.mark.django_db
def test_a_field_check_answers_in_russian_with_its_value(api, tariff):
    body = {**QUOTE, "lines": [{**QUOTE["lines"][0], "hs_code": "85171"}]}
    response = api.post("/api/v1/customs/quote/", body, format="json", HTTP_ACCEPT_LANGUAGE="ru")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["message"] == "Код ТН ВЭД '85171' должен состоять из 6–10 цифр."
    assert error["fields"] == {"lines.0.hs_code": ["Код ТН ВЭД состоит из 6–10 цифр."]}


def _marked(node) -> bool:
    """A message is a variable, _("..."), or _("...") % {...}: never a bare or f-string literal."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        node = node.left
    if isinstance(node, ast.IfExp):
        return _marked(node.body) and _marked(node.orelse)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("_", "gettext"):
        return len(node.args) == 1 and isinstance(node.args[0], ast.Constant)
    return isinstance(node, ast.Name | ast.Attribute | ast.Subscript)


def test_every_customs_refusal_is_marked_for_translation():
    unmarked = []
    for path in sorted(CUSTOMS.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("DomainError", "field_error")):
                continue
            messages = list(node.args[1:2])  # DomainError(code, message, fields), field_error(field, message)
            fields = node.args[2:3] if node.func.id == "DomainError" else []
            for field_map in fields:
                if isinstance(field_map, ast.Dict):
                    for value in field_map.values:
                        messages += value.elts if isinstance(value, ast.List) else [value]
            unmarked += [f"{path.relative_to(CUSTOMS.parent)}:{m.lineno}" for m in messages if not _marked(m)]
    assert unmarked == []


@pytest.mark.parametrize("language", ["ru", "kk", "uz", "zh_Hans"])
def test_the_customs_catalogue_translates_every_message(language):
    with open(CUSTOMS / "locale" / language / "LC_MESSAGES" / "django.po", "rb") as fh:
        catalogue = read_po(fh)
    missing = [m.id for m in catalogue if m.id and (not m.string or m.fuzzy)]
    assert missing == []
    # ... and the compiled catalogue is the one in use: the same translation of every message.
    with open(CUSTOMS / "locale" / language / "LC_MESSAGES" / "django.mo", "rb") as fh:
        compiled = gettext.GNUTranslations(fh)._catalog
    stale = [m.id for m in catalogue if m.id and isinstance(m.id, str)
             and compiled.get(f"{m.context}\x04{m.id}" if m.context else m.id) != m.string]
    assert stale == []
