from rest_framework.throttling import SimpleRateThrottle


class PerIpRateThrottle(SimpleRateThrottle):
    """Counts per client IP whether or not the caller is logged in (for login
    and register, which are attacked anonymously). The counts live in the
    default cache: Redis in production, so every app server shares them."""

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class LoginRateThrottle(PerIpRateThrottle):
    scope = "login"


class RegisterRateThrottle(PerIpRateThrottle):
    scope = "register"
