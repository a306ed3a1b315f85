"""Shared plumbing of the vulnerable-library SAML SPs: a threaded WSGI server on loopback,
cookie sessions kept in memory, the protected and probe pages, refusal pages and the log.

Only the standard library is used here so that each pinned venv holds nothing but the
library under test and its own dependencies. The library-specific modules
(pysaml2_sp.py, onelogin_sp.py) do the SAML work exactly as their READMEs show and trust
what the library returns: the point of these targets is to measure the library.
"""

import html
import logging
import os
import secrets
import socketserver
import sys
import threading
import traceback
from http import cookies
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

SESSION_COOKIE = "vsp_session"
PRE_COOKIE = "vsp_pre"


class Store:
    """Sessions (cookie -> identity) and pre-login state (cookie -> outstanding request ids),
    in memory: one SP process lives for one trial."""

    def __init__(self):
        self.lock = threading.Lock()
        self.sessions = {}
        self.pending = {}

    def new_session(self, identity):
        sid = secrets.token_urlsafe(24)
        with self.lock:
            self.sessions[sid] = identity
        return sid

    def session(self, environ):
        sid = read_cookie(environ, SESSION_COOKIE)
        with self.lock:
            return self.sessions.get(sid) if sid else None

    def add_pending(self, environ, request_id, value):
        """Remembers an AuthnRequest this browser started; returns the pre-login cookie."""
        pre = read_cookie(environ, PRE_COOKIE) or secrets.token_urlsafe(24)
        with self.lock:
            self.pending.setdefault(pre, {})[request_id] = value
        return pre

    def pending_for(self, environ):
        pre = read_cookie(environ, PRE_COOKIE)
        with self.lock:
            return dict(self.pending.get(pre, {})) if pre else {}

    def end_session(self, environ):
        """Local sign-out: forgets this browser's session (the IdP's is left alone)."""
        sid = read_cookie(environ, SESSION_COOKIE)
        with self.lock:
            return self.sessions.pop(sid, None) if sid else None

    def forget_pending(self, environ, request_id):
        pre = read_cookie(environ, PRE_COOKIE)
        with self.lock:
            self.pending.get(pre, {}).pop(request_id, None)


def read_cookie(environ, name):
    jar = cookies.SimpleCookie()
    try:
        jar.load(environ.get("HTTP_COOKIE", ""))
    except cookies.CookieError:
        return None
    morsel = jar.get(name)
    return morsel.value if morsel else None


def set_cookie(name, value):
    return ("Set-Cookie", f"{name}={value}; Path=/; HttpOnly; SameSite=Lax")


def form(environ):
    """The urlencoded POST body as a dict of first values."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length).decode("utf-8", "replace") if length else ""
    return {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}


def query(environ):
    return {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}


def page(start_response, status, title, body, headers=()):
    doc = (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title></head><body>\n{body}\n</body></html>\n"
    ).encode("utf-8")
    start_response(
        status,
        [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(doc)))]
        + list(headers),
    )
    return [doc]


def redirect(start_response, location, headers=()):
    start_response("302 Found", [("Location", location), ("Content-Length", "0")] + list(headers))
    return [b""]


def signed_in_page(start_response, identity, title="Signed in"):
    name = html.escape(identity.get("name_id", ""))
    given = html.escape(identity.get("given_name", ""))
    body = (
        "<h1>Protected page</h1>\n"
        f"<p>Signed in as <span id=\"signed-in-as\">{name}</span></p>\n"
        f"<p>Display name: <span id=\"display-name\">{given}</span></p>"
    )
    # OIDC contact details, when the RP got them (phone and address scopes).
    for key in ("phone", "address"):
        if identity.get(key):
            body += f"\n<p>{key.title()}: <span id=\"{key}\">{html.escape(identity[key])}</span></p>"
    return page(start_response, "200 OK", title, body)


def refusal(start_response, log, what, err):
    """The library refused the response: 403 with its error text, logged with the stack."""
    text = f"{type(err).__name__}: {err}"
    log.warning("refused %s: %s\n%s", what, text, traceback.format_exc())
    body = f"<h1>Sign-in refused</h1>\n<p id=\"error\">{html.escape(text)}</p>"
    return page(start_response, "403 Forbidden", "Sign-in refused", body)


def first_value(attributes, names):
    """The first value of the first attribute present among `names` (display name only)."""
    for n in names:
        v = attributes.get(n)
        if v:
            return str(v[0]) if isinstance(v, (list, tuple)) else str(v)
    return ""


GIVEN_NAME_ATTRIBUTES = [
    "given_name",
    "givenName",
    "first_name",
    "firstName",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",
]


def make_log(log_path):
    os.makedirs(os.path.dirname(log_path), exist_ok=True)
    log = logging.getLogger("vulnerable-sp")
    handler = logging.FileHandler(log_path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.addHandler(logging.StreamHandler(sys.stderr))
    root.setLevel(logging.INFO)
    return log


class QuietHandler(WSGIRequestHandler):
    def log_message(self, fmt, *args):
        logging.getLogger("access").info("%s " + fmt, self.address_string(), *args)


class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


def serve(app, port, log):
    """Serves `app` on 127.0.0.1 only; unexpected exceptions are 500 with the stack logged."""

    def guarded(environ, start_response):
        try:
            return app(environ, start_response)
        except Exception:  # noqa: BLE001 -- anything the library did not mean to raise
            log.error("unexpected error\n%s", traceback.format_exc())
            body = "<h1>Internal error</h1><p id=\"error\">unexpected error, see the SP log</p>"
            return page(start_response, "500 Internal Server Error", "Error", body)

    server = make_server(
        "127.0.0.1", port, guarded, server_class=ThreadingWSGIServer, handler_class=QuietHandler
    )
    log.info("listening on http://127.0.0.1:%d/", port)
    server.serve_forever()


def finish_sign_in(start_response, store, environ, fields, identity, request_id, log):
    """After the library accepted a response: forget the answered request, start a session
    for exactly the identity the library returned, and go to the RelayState if it is local."""
    log.info("signed in: %s", identity)
    if request_id:
        store.forget_pending(environ, request_id)
    sid = store.new_session(identity)
    relay = fields.get("RelayState") or "/secure"
    target = relay if relay.startswith("/") and not relay.startswith("//") else "/secure"
    return redirect(start_response, target, [set_cookie(SESSION_COOKIE, sid)])


def other_pages(start_response, store, environ, path, title):
    """/secure and /probe (who is signed in; /probe answers 401 without a session),
    /logout (ends the session here), the start page and 404: the same for every library."""
    if path in ("/secure", "/probe"):
        identity = store.session(environ)
        if identity:
            return signed_in_page(start_response, identity)
        if path == "/probe":
            return page(start_response, "401 Unauthorized", "Not signed in", "<p>Not signed in</p>")
        return redirect(start_response, "/login?next=/secure")
    if path == "/logout":
        if store.end_session(environ):
            logging.getLogger("vulnerable-sp").info("signed out")
        return redirect(start_response, "/", [("Set-Cookie", f"{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0")])
    if path == "/":
        return page(start_response, "200 OK", title, "<p><a href=\"/login\">Sign in</a></p>")
    return page(start_response, "404 Not Found", "Not found", "<p>Not found</p>")
