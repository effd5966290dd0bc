"""What every API view shares."""

from rest_framework.exceptions import MethodNotAllowed
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response


class MethodCheckedMixin:
    """Answer a method the view does not implement with 405 METHOD_NOT_ALLOWED
    (and its Allow header) before authentication, permissions and throttles
    run: DRF checks permissions first, so a TRACE or PUT on a read-only
    resource came back as 401/403, as if the method existed for someone."""

    def initial(self, request, *args, **kwargs):
        method = request.method.lower()
        if method not in self.http_method_names or not hasattr(self, method):
            raise MethodNotAllowed(request.method)
        super().initial(request, *args, **kwargs)


class JsonErrorsMixin:
    """For a view whose answer is a document of another format (a calendar
    file, given to Response as text): every other answer, the error envelope
    and OPTIONS' description, is still JSON, whatever the Accept header chose
    (including the 406 for an Accept that excludes the document's format)."""

    def finalize_response(self, request, response, *args, **kwargs):
        if isinstance(response, Response) and not isinstance(response.data, str):
            request.accepted_renderer, request.accepted_media_type = JSONRenderer(), JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)
