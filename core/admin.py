"""Admin base classes: every app's admin lists only what core.access lets the user see, and the
read-only ones (ledgers, reference data) change only through services or reference/."""

from django.contrib import admin

from .access import visible


class ScopedAdmin(admin.ModelAdmin):
    def get_queryset(self, request):
        return visible(request.user, super().get_queryset(request))


class ReadOnlyAdmin(ScopedAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
