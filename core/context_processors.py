from django.conf import settings

from .access import roles_of


def karavan(request):
    user = getattr(request, "user", None)
    return {"roles": roles_of(user), "DEMO": settings.DEMO}
