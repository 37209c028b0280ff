from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def demo_secrets(app_configs, **kwargs):
    errors = []
    if settings.PRODUCTION and "insecure" in settings.SECRET_KEY:
        errors.append(Error("SECRET_KEY is the demo key.", id="karavan.E001"))
    if settings.PRODUCTION and settings.PAYMENT_WEBHOOK_SECRETS.get("simulator") == "karavan-simulator-secret":
        errors.append(Error("The payment simulator's demo secret is set in production.", id="karavan.E002"))
    return errors
