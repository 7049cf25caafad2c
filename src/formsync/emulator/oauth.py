"""OAuth 2.0 token endpoint (`POST /token`) and bearer-token checks, answering like Google.

Grants: the service-account JWT bearer grant (RS256 checked against registered public keys,
`sub` for domain-wide delegation) and the refresh-token grant of OAuth user credentials.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

from formsync.emulator.server import ApiError, ApiRequest, Caller, EmulatorState, Reply, Router

GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"  # noqa: S105 - a URL
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TOKEN_LIFETIME = 3600
_BAD_SIGNATURE = "Invalid JWT Signature."
_BAD_TIMES = ("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable "
              "timeframe. Check your iat and exp values in the JWT claim.")
_CLOCK_SKEW = 300


class OAuthError(ApiError):
    """The token endpoint's flat error shape: {"error": ..., "error_description": ...}."""

    def __init__(self, code: int, error: str, description: str) -> None:
        super().__init__(code, description, error)

    def reply(self) -> Reply:
        return Reply(self.code, {"error": self.status, "error_description": self.message})


def _unauthenticated(message: str) -> ApiError:
    return ApiError(401, message, "UNAUTHENTICATED",
                    headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'})


_INVALID_CREDENTIALS = (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
    "cookie or other valid authentication credential. See "
    "https://developers.google.com/identity/sign-in/web/devconsole-project.")
_MISSING_CREDENTIALS = (
    "Request is missing required authentication credential. Expected OAuth 2 access token, "
    "login cookie or other valid authentication credential. See "
    "https://developers.google.com/identity/sign-in/web/devconsole-project.")


@dataclass(frozen=True)
class IssuedToken:
    token: str
    client: str  # service-account email or OAuth client id
    principal: str  # who the token acts as: the delegated subject, the account or the user
    subject: str  # "" unless domain-wide delegation was asked for
    scopes: tuple[str, ...]
    expires_at: float

    @property
    def expired(self) -> bool:
        return time.time() >= self.expires_at


class OAuthApi:
    name = "oauth"

    def __init__(self, state: EmulatorState) -> None:
        self._state = state

    @property
    def _data(self) -> dict[str, Any]:
        data = self._state.section(self.name)
        for key in ("service_accounts", "clients", "tokens"):
            data.setdefault(key, {})
        return data

    def register(self, router: Router) -> None:
        router.add("POST", r"^/token$", "oauth.token", self._token, kind="auth")

    # -- seeding and inspection (for tests) -----------------------------------------------

    def add_service_account(self, client_email: str, public_key_pem: str, private_key_id: str,
                            *, allow_delegation: bool = True) -> None:
        with self._state.lock:
            account = self._data["service_accounts"].setdefault(
                client_email, {"keys": {}, "allow_delegation": allow_delegation})
            account["allow_delegation"] = allow_delegation
            account["keys"][private_key_id] = {"public_key": public_key_pem, "revoked": False}

    def revoke_key(self, private_key_id: str) -> None:
        """Make a key fail like a deleted key: "Invalid JWT Signature."."""
        with self._state.lock:
            for account in self._data["service_accounts"].values():
                if private_key_id in account["keys"]:
                    account["keys"][private_key_id]["revoked"] = True

    def add_oauth_client(self, client_id: str, client_secret: str, *, refresh_token: str,
                         user_email: str, scopes: tuple[str, ...] = ()) -> None:
        with self._state.lock:
            client = self._data["clients"].setdefault(
                client_id, {"secret": client_secret, "refresh_tokens": {}})
            client["secret"] = client_secret
            client["refresh_tokens"][refresh_token] = {"user": user_email, "scopes": list(scopes)}

    def issue_token(self, principal: str, scopes: tuple[str, ...], *, client: str = "",
                    subject: str = "", lifetime: int = TOKEN_LIFETIME,
                    service_account: bool = False) -> str:
        """A bearer token without the OAuth dance, for tests of the APIs alone."""
        token = "ya29.emulator-" + secrets.token_urlsafe(24)
        with self._state.lock:
            self._data["tokens"][token] = {
                "client": client or principal, "principal": principal, "subject": subject,
                "scopes": list(scopes), "expires_at": time.time() + lifetime,
                "service_account": service_account}
        return token

    def expire_all_tokens(self) -> None:
        """Every issued token now gets 401, as after an hour; clients must refresh."""
        with self._state.lock:
            for info in self._data["tokens"].values():
                info["expires_at"] = 0.0

    def issued_tokens(self) -> list[IssuedToken]:
        with self._state.lock:
            return [IssuedToken(token, info["client"], info["principal"], info["subject"],
                                tuple(info["scopes"]), info["expires_at"])
                    for token, info in self._data["tokens"].items()]

    # -- checking bearer tokens -------------------------------------------------------------

    def authenticate(self, authorization: str | None) -> Caller:
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _unauthenticated(_MISSING_CREDENTIALS)
        with self._state.lock:
            info = self._data["tokens"].get(token.strip())
        if info is None or time.time() >= info["expires_at"]:
            raise _unauthenticated(_INVALID_CREDENTIALS)
        return Caller(info["principal"], info["client"], frozenset(info["scopes"]),
                      bare_service_account=bool(info.get("service_account"))
                      and not info["subject"])

    # -- the token endpoint -----------------------------------------------------------------

    def _token(self, request: ApiRequest) -> Reply:
        form = _form(request)
        grant = form.get("grant_type", "")
        if grant == JWT_BEARER:
            return self._jwt_grant(form.get("assertion", ""))
        if grant == "refresh_token":
            return self._refresh_grant(form)
        raise OAuthError(400, "unsupported_grant_type", f"Invalid grant_type: {grant}")

    def _jwt_grant(self, assertion: str) -> Reply:
        header, claims, signing_input, signature = _split_jwt(assertion)
        account = self._data["service_accounts"].get(claims.get("iss", ""))
        if account is None:
            raise OAuthError(400, "invalid_grant", "Invalid grant: account not found")
        key = account["keys"].get(header.get("kid", ""))
        if (header.get("alg") != "RS256" or key is None or key["revoked"]
                or not _verify_rs256(key["public_key"], signing_input, signature)):
            raise OAuthError(400, "invalid_grant", _BAD_SIGNATURE)
        self._check_claims(claims)
        subject = str(claims.get("sub", ""))
        if subject and not account["allow_delegation"]:
            raise OAuthError(401, "unauthorized_client",
                             "Client is unauthorized to retrieve access tokens using this "
                             "method, or client not authorized for any of the scopes requested.")
        scopes = tuple(str(claims.get("scope", "")).split())
        if not scopes:
            raise OAuthError(400, "invalid_scope",
                             "Invalid OAuth scope or ID token audience provided.")
        token = self.issue_token(subject or claims["iss"], scopes, client=claims["iss"],
                                 subject=subject, service_account=True)
        return Reply(200, {"access_token": token, "expires_in": TOKEN_LIFETIME - 1,
                           "token_type": "Bearer"})

    def _check_claims(self, claims: dict[str, Any]) -> None:
        # google-auth always signs for Google's token URI, whatever token_uri it posts to.
        audiences = {GOOGLE_TOKEN_URI, f"{self._state.base_url}/token"}
        if claims.get("aud") not in audiences:
            raise OAuthError(400, "invalid_grant", "Invalid JWT: Failed audience check.")
        now = time.time()
        issued, expires = claims.get("iat"), claims.get("exp")
        if not (isinstance(issued, int | float) and isinstance(expires, int | float)):
            raise OAuthError(400, "invalid_grant", _BAD_TIMES)
        if expires <= now - _CLOCK_SKEW or issued > now + _CLOCK_SKEW or expires - issued > 3600:
            raise OAuthError(400, "invalid_grant", _BAD_TIMES)

    def _refresh_grant(self, form: dict[str, str]) -> Reply:
        client = self._data["clients"].get(form.get("client_id", ""))
        if client is None or client["secret"] != form.get("client_secret"):
            raise OAuthError(401, "invalid_client", "The OAuth client was not found.")
        grant = client["refresh_tokens"].get(form.get("refresh_token", ""))
        if grant is None:
            raise OAuthError(400, "invalid_grant", "Token has been expired or revoked.")
        scopes = tuple(form["scope"].split()) if form.get("scope") else tuple(grant["scopes"])
        token = self.issue_token(grant["user"], scopes, client=form["client_id"])
        return Reply(200, {"access_token": token, "expires_in": TOKEN_LIFETIME - 1,
                           "scope": " ".join(scopes), "token_type": "Bearer"})


def _form(request: ApiRequest) -> dict[str, str]:
    content_type = request.header("Content-Type")
    if content_type.startswith("application/json"):
        body = request.json()
        return {str(k): str(v) for k, v in body.items()} if isinstance(body, dict) else {}
    pairs = urllib.parse.parse_qsl(request.body.decode("utf-8", "replace"))
    return dict(pairs)


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _split_jwt(assertion: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    try:
        header_part, claims_part, signature_part = assertion.split(".")
        header = json.loads(_b64decode(header_part))
        claims = json.loads(_b64decode(claims_part))
        signature = _b64decode(signature_part)
        signing_input = f"{header_part}.{claims_part}".encode("ascii")
    except (ValueError, binascii.Error):
        raise OAuthError(400, "invalid_grant", "Invalid JWT: not a well-formed JWT.") from None
    if not (isinstance(header, dict) and isinstance(claims, dict)):
        raise OAuthError(400, "invalid_grant", "Invalid JWT: not a well-formed JWT.")
    return header, claims, signing_input, signature


def _verify_rs256(public_key_pem: str, signing_input: bytes, signature: bytes) -> bool:
    # Imported here so that importing the emulator stays stdlib-only.
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    key = serialization.load_pem_public_key(public_key_pem.encode("ascii"))
    if not isinstance(key, rsa.RSAPublicKey):
        return False
    try:
        key.verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True
