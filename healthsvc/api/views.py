"""What every API view shares."""

from rest_framework.exceptions import MethodNotAllowed


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
