from .access import roles_of
from .models import Place, Profile


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


def place_names(codes, language: str) -> dict[str, str]:
    """The names of the place codes among ``codes`` in ``language`` (one query); others are absent."""
    return {place.code: place.name(language) for place in Place.objects.filter(code__in={c for c in codes if c})}
