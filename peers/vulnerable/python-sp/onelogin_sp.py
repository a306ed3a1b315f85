"""A minimal SAML SP on OneLogin's python3-saml, used the way its README and demo-flask show:
settings from a dict (settings.json rendered per trial, the IdP's part read from its metadata
with OneLogin_Saml2_IdPMetadataParser.parse and merge_settings), OneLogin_Saml2_Auth.login
for the AuthnRequest (HTTP-Redirect), process_response(request_id=...) on the ACS, then
get_errors / is_authenticated / get_nameid / get_attributes trusted as they are.

Usage: python onelogin_sp.py SETTINGS.json IDP_METADATA.xml PORT LOG_FILE
"""

import json
import sys

from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser
from onelogin.saml2.settings import OneLogin_Saml2_Settings

import common


def prepare_request(environ, port, post_data=None):
    """The request dict python3-saml reads (the demo's prepare_flask_request)."""
    return {
        "https": "off",
        "http_host": "127.0.0.1",
        "server_port": str(port),
        "script_name": environ.get("PATH_INFO", "/"),
        "get_data": common.query(environ),
        "post_data": post_data or {},
    }


def main():
    settings_path, metadata_path = sys.argv[1], sys.argv[2]
    port, log_path = int(sys.argv[3]), sys.argv[4]
    log = common.make_log(log_path)
    with open(settings_path, encoding="utf-8") as f:
        settings = json.load(f)
    # Bytes: the metadata carries an XML declaration, which lxml refuses on a str.
    with open(metadata_path, "rb") as f:
        idp_data = OneLogin_Saml2_IdPMetadataParser.parse(f.read())
    settings = OneLogin_Saml2_IdPMetadataParser.merge_settings(settings, idp_data)
    store = common.Store()

    def app(environ, start_response):
        path = environ.get("PATH_INFO", "/")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/metadata":
            sp_settings = OneLogin_Saml2_Settings(settings, sp_validation_only=True)
            data = sp_settings.get_sp_metadata()
            if isinstance(data, str):
                data = data.encode("utf-8")
            start_response("200 OK", [("Content-Type", "application/samlmetadata+xml"),
                                      ("Content-Length", str(len(data)))])
            return [data]
        if path == "/login":
            auth = OneLogin_Saml2_Auth(prepare_request(environ, port), old_settings=settings)
            came_from = common.query(environ).get("next", "/secure")
            location = auth.login(return_to=came_from)
            pre = store.add_pending(environ, auth.get_last_request_id(), came_from)
            return common.redirect(start_response, location,
                                   [common.set_cookie(common.PRE_COOKIE, pre)])
        if path == "/acs" and method == "POST":
            fields = common.form(environ)
            pending = store.pending_for(environ)
            # The demo passes the AuthnRequest ID this browser's session remembers; one
            # browser here starts one login at a time, so the latest is the one.
            request_id = list(pending)[-1] if pending else None
            auth = OneLogin_Saml2_Auth(prepare_request(environ, port, fields),
                                       old_settings=settings)
            try:
                auth.process_response(request_id=request_id)
            except Exception as err:  # noqa: BLE001 -- every library refusal is a 403
                return common.refusal(start_response, log, "SAML response", err)
            errors = auth.get_errors()
            if errors or not auth.is_authenticated():
                reason = auth.get_last_error_reason() or "not authenticated"
                return common.refusal(start_response, log, "SAML response",
                                      ValueError(f"{', '.join(errors)}: {reason}"))
            identity = {
                "name_id": auth.get_nameid() or "",
                "given_name": common.first_value(auth.get_attributes() or {},
                                                 common.GIVEN_NAME_ATTRIBUTES),
            }
            return common.finish_sign_in(start_response, store, environ, fields, identity,
                                         request_id, log)
        return common.other_pages(start_response, store, environ, path, "python3-saml SP")

    common.serve(app, port, log)


if __name__ == "__main__":
    main()
