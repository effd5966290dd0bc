"""Where an audited action comes from: the entry point (API, portal, admin,
a management command, a task), the client's address and the request id.

audit.middleware.AuditContextMiddleware sets it for each request; tasks run inside
`audit_context(entry_point="task")`; anything else (a management command,
the shell) is a command. The actor is resolved when a row is written: the
`by=` a service was given, else the request's authenticated user (DRF
authenticates inside the view and sets it on the underlying request).
"""

import contextlib
from contextvars import ContextVar
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class AuditContext:
    entry_point: str
    ip: str | None = None
    request_id: str = ""
    request: object | None = None

    @property
    def user(self):
        user = getattr(self.request, "user", None)
        return user if user is not None and user.is_authenticated else None


_COMMAND = AuditContext(entry_point="command")
_current: ContextVar[AuditContext] = ContextVar("audit_context", default=_COMMAND)


def current() -> AuditContext:
    return _current.get()


def entry_point_of(request) -> str:
    path = request.path
    if path.startswith("/api/"):
        return "api"
    if path.startswith("/admin/"):
        return "admin"
    return "portal"


@contextlib.contextmanager
def audit_context(**changes):
    """Run the block with these context fields changed (a task keeps the
    request id of the request that queued it, when run in that process)."""
    token = _current.set(replace(_current.get(), **changes))
    try:
        yield
    finally:
        _current.reset(token)


def set_current(context: AuditContext):
    return _current.set(context)


def reset_current(token) -> None:
    _current.reset(token)
