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
adds state, PKCE S256, client_secret_basic, token and UserInfo endpoints on the issuer's origin,
the RFC 9207 iss parameter, iat's age, sub's type, email_verified, UserInfo (Bearer header,
the ID token's sub) and the phone and address scopes when the OP lists them. Everything
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

import base64
import hashlib

import authlib
from authlib.jose import JsonWebKey, jwt
from authlib.oidc.core import CodeIDToken

import common


def env(name):
    value = os.environ.get(name)
    if not value:
        sys.exit(f"environment variable {name} is not set")
    return value


def fetch(url, data=None, headers=None):
    """GET (or POST a form): the answer's content type and body; HTTP errors carry the body."""
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.headers.get("Content-Type", ""), r.read()
    except urllib.error.HTTPError as e:
        raise ValueError(f"{url}: {e.code} {e.read()[:200]!r}") from e


def get_json(url, data=None, headers=None):
    """`fetch`, its body parsed as JSON."""
    return json.loads(fetch(url, data, headers)[1])


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
            doc = get_json(discovery_url)
            # The code, the client secret and the access token go only to the issuer's own
            # origin (a discovery document naming another host would hand them to it).
            own = urllib.parse.urlsplit(doc["issuer"])[:2]
            for member in ("token_endpoint", "userinfo_endpoint"):
                if member in doc and urllib.parse.urlsplit(doc[member])[:2] != own:
                    raise ValueError(f"discovery names the {member} on another origin than the issuer's")
            provider.update(doc)
        return provider

    def start_login(environ, start_response):
        state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        verifier = secrets.token_urlsafe(32)
        pre = store.add_pending(environ, state, (nonce, verifier))
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
        offered = op().get("scopes_supported") or []
        scope = " ".join(["openid", "email", "profile"] + [s for s in ("phone", "address") if s in offered])
        query = urllib.parse.urlencode({
            "response_type": "code", "scope": scope, "client_id": client_id,
            "redirect_uri": redirect_uri, "state": state, "nonce": nonce,
            "code_challenge": challenge.decode(), "code_challenge_method": "S256",
        })
        return common.redirect(start_response, f"{op()['authorization_endpoint']}?{query}",
                               [common.set_cookie(common.PRE_COOKIE, pre)])

    def op_key(key_set):
        def load_key(header, _payload):
            # Without a kid, a JWKS of exactly one key names it (OIDC Core 10.1.1).
            if header.get("kid") is None and len(key_set.keys) == 1:
                return key_set.keys[0].as_pem()
            return key_set.find_by_kid(header.get("kid")).as_pem()

        return load_key

    def verify(tokens, nonce):
        key_set = JsonWebKey.import_key_set(get_json(op()["jwks_uri"]))
        claims = jwt.decode(
            tokens["id_token"], op_key(key_set), claims_cls=CodeIDToken,
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
        flow = store.pending_for(environ).get(state)
        if not state or flow is None:
            return common.refusal(start_response, log, "callback",
                                  ValueError("state does not match this browser's sign-in"))
        store.forget_pending(environ, state)  # one answer per sign-in
        nonce, verifier = flow
        try:
            meta = op()
            expected_iss = "iss" in q or meta.get("authorization_response_iss_parameter_supported")
            if expected_iss and q.get("iss") != meta["issuer"]:
                raise ValueError("authorization response iss is not the issuer (RFC 9207)")
            if "error" in q or not q.get("code"):
                raise ValueError(f"authorization error: {q.get('error', 'no code')}")
            # client_secret_basic, the method the client is registered with (RFC 6749 2.3.1).
            basic = base64.b64encode(
                f"{urllib.parse.quote(client_id, safe='')}:{urllib.parse.quote(client_secret, safe='')}".encode()
            ).decode()
            tokens = get_json(meta["token_endpoint"], {
                "grant_type": "authorization_code", "code": q["code"],
                "redirect_uri": redirect_uri, "code_verifier": verifier,
            }, {"Authorization": f"Basic {basic}"})
            if not isinstance(tokens.get("id_token"), str):
                raise ValueError("the token response has no id_token")
            if str(tokens.get("token_type", "")).lower() != "bearer":
                raise ValueError("token_type is not Bearer")
            claims = verify(tokens, nonce)
            # UserInfo, the access token in the Authorization header, about the same subject
            # (OIDC Core 5.3.2); only contact details are taken from it.
            info = {}
            if "userinfo_endpoint" in meta:
                ctype, body = fetch(meta["userinfo_endpoint"], None,
                                    {"Authorization": f"Bearer {tokens.get('access_token', '')}"})
                if ctype.startswith("application/jwt"):
                    # A signed answer, verified with the same library and the OP's keys.
                    key_set = JsonWebKey.import_key_set(get_json(meta["jwks_uri"]))
                    info = dict(jwt.decode(body.strip(), op_key(key_set)))
                else:
                    info = json.loads(body)
                if info.get("sub") != claims["sub"]:
                    raise ValueError("UserInfo is about another subject than the ID token")
        except Exception as err:  # noqa: BLE001 -- every refusal is a 403 with its reason
            return common.refusal(start_response, log, "ID token", err)
        phone = claims.get("phone_number", info.get("phone_number"))
        address = claims.get("address", info.get("address"))
        identity = {"name_id": claims["email"], "given_name": str(claims.get("given_name", "")),
                    "phone": phone if isinstance(phone, str) else "",
                    "address": address.get("formatted", "") if isinstance(address, dict) else ""}
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
