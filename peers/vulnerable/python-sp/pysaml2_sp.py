"""A minimal SAML SP on pysaml2, used the way its README and example/sp-wsgi show:
SPConfig from a dict, Saml2Client.prepare_for_authenticate for the AuthnRequest
(HTTP-Redirect), Saml2Client.parse_authn_request_response on the ACS (HTTP-POST), and the
NameID and attributes of the returned AuthnResponse trusted as they are.

Usage: python pysaml2_sp.py CONFIG.json PORT LOG_FILE
CONFIG.json is a pysaml2 SP configuration dict (rendered per trial from
targets/pysaml2/sp-config.json); pysaml2 finds xmlsec1 itself.
"""

import json
import sys

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import create_metadata_string

import common


def main():
    config_path, port, log_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    log = common.make_log(log_path)
    import saml2

    log.info("pysaml2 %s", getattr(saml2, "__version__", "?"))
    with open(config_path, encoding="utf-8") as f:
        settings = json.load(f)
    conf = SPConfig()
    conf.load(settings)
    client = Saml2Client(config=conf)
    store = common.Store()

    def app(environ, start_response):
        path = environ.get("PATH_INFO", "/")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/metadata":
            data = create_metadata_string(None, config=conf, valid=4)
            if isinstance(data, str):
                data = data.encode("utf-8")
            start_response("200 OK", [("Content-Type", "application/samlmetadata+xml"),
                                      ("Content-Length", str(len(data)))])
            return [data]
        if path == "/login":
            came_from = common.query(environ).get("next", "/secure")
            reqid, info = client.prepare_for_authenticate(
                relay_state=came_from, binding=BINDING_HTTP_REDIRECT
            )
            pre = store.add_pending(environ, reqid, came_from)
            location = dict(info["headers"])["Location"]
            return common.redirect(start_response, location,
                                   [common.set_cookie(common.PRE_COOKIE, pre)])
        if path == "/acs" and method == "POST":
            fields = common.form(environ)
            outstanding = store.pending_for(environ)
            try:
                resp = client.parse_authn_request_response(
                    fields.get("SAMLResponse", ""), BINDING_HTTP_POST, outstanding=outstanding
                )
                if resp is None:
                    raise ValueError("pysaml2 returned no response")
                # The documented way to read the outcome (example/sp-wsgi, djangosaml2): it
                # raises when pysaml2 parsed no assertion (e.g. a Destination it logged as
                # wrong but did not raise for).
                info = resp.session_info()
            except Exception as err:  # noqa: BLE001 -- every library refusal is a 403
                return common.refusal(start_response, log, "SAML response", err)
            name_id = info.get("name_id")
            identity = {
                "name_id": name_id.text if name_id is not None else "",
                "given_name": common.first_value(info.get("ava") or {},
                                                 common.GIVEN_NAME_ATTRIBUTES),
            }
            return common.finish_sign_in(start_response, store, environ, fields, identity,
                                         resp.in_response_to, log)
        return common.other_pages(start_response, store, environ, path, "pysaml2 SP")

    common.serve(app, port, log)


if __name__ == "__main__":
    main()
