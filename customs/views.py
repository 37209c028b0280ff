"""The broker's declarations queue: thin views over the selectors and services."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.access import get_visible
from core.errors import DomainError
from core.money import Money
from core.texts import country_name, render_all

from . import selectors, services
from .forms import ActionForm, DocumentForm, QueueFilterForm
from .labels import localized_breakdown, regime_label
from .models import Declaration, DeclarationDocument
from .states import ACTION_LABELS, BROKER_ACTIONS, actions_for


def _broker(request):
    if not services.may_act(request.user):
        raise PermissionDenied


@login_required
def queue(request):
    _broker(request)
    form = QueueFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    qs = selectors.declarations(request.user, **{k: v for k, v in filters.items() if v})
    page = Paginator(qs.prefetch_related("lines"), 25).get_page(request.GET.get("page"))
    counts = selectors.status_counts(request.user)
    tabs = [(value, label, counts.get(value, 0)) for value, label in Declaration.Status.choices]
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "customs/queue.html", {
        "form": form, "page": page, "tabs": tabs, "current": filters.get("status") or "", "query": query.urlencode(),
        "rows": [(d, Money(d.total_minor, d.currency)) for d in page],
    })


@login_required
def detail(request, pk):
    _broker(request)
    declaration = get_visible(request.user, selectors.with_details(Declaration.objects.all()), pk=pk)
    actions = [(name, ACTION_LABELS[name], BROKER_ACTIONS[name][1]) for name in actions_for(declaration.status, request.user)]
    labels = dict(Declaration.Status.choices)
    money = {k: Money(getattr(declaration, f"{k}_minor"), declaration.currency) for k in ("customs_value", "duty", "vat", "excise", "fees")}
    breakdown = [{**item, "base": Money.from_api(item["base"]), "amount": Money.from_api(item["amount"])}
                 for item in localized_breakdown(declaration.breakdown)]
    timeline = selectors.timeline(declaration)
    rejection = next((e.note for e in reversed(timeline) if e.status == "rejected" and e.note), declaration.rejection_reason)
    return render(request, "customs/detail.html", {
        "d": declaration, "regime": regime_label(declaration.regime), "actions": actions, "money": money, "total": Money(declaration.total_minor, declaration.currency),
        "breakdown": breakdown, "warnings": render_all(declaration.warnings), "rejection": rejection,
        "country": country_name(declaration.importer_country, get_language()),
        "timeline": [(e, labels.get(e.status, e.status)) for e in timeline], "document_form": DocumentForm(),
        "lines": [(line, Money(line.value_minor, line.currency)) for line in declaration.lines.all()],
        "closed": declaration.status in ("released", "rejected"),
    })


@login_required
@require_POST
def act(request, pk):
    _broker(request)
    declaration = get_visible(request.user, Declaration.objects.all(), pk=pk)
    form = ActionForm(request.POST)
    if form.is_valid():
        try:
            services.declaration_act(declaration_id=declaration.pk, action=form.cleaned_data["action"],
                                     reason=form.cleaned_data["reason"], actor=request.user)
            messages.success(request, _("Done: %(action)s.") % {"action": ACTION_LABELS.get(form.cleaned_data["action"], "")})
        except DomainError as exc:
            messages.error(request, " ".join([exc.message, *[m for msgs in exc.fields.values() for m in msgs]]))
    return redirect("customs:detail", pk=declaration.pk)


@login_required
@require_POST
def upload(request, pk):
    _broker(request)
    declaration = get_visible(request.user, Declaration.objects.all(), pk=pk)
    form = DocumentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.document_upload(declaration_id=declaration.pk, kind=form.cleaned_data["kind"],
                                     file=form.cleaned_data["file"], actor=request.user)
            messages.success(request, _("Document attached."))
        except DomainError as exc:
            messages.error(request, " ".join([exc.message, *[m for msgs in exc.fields.values() for m in msgs]]))
    else:
        messages.error(request, _("Choose a document type and a file."))
    return redirect("customs:detail", pk=declaration.pk)


@login_required
def document(request, pk, doc_pk):
    doc = get_visible(request.user, DeclarationDocument.objects.all(), pk=doc_pk, declaration_id=pk)
    return FileResponse(doc.file.open("rb"), content_type=doc.content_type, as_attachment=False, filename=doc.original_name)
