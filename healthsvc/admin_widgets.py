"""Admin widgets shared by every app's admin."""

from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import ValidationError
from django.db import connection


class SafeAutocompleteSelect(AutocompleteSelect):
    """The admin's search-as-you-type select, which renders a chosen value by
    looking it up: Django looks up whatever the request carried, so
    `?doctor=abc` (or an id beyond the database's integers) on an add form
    was a 500. Values that are no key of the related model are left out,
    and the field's own validation says what is wrong with them."""

    def optgroups(self, name, value, attr=None):
        return super().optgroups(name, [v for v in value if self._is_key(v)], attr)

    def _is_key(self, value) -> bool:
        target = self.field.target_field
        try:
            key = target.to_python(value)
        except (ValidationError, TypeError, ValueError):
            return False
        if isinstance(key, int):
            low, high = connection.ops.integer_field_range(target.get_internal_type())
            return (low is None or low <= key) and (high is None or key <= high)
        return True


class SafeAutocompleteMixin:
    """A ModelAdmin whose `autocomplete_fields` use SafeAutocompleteSelect."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = SafeAutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
