"""API tokens: shown once, stored hashed, revocable, acting with the user's permissions."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django_scopes import scopes_disabled

from opencdmo.accounts import services
from opencdmo.accounts.models import ApiToken


def _api(secret: str, path: str = "/api/v1/me") -> Any:
    return Client().get(path, HTTP_AUTHORIZATION=f"Bearer {secret}")


def test_token_created_on_page_is_shown_once(world: Any, client_for: Any) -> None:
    """The secret appears in the creation response only; the list shows its prefix."""
    user = world.user("alpha-bio", "cdmo_planner")
    client = client_for(user)
    response = client.post("/account/tokens/", {"name": "MES integration", "scope": "read"})
    secret = response.context["new_secret"]
    assert secret.startswith("ocd_")
    assert secret.encode() in response.content
    again = client.get("/account/tokens/")
    assert secret.encode() not in again.content
    assert b"MES integration" in again.content


def test_token_is_stored_as_digest(world: Any) -> None:
    """The database never holds the secret itself."""
    token, secret = services.issue_token(world.user("sponsor-one", "sponsor_viewer"), "ci")
    with scopes_disabled():
        stored = ApiToken.objects.get(pk=token.pk)
    assert secret not in (stored.digest, stored.prefix)
    assert len(stored.digest) == 64


def test_token_acts_as_its_user(world: Any) -> None:
    """A bearer token authenticates as its user with exactly that user's permissions."""
    user = world.user("alpha-bio", "cdmo_qa")
    _, secret = services.issue_token(user, "lims")
    body = _api(secret).json()
    assert body["username"] == user.username
    assert body["authenticated_by"] == "token"
    assert set(body["permissions"]) == set(user.permissions)
    assert body["organisation"]["slug"] == "alpha-bio"


def test_revoked_token_is_refused(world: Any, client_for: Any) -> None:
    """After revocation the token answers 401 with the reason."""
    user = world.user("sponsor-one", "sponsor_manager")
    token, secret = services.issue_token(user, "script")
    assert _api(secret).status_code == 200
    response = client_for(user).post(f"/account/tokens/{token.pk}/revoke/")
    assert response.status_code == 302
    refused = _api(secret)
    assert refused.status_code == 401
    assert refused.json() == {"detail": "This API token has been revoked."}


def test_unknown_and_malformed_tokens_are_refused(world: Any) -> None:
    """Bad tokens get a JSON 401 naming the problem, never a 500."""
    assert _api("ocd_not-a-real-token").json() == {"detail": "Unknown API token."}
    assert _api("garbage").json() == {"detail": "Malformed API token."}
    assert _api("garbage").status_code == 401


def test_foreign_token_cannot_be_revoked(world: Any, client_for: Any) -> None:
    """Another user's token answers 404 and stays active."""
    token, secret = services.issue_token(world.user("alpha-bio", "cdmo_admin"), "x")
    response = client_for(world.user("beta-pharma", "cdmo_admin")).post(
        f"/account/tokens/{token.pk}/revoke/"
    )
    assert response.status_code == 404
    assert _api(secret).status_code == 200


def test_api_requires_authentication(db: Any) -> None:
    """Without a token or session the API answers 401 in JSON."""
    response = Client().get("/api/v1/me")
    assert response.status_code == 401
    assert "Authentication required" in response.json()["detail"]


def test_token_creation_and_revocation_are_audited(world: Any) -> None:
    """Both events land in the owner's chain."""
    from opencdmo.audit.models import AuditEntry

    user = world.user("beta-pharma", "cdmo_msat")
    token, _ = services.issue_token(user, "historian")
    services.revoke_token(user, token)
    with scopes_disabled():
        actions = list(
            AuditEntry.objects.filter(organisation=user.organisation, object_id=str(token.pk))
            .order_by("seq")
            .values_list("action", flat=True)
        )
    assert actions == ["opencdmo.api_token.created", "opencdmo.api_token.revoked"]
