"""A minimal OpenID Connect relying party (authorization code flow) that validates the ID token
with Authlib's JOSE module, used as a harness target (targets/authlib-*.yaml).

It is written the way Authlib's JWT documentation shows: `authlib.jose.jwt.decode(token, key,
claims_cls=..., claims_options=..., claims_params=...)` then `claims.validate()`, with the
OP's key as PEM (the form the documentation's examples pass) picked by the header's kid from
the OP's JWKS, and no algorithm list (the default `jwt` object accepts every algorithm it
knows). Before 1.3.1 that lets an HS256 token keyed with the public key's PEM text verify
(CVE-2024-37568); 1.3.1 refuses such a key as an HMAC secret. (Authlib's Flask/Django clients
pin the algorithms from discovery; a hand-written RP on authlib.jose does not.)

Claims: Authlib's CodeIDToken checks iss, aud, azp, exp, iat, nonce and at_hash; this file
adds state, the RFC 9207 iss parameter, iat's age, sub's type and email_verified. Everything
else (sessions, pages, log, server) is common.py's, shared with the SAML SPs: standard
library only.

Environment (as targets/examples/env-oidc-rp.yaml): PORT, OIDC_DISCOVERY_URL, OIDC_CLIENT_ID,
OIDC_CLIENT_SECRET, OIDC_REDIRECT_URI, RP_LOG.
"""

import json
import os
import secrets
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import authlib
from authlib.jose import JsonWebKey, jwt
from authlib.oidc.core import CodeIDToken

import common


def env(name):
    value = os.environ.get(name)
    if not value:
        sys.exit(f"environment variable {name} is not set")
    return value


def get_json(url, data=None):
    """GET (or POST a form) and parse the JSON answer; HTTP errors carry the body."""
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=body), timeout=10) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as e:
        raise ValueError(f"{url}: {e.code} {e.read()[:200]!r}") from e


def main():
    port = int(env("PORT"))
    discovery_url, client_id = env("OIDC_DISCOVERY_URL"), env("OIDC_CLIENT_ID")
    client_secret, redirect_uri = env("OIDC_CLIENT_SECRET"), env("OIDC_REDIRECT_URI")
    callback_path = urllib.parse.urlsplit(redirect_uri).path
    log = common.make_log(os.environ.get("RP_LOG") or "rp.log")
    log.info("authlib %s", authlib.__version__)
    store = common.Store()
    provider = {}

    def op():
        if not provider:
            provider.update(get_json(discovery_url))
        return provider

    def start_login(environ, start_response):
        state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        pre = store.add_pending(environ, state, nonce)
        query = urllib.parse.urlencode({
            "response_type": "code", "scope": "openid email profile", "client_id": client_id,
            "redirect_uri": redirect_uri, "state": state, "nonce": nonce,
        })
        return common.redirect(start_response, f"{op()['authorization_endpoint']}?{query}",
                               [common.set_cookie(common.PRE_COOKIE, pre)])

    def verify(tokens, nonce):
        key_set = JsonWebKey.import_key_set(get_json(op()["jwks_uri"]))

        def load_key(header, _payload):
            return key_set.find_by_kid(header.get("kid")).as_pem()

        claims = jwt.decode(
            tokens["id_token"], load_key, claims_cls=CodeIDToken,
            claims_options={"iss": {"essential": True, "values": [op()["issuer"]]}},
            claims_params={"nonce": nonce, "client_id": client_id,
                           "access_token": tokens.get("access_token")},
        )
        claims.validate(leeway=60)
        # CodeIDToken checks only that iat is a number and that sub is present: OIDC Core
        # 3.1.3.7 step 10 wants a fresh token, and 2 says sub is a string.
        if claims["iat"] < time.time() - 600:
            raise ValueError("iat is more than ten minutes old")
        if not isinstance(claims["sub"], str) or not claims["sub"]:
            raise ValueError("sub is not a non-empty string")
        if claims.get("email_verified") is not True or not isinstance(claims.get("email"), str):
            raise ValueError("email missing or email_verified is not true")
        return claims

    def callback(environ, start_response):
        q = common.query(environ)
        state = q.get("state", "")
        nonce = store.pending_for(environ).get(state)
        if not state or nonce is None:
            return common.refusal(start_response, log, "callback",
                                  ValueError("state does not match this browser's sign-in"))
        store.forget_pending(environ, state)  # one answer per sign-in
        try:
            meta = op()
            expected_iss = "iss" in q or meta.get("authorization_response_iss_parameter_supported")
            if expected_iss and q.get("iss") != meta["issuer"]:
                raise ValueError("authorization response iss is not the issuer (RFC 9207)")
            if "error" in q or not q.get("code"):
                raise ValueError(f"authorization error: {q.get('error', 'no code')}")
            tokens = get_json(meta["token_endpoint"], {
                "grant_type": "authorization_code", "code": q["code"],
                "redirect_uri": redirect_uri, "client_id": client_id,
                "client_secret": client_secret,
            })
            if not isinstance(tokens.get("id_token"), str):
                raise ValueError("the token response has no id_token")
            if str(tokens.get("token_type", "")).lower() != "bearer":
                raise ValueError("token_type is not Bearer")
            claims = verify(tokens, nonce)
        except Exception as err:  # noqa: BLE001 -- every refusal is a 403 with its reason
            return common.refusal(start_response, log, "ID token", err)
        identity = {"name_id": claims["email"], "given_name": str(claims.get("given_name", ""))}
        return common.finish_sign_in(start_response, store, environ, {}, identity, None, log)

    def app(environ, start_response):
        path = environ.get("PATH_INFO", "/")
        if path == "/health":
            return common.page(start_response, "200 OK", "ok", "<p>ok</p>")
        if path == "/login":
            return start_login(environ, start_response)
        if path == callback_path:
            return callback(environ, start_response)
        if path == "/logout":
            sid = common.read_cookie(environ, common.SESSION_COOKIE)
            with store.lock:
                store.sessions.pop(sid, None)
            return common.page(start_response, "200 OK", "Signed out",
                               "<p id=\"signed-out\">signed out</p>",
                               [("Set-Cookie", f"{common.SESSION_COOKIE}=; Path=/; Max-Age=0")])
        return common.other_pages(start_response, store, environ, path, "Authlib RP")

    common.serve(app, port, log)


if __name__ == "__main__":
    main()
