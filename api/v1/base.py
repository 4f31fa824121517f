"""What every v1 view shares: token or session auth, the permission map, throttling, the
cursor pagination, and ``run_service`` (parse -> service -> representation)."""

from __future__ import annotations

from django.http import Http404
from rest_framework import views, viewsets

from api.pagination import CursorPage
from api.permissions import ActionPermissions
from wms.http import parse_id


class ApiViewSet(viewsets.GenericViewSet):
    lookup_value_converter = "int"
    permission_classes = [ActionPermissions]
    pagination_class = CursorPage
    required_perms: dict[str, tuple[str, ...]] = {}

    def parse(self, serializer_class, data=None, **kwargs) -> dict:
        serializer = serializer_class(data=self.request.data if data is None else data, **kwargs)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def object_id(self) -> int:
        pk = parse_id(self.kwargs.get(self.lookup_url_kwarg or self.lookup_field))
        if pk is None:
            raise Http404
        return pk

    def paged(self, queryset, serializer_class):
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(serializer_class(page, many=True).data)


class ApiView(views.APIView):
    """A single-resource view (keyset-paged reads that are not model lists)."""

    permission_classes = [ActionPermissions]
    required_perms: dict[str, tuple[str, ...]] = {}


def filtered(filterset_class, queryset, request, **kwargs):
    """The FilterSet the screen uses, bound to the query string; invalid input -> 400 with the
    filter's own messages (the one error body)."""
    from rest_framework.exceptions import ValidationError

    filterset = filterset_class(request.query_params or None, queryset=queryset, **kwargs)
    if filterset.is_bound and not filterset.is_valid():
        raise ValidationError({k: list(v) for k, v in filterset.errors.items()})
    return filterset


def _filter_schema(f) -> dict:
    import django_filters

    if isinstance(f, django_filters.ModelChoiceFilter):
        return {"type": "integer", "minimum": 1}
    if isinstance(f, django_filters.BooleanFilter):
        return {"type": "boolean"}
    if isinstance(f, django_filters.DateFilter):
        return {"type": "string", "format": "date"}
    if isinstance(f, django_filters.ChoiceFilter):
        choices = f.extra.get("choices")
        values = [
            str(value) for value, _label in (choices() if callable(choices) else choices or [])
        ]
        return {"type": "string", "enum": values} if values else {"type": "string"}
    return {"type": "string", "maxLength": 100}


def filter_parameters(filterset_class, *extra):
    """OpenAPI query parameters for a FilterSet's declared filters, typed from the filters."""
    from drf_spectacular.utils import OpenApiParameter

    params = [
        OpenApiParameter(name, _filter_schema(f), description=str(getattr(f, "label", "") or name))
        for name, f in filterset_class.base_filters.items()
    ]
    return [*params, *extra]


def parse_form(form_class, data, **kwargs) -> dict:
    """``bound_form(...).cleaned_data``."""
    return bound_form(form_class, data, **kwargs).cleaned_data


def bound_form(form_class, data, **kwargs):
    """Validate a JSON object with the screen's own Django form (its fields, lengths and
    rules), so the API and the screen accept exactly the same input. Unknown fields, nested
    values and booleans for non-boolean fields are refused; the form's errors become the one
    error body (400)."""
    from django import forms
    from django.core.exceptions import NON_FIELD_ERRORS
    from django.utils.translation import gettext as _
    from rest_framework.exceptions import ValidationError

    if not isinstance(data, dict):
        raise ValidationError({"non_field_errors": [_("Send a JSON object.")]})
    form = form_class(data={k: ("" if v is None else v) for k, v in data.items()}, **kwargs)
    errors: dict[str, list[str]] = {}
    for key, value in data.items():
        field = form.fields.get(key)
        if field is None:
            errors[str(key)] = [_("Unknown field.")]
        elif isinstance(value, dict | list) or (
            isinstance(value, bool) and not isinstance(field, forms.BooleanField)
        ):
            errors[str(key)] = [_("Send a single value.")]
    if errors:
        raise ValidationError(errors)
    if not form.is_valid():
        raise ValidationError(
            {
                ("non_field_errors" if name == NON_FIELD_ERRORS else name): [str(m) for m in msgs]
                for name, msgs in form.errors.items()
            }
        )
    return form
