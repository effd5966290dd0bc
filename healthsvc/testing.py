"""Assertions shared by the API tests."""


def assert_error(response, status: int, code: str) -> dict:
    """The response is the contract's error envelope with this status and code; returns the body."""
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error_code"] == code and body["detail"], body
    return body
