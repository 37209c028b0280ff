from .models import Warehouse


def seed(out, users, **context) -> dict:
    Warehouse.objects.get(code="TAS").operators.add(users["operator_tas"])
    Warehouse.objects.get(code="ALA").operators.add(users["operator_ala"])
    return {}
