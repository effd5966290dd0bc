"""`{% profile_prompt %}`: the notice asking a patient to fill in their medical
profile, shown while it is empty and until they dismiss it for the session."""

from django import template

from accounts.selectors import patient_profile_is_empty

register = template.Library()

# The session key set by accounts.views.profile_prompt_dismiss.
DISMISSED = "profile_prompt_dismissed"


@register.inclusion_tag("accounts/_profile_prompt.html", takes_context=True)
def profile_prompt(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    patient = getattr(user, "patient", None) if user is not None and user.is_authenticated else None
    show = bool(patient is not None and not request.session.get(DISMISSED) and patient_profile_is_empty(patient=patient))
    return {"show": show, "request": request, "csrf_token": context.get("csrf_token")}
