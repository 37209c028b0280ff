"""The wallet pages: thin adapters over services and selectors."""

import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.access import SELLER, has_role
from core.errors import DomainError
from core.models import Company

from . import selectors, services
from .access import owner_for
from .forms import ConvertForm, PayoutForm, TopUpForm

STATEMENT_PAGE = 25


def _currency(code: str) -> str:
    code = (code or "").upper()
    if code not in settings.PAYMENTS_CURRENCIES:
        raise Http404
    return code


def _default_currency(request, owner) -> str:
    held = [b.currency for b in selectors.balances(owner=owner) if b.balance.minor]
    if held:
        return held[0]
    profile = getattr(request.user, "profile", None)
    if profile and profile.currency_id in settings.PAYMENTS_CURRENCIES:
        return profile.currency_id
    return settings.PAYMENTS_CURRENCIES[0]


def _url(name: str, currency: str, owner) -> str:
    url = reverse(name, args=[currency])
    return f"{url}?company={owner.id}" if owner.kind == "company" else url


@login_required
def wallet_home(request):
    owner = owner_for(request.user, request.GET.get("company"))
    return redirect(_url("payments:wallet", _default_currency(request, owner), owner))


@login_required
def wallet(request, currency, forms=None):
    currency = _currency(currency)
    owner = owner_for(request.user, request.GET.get("company"))
    all_balances = selectors.balances(owner=owner)
    current = next((b for b in all_balances if b.currency == currency), None) or selectors.balance(owner=owner, currency=currency)
    page = Paginator(selectors.statement(owner=owner, currency=currency), STATEMENT_PAGE).get_page(request.GET.get("page"))
    is_seller = owner.kind == "company" or has_role(request.user, SELLER)
    forms = forms or {}
    fresh = {"idempotency_key": uuid.uuid4().hex}
    context = {
        "owner": owner,
        "company": Company.objects.filter(pk=owner.id).first() if owner.kind == "company" else None,
        "currency": currency,
        "tabs": [(code, next((b for b in all_balances if b.currency == code), None)) for code in settings.PAYMENTS_CURRENCIES],
        "current": current,
        "page": page,
        "convert_form": forms.get("convert") or ConvertForm(currency=currency, initial=fresh),
        "top_up_form": forms.get("top_up") or TopUpForm(currency=currency, initial=fresh),
        "payout_form": forms.get("payout") or PayoutForm(currency=currency, initial=fresh),
        "is_seller": is_seller,
        "payouts": selectors.payouts(owner=owner).filter(currency=currency)[:10] if is_seller else [],
        "spread_percent": services.spread() * 100,
        "company_query": f"?company={owner.id}" if owner.kind == "company" else "",
    }
    status = 400 if any(f.errors for f in forms.values()) else 200
    return render(request, "payments/wallet.html", context, status=status)


def _act(request, currency, form_class, name, action, success):
    """Validate the form, run one service, turn a DomainError into form errors on the same page."""
    currency = _currency(currency)
    owner = owner_for(request.user, request.GET.get("company"))
    form = form_class(request.POST, currency=currency)
    if form.is_valid():
        try:
            result = action(owner, form)
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            messages.success(request, success(result))
            return redirect(_url("payments:wallet", currency, owner))
    return wallet(request, currency, forms={name: form})


def _key(form) -> str:
    return form.cleaned_data.get("idempotency_key") or uuid.uuid4().hex


@login_required
@require_POST
def convert(request, currency):
    def action(owner, form):
        return services.wallet_convert(owner=owner, amount=form.money(), to_currency=form.cleaned_data["to_currency"],
                                       idempotency_key=_key(form), actor=request.user)

    def success(result):
        return _("Converted %(amount)s into %(receive)s.") % {
            "amount": result.quote.amount.format(request.LANGUAGE_CODE), "receive": result.quote.receive.format(request.LANGUAGE_CODE)}

    return _act(request, currency, ConvertForm, "convert", action, success)


@login_required
@require_POST
def top_up(request, currency):
    def action(owner, form):
        return services.wallet_top_up_simulate(owner=owner, amount=form.money(), actor=request.user)

    def success(info):
        return _("Your wallet was topped up with %(amount)s.") % {"amount": info.entries[-1][1].format(request.LANGUAGE_CODE)}

    return _act(request, currency, TopUpForm, "top_up", action, success)


@login_required
@require_POST
def payout(request, currency):
    def action(owner, form):
        return services.payout_request(owner=owner, amount=form.money(), actor=request.user)

    def success(p):
        return _("Payout #%(id)s requested; it is on its way to your bank.") % {"id": p.pk}

    return _act(request, currency, PayoutForm, "payout", action, success)


@login_required
@require_GET
def quote(request, currency):
    """The live quote under the convert form (htmx): what you would receive, at which rate."""
    currency = _currency(currency)
    form = ConvertForm(request.GET, currency=currency)
    context = {"quote": None, "error": None}
    if form.is_valid():
        try:
            context["quote"] = services.conversion_quote(amount=form.money(), to_currency=form.cleaned_data["to_currency"])
        except DomainError as exc:
            context["error"] = exc.message
    elif request.GET.get("amount"):
        context["error"] = "; ".join(str(m) for errors in form.errors.values() for m in errors)
    return render(request, "payments/_quote.html", context)
