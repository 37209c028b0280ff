from .access import roles_of
from .models import Profile


def me(user) -> dict:
    profile = Profile.objects.filter(user=user).select_related("country").first()
    return {
        "id": user.pk,
        "username": user.get_username(),
        "roles": sorted(roles_of(user)),
        "country": profile.country_id if profile else None,
        "city": profile.city if profile else "",
        "language": profile.language if profile else "",
    }
