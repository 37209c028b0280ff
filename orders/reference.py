"""Return windows per destination country: consumer law for a change of mind, the platform's
30 days for a fault. Days after delivery."""

from .models import ReturnWindow

CHANGED_MIND = [
    # country, days, excluded category slugs, source
    ("CN", 7, "fresh-food", "PRC Consumer Rights Protection Law, art. 25 (7 days without reason for distance "
                            "sales; fresh or perishable goods and custom-made goods excluded)"),
    ("KZ", 14, "", "Law of the Republic of Kazakhstan on consumer protection, art. 30 (14 days)"),
    ("KG", 14, "", "Law of the Kyrgyz Republic on consumer protection (14 days)"),
    ("UZ", 10, "", "Law of the Republic of Uzbekistan on consumer protection, art. 14 (10 days)"),
    ("TJ", 14, "", "Platform policy until the national rule is verified"),
    ("TM", 14, "", "Platform policy until the national rule is verified"),
]
FAULT_DAYS = 30


def load() -> dict[str, int]:
    for country, days, excluded, source in CHANGED_MIND:
        ReturnWindow.objects.update_or_create(country_id=country, kind=ReturnWindow.Kind.CHANGED_MIND,
                                              defaults={"days": days, "excluded_categories": excluded, "source": source})
        ReturnWindow.objects.update_or_create(country_id=country, kind=ReturnWindow.Kind.FAULT,
                                              defaults={"days": FAULT_DAYS, "source": "Karavan return policy: 30 days "
                                                                                       "for a defective, wrong or "
                                                                                       "misdescribed item"})
    return {"return windows": ReturnWindow.objects.count()}
