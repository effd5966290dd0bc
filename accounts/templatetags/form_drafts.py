"""`{% form_draft_field %}`: the hidden, signed token that lets a form sent
after the session ended be kept for its user (accounts.decorators.keeps_form_when_signed_out)."""

from django import template
from django.utils.html import format_html

from accounts.decorators import DRAFT_FIELD
from accounts.services import form_draft_token

register = template.Library()


@register.simple_tag(takes_context=True)
def form_draft_field(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return ""
    return format_html('<input type="hidden" name="{}" value="{}">', DRAFT_FIELD,
                       form_draft_token(user=user, page=request.path))
