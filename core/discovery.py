"""Per-app hooks found by module name (``reference.py``, ``demo.py``), the way Django finds
``admin.py``: each app owns its part, and the commands in core need not know the apps."""

from importlib import import_module

from django.apps import apps


def app_modules(name: str, *, after: dict[str, str] | None = None):
    """(app config, module) for every installed app that has ``<app>.<name>``, in INSTALLED_APPS
    order (the lower layers first). ``after`` moves an app to just after another one."""
    configs = list(apps.get_app_configs())
    for moved, anchor in (after or {}).items():
        by_label = {c.label: c for c in configs}
        if moved in by_label and anchor in by_label:
            configs.remove(by_label[moved])
            configs.insert(configs.index(by_label[anchor]) + 1, by_label[moved])
    for config in configs:
        try:
            module = import_module(f"{config.name}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.{name}":
                raise
            continue
        yield config, module
