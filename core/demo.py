"""Demo accounts, one per role. Other apps add their part in their own demo.py."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from .access import GROUP_ROLES
from .models import Profile

PASSWORD = "karavan-demo"

# username: (role, country, city, currency, language, description)
ACCOUNTS = {
    "admin": ("staff", "CN", "Beijing", "CNY", "en", "platform staff (Django admin)"),
    "buyer_cn": ("buyer", "CN", "Urumqi", "CNY", "zh-hans", "buyer in Urumqi, CNY wallet"),
    "buyer_uz": ("buyer", "UZ", "Tashkent", "UZS", "uz", "buyer in Tashkent, UZS wallet"),
    "buyer_kz": ("buyer", "KZ", "Almaty", "KZT", "ru", "buyer in Almaty, KZT wallet"),
    "seller_kz": ("seller", "KZ", "Almaty", "KZT", "ru", "Kazakh honey and dried fruit, kz pavilion"),
    "seller_uz": ("seller", "UZ", "Tashkent", "UZS", "uz", "Uzbek textiles, uz pavilion"),
    "seller_cn": ("seller", "CN", "Shenzhen", "CNY", "zh-hans", "Chinese electronics on cn-uz and cn-kz"),
    "operator_tas": ("operator", "UZ", "Tashkent", "UZS", "ru", "Tashkent bonded warehouse (TAS)"),
    "operator_ala": ("operator", "KZ", "Almaty", "KZT", "ru", "Almaty bonded warehouse (ALA)"),
    "broker": ("broker", "KZ", "Almaty", "KZT", "ru", "customs broker"),
}


def seed(out, **context) -> dict:
    User = get_user_model()
    groups = {name: Group.objects.get_or_create(name=name)[0] for name in GROUP_ROLES}
    users = {}
    for username, (role, country, city, currency, language, _) in ACCOUNTS.items():
        user, created = User.objects.get_or_create(username=username, defaults={"email": f"{username}@demo.karavan"})
        if created:
            user.set_password(PASSWORD)
        user.is_staff = user.is_superuser = role == "staff"
        user.save()
        if role in groups:
            user.groups.add(groups[role])
        Profile.objects.update_or_create(
            user=user, defaults={"country_id": country, "city": city, "currency_id": currency, "language": language}
        )
        users[username] = user
    return {"users": users}
