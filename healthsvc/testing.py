"""Helpers shared by the tests."""


def assert_error(response, status: int, code: str) -> dict:
    """The response is the contract's error envelope with this status and code; returns the body."""
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error_code"] == code and body["detail"], body
    return body


def force_login_verified(client, user):
    """Log `client` in as `user` with a session that passed two-factor, as the
    admin requires (a confirmed TOTP device, remembered in the session)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client.force_login(user)
    device, _ = TOTPDevice.objects.get_or_create(user=user, name="test authenticator", defaults={"confirmed": True})
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def audit_statements(rows: int = 1) -> int:
    """What writing `rows` audit rows costs in statements on this database
    (audit/chain.py), for the query budgets of the audited paths."""
    from django.db import connection

    from audit.chain import STATEMENTS_PER_ROW

    return rows * STATEMENTS_PER_ROW[connection.vendor]
