from django.shortcuts import render

from .selectors import storefront_list


def home(request):
    storefronts = list(storefront_list(user=request.user))
    return render(request, "marketplace/home.html", {
        "pavilions": [s for s in storefronts if s.kind == "pavilion"],
        "china_goods": [s for s in storefronts if s.kind == "china_goods"],
    })
