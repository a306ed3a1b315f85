//! Every `{placeholder}` the harness fills, where it may be used, and an example value: the
//! one table behind `targets/PLACEHOLDERS.md` (generated and checked by
//! `harness/tests/placeholders.rs`, which also finds any placeholder the code sets that is
//! missing here).

/// Where a placeholder has a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// From the start: launch commands, env, base/ready URLs, logs, and everything later.
    Launch,
    /// Once the organisation exists: the target's `sp:` URLs, config templates, steps.
    Org,
    /// Once the trial's tenant exists: config templates (and a config-template target's
    /// command and env, which start when SSO is configured), steps and expectations.
    Tenant,
    /// After the step that learns it (named in the description).
    Step,
}

impl Scope {
    pub fn label(self) -> &'static str {
        match self {
            Scope::Launch => {
                "launch (command, env, base_url, ready_url, logs) and everywhere after"
            }
            Scope::Org => "target `sp:` URLs, config templates, steps",
            Scope::Tenant => "config templates (and a config-template target's command/env), steps",
            Scope::Step => "steps after the one that sets it",
        }
    }
}

/// `(name, scope, example, what it is)`.
pub const PLACEHOLDERS: &[(&str, Scope, &str, &str)] = &[
    (
        "trial.id",
        Scope::Launch,
        "3f9c2a71b0",
        "this trial's id (tenant and canary paths use it)",
    ),
    (
        "target.dir",
        Scope::Launch,
        "/src/targets",
        "the target file's folder (programs shipped next to it)",
    ),
    (
        "sp.dir",
        Scope::Launch,
        "/tmp/sso-harness-run-x/sp-1",
        "the trial's private directory (0700) for the SP's files",
    ),
    (
        "sp.port",
        Scope::Launch,
        "41234",
        "a free loopback port chosen for the SP",
    ),
    (
        "sp.user",
        Scope::Launch,
        "www-data",
        "the unprivileged user the SP drops to (`user:`)",
    ),
    (
        "sp.passphrase",
        Scope::Launch,
        "[secret]",
        "a per-trial secret for the SP's own use (session keys)",
    ),
    (
        "sp.base_url",
        Scope::Org,
        "http://127.0.0.1:41234/",
        "where the browser reaches the SP (ends with /)",
    ),
    (
        "sp.login_url",
        Scope::Org,
        "http://127.0.0.1:41234/login",
        "`sp.login_url` of the target, or base + login",
    ),
    (
        "org.id",
        Scope::Org,
        "org-81cb25bb",
        "the organisation (admin API) or `admin.manual.org_id`",
    ),
    ("org.name", Scope::Org, "Acme", "its name in the scenario"),
    (
        "sp.acs_url",
        Scope::Org,
        "http://127.0.0.1:41234/sso/saml/acs",
        "the SP's assertion consumer service",
    ),
    (
        "sp.entity_id",
        Scope::Org,
        "urn:acme:sp",
        "the SP's entity ID (the Audience)",
    ),
    (
        "sp.metadata_url",
        Scope::Org,
        "http://127.0.0.1:41234/metadata",
        "the SP's SAML metadata",
    ),
    (
        "sp.slo_url",
        Scope::Org,
        "http://127.0.0.1:41234/saml/slo",
        "the SP's SingleLogoutService (where the IdP's logout messages go)",
    ),
    (
        "sp.slo_start_url",
        Scope::Org,
        "http://127.0.0.1:41234/saml/logout",
        "a browser visit signs out at the SP and sends the IdP a LogoutRequest",
    ),
    (
        "sp.slo_done_url",
        Scope::Org,
        "http://127.0.0.1:41234/signed-out",
        "where the SP sends the browser once the IdP confirmed the single logout",
    ),
    (
        "sp.oidc_redirect_uri",
        Scope::Org,
        "http://127.0.0.1:41234/callback",
        "the RP's redirect URI",
    ),
    (
        "sp.backchannel_logout_url",
        Scope::Org,
        "http://127.0.0.1:41234/backchannel-logout",
        "the RP's back-channel logout URL (`sp.backchannel_logout_url` of the target)",
    ),
    (
        "sp.post_logout_redirect_uri",
        Scope::Org,
        "http://127.0.0.1:41234/signed-out",
        "where the RP asks the OP to send the browser after RP-initiated logout",
    ),
    (
        "sp.frontchannel_logout_url",
        Scope::Org,
        "http://127.0.0.1:41234/frontchannel-logout",
        "the RP's front-channel logout URL (the OP loads it in an iframe with iss and sid)",
    ),
    (
        "sp.initiate_login_url",
        Scope::Org,
        "http://127.0.0.1:41234/initiate-login",
        "the RP's initiate_login_uri, where a third party starts a sign-in with `iss` (`sp.initiate_login_url` of the target)",
    ),
    (
        "sp.oidc_jwks_uri",
        Scope::Org,
        "http://127.0.0.1:41234/sso/oidc/jwks",
        "where the RP publishes its keys (`sp.oidc_jwks_uri` of the target): the jwks_uri encrypted ID tokens are made to, and the keys its request objects are signed with",
    ),
    (
        "sp.tile_url.workspace",
        Scope::Org,
        "http://127.0.0.1:41234/sso/tile/o/workspace",
        "the workspace Tile URL",
    ),
    (
        "sp.tile_url.platform",
        Scope::Org,
        "http://127.0.0.1:41234/sso/tile/o/platform",
        "the platform Tile URL",
    ),
    (
        "idp.base_url",
        Scope::Tenant,
        "http://127.0.0.1:39001/",
        "the mock IdP",
    ),
    (
        "idp.tenant",
        Scope::Tenant,
        "t-3f9c2a71b0",
        "the trial's tenant (a staging target's pinned one)",
    ),
    (
        "idp.entity_id",
        Scope::Tenant,
        "http://www.okta.com/exk1",
        "the IdP's entity ID (Issuer)",
    ),
    (
        "idp.sso_url",
        Scope::Tenant,
        "http://127.0.0.1:39001/t/x/saml/sso",
        "SAML SSO URL (HTTP-Redirect)",
    ),
    (
        "idp.sso_url_post",
        Scope::Tenant,
        "http://127.0.0.1:39001/t/x/saml/sso/post",
        "SAML SSO URL (HTTP-POST)",
    ),
    (
        "idp.metadata_url",
        Scope::Tenant,
        "http://127.0.0.1:39001/t/x/saml/metadata",
        "the IdP's SAML metadata",
    ),
    (
        "idp.dashboard_url",
        Scope::Tenant,
        "http://127.0.0.1:39001/t/x/dashboard",
        "the IdP's tile dashboard",
    ),
    (
        "idp.idp_initiated_url",
        Scope::Tenant,
        "http://127.0.0.1:39001/t/x/saml/idp-initiated",
        "starts an IdP-initiated sign-in",
    ),
    (
        "idp.slo_url",
        Scope::Tenant,
        "http://127.0.0.1:39001/t/x/saml/slo",
        "the IdP's SingleLogoutService (both bindings)",
    ),
    (
        "idp.logout_url",
        Scope::Tenant,
        "http://127.0.0.1:39001/t/x/saml/logout",
        "IdP-initiated single logout: ends the IdP session, sends the SP a LogoutRequest",
    ),
    (
        "idp.certificate_pem",
        Scope::Tenant,
        "-----BEGIN CERTIFICATE-----...",
        "the IdP's signing certificate",
    ),
    (
        "idp.fingerprint_sha1",
        Scope::Tenant,
        "AB:CD:...",
        "its SHA-1 fingerprint",
    ),
    (
        "idp.fingerprint_sha256",
        Scope::Tenant,
        "AB:CD:...",
        "its SHA-256 fingerprint",
    ),
    (
        "idp.issuer",
        Scope::Tenant,
        "http://127.0.0.1:39001/t/x",
        "OIDC issuer",
    ),
    (
        "idp.discovery_url",
        Scope::Tenant,
        "http://127.0.0.1:39001/t/x/.well-known/openid-configuration",
        "OIDC discovery document",
    ),
    (
        "idp.authorization_endpoint",
        Scope::Tenant,
        "http://127.0.0.1:39001/t/x/authorize",
        "OIDC authorization endpoint",
    ),
    (
        "idp.token_endpoint",
        Scope::Tenant,
        "http://127.0.0.1:39001/t/x/token",
        "OIDC token endpoint",
    ),
    (
        "idp.end_session_endpoint",
        Scope::Tenant,
        "http://127.0.0.1:39001/t/x/end-session",
        "OIDC end_session endpoint (RP-initiated and OP-side logout)",
    ),
    (
        "idp.client_id",
        Scope::Step,
        "sp-org-81cb",
        "the OIDC client `configure_sso: oidc` registered",
    ),
    (
        "idp.client_secret",
        Scope::Step,
        "[secret]",
        "its secret (after `configure_sso: oidc`; never printed)",
    ),
    (
        "sp.oidc_response_mode",
        Scope::Step,
        "query.jwt",
        "the response mode the OIDC connection asks for: `query` unless a `response_mode` step asked for another (`query.jwt`: JARM); set by `configure_sso: oidc`",
    ),
    (
        "idp.response_type",
        Scope::Step,
        "code id_token",
        "the response type the RP asks for (`idp.oidc.response_type`; `code` when absent; after `configure_sso: oidc`)",
    ),
    (
        "idp.response_mode",
        Scope::Step,
        "form_post",
        "the response mode the RP asks for (`idp.oidc.response_mode`; `query` for `code`, `fragment` for hybrid types when absent)",
    ),
    (
        "idp.request_object_alg",
        Scope::Step,
        "RS256",
        "how the RP signs the request objects it hosts at a request_uri (`idp.oidc.request_object.alg`: `none`, `RS256`; `off` when the scenario asks for none; after `configure_sso: oidc`)",
    ),
    (
        "idp.detached_signature",
        Scope::Step,
        "true",
        "`true` when the RP must require s_hash (`idp.oidc.detached_signature`; after `configure_sso: oidc`)",
    ),
    (
        "idp.name",
        Scope::Launch,
        "main",
        "which OP of the trial the steps act on: main, or attacker after `use_idp: attacker` (a target's start_login may pass it to an OP chooser)",
    ),
    (
        "held.response_url",
        Scope::Step,
        "http://127.0.0.1:8000/sso/oidc/callback?code=...&state=...",
        "the authorization response the mock OP held as a link (after `keep_response` or `carry_response`; fault authorization_response_held)",
    ),
    (
        "main.issuer",
        Scope::Step,
        "http://127.0.0.1:8180/t/t-3f9c2a71b0/application/o/t-3f9c2a71b0/",
        "the trial's own OP's issuer, whichever OP is current (after a `use_idp` step)",
    ),
    (
        "main.authorization_endpoint",
        Scope::Step,
        "http://127.0.0.1:8180/t/t-3f9c2a71b0/application/o/authorize/",
        "the trial's own OP's authorization endpoint (after a `use_idp` step; a mix-up attacker bounces there)",
    ),
    (
        "main.client_id",
        Scope::Step,
        "sp-acme",
        "the client this RP has at the trial's own OP (after `configure_sso: oidc` there and a `use_idp` step)",
    ),
    (
        "attacker.tenant",
        Scope::Step,
        "a-3f9c2a71b0",
        "the second OP of the trial, the attacker's (after `use_idp: attacker`)",
    ),
    (
        "attacker.issuer",
        Scope::Tenant,
        "http://127.0.0.1:8180/t/a-3f9c2a71b0/application/o/a-3f9c2a71b0/",
        "the attacker OP's issuer (empty until `use_idp: attacker`, so a target's env may name it in every trial)",
    ),
    (
        "attacker.discovery_url",
        Scope::Tenant,
        "http://127.0.0.1:8180/t/a-3f9c2a71b0/application/o/a-3f9c2a71b0/.well-known/openid-configuration",
        "the attacker OP's discovery URL (empty until `use_idp: attacker`)",
    ),
    (
        "attacker.authorization_endpoint",
        Scope::Tenant,
        "http://127.0.0.1:8180/t/a-3f9c2a71b0/application/o/authorize/",
        "the attacker OP's authorization endpoint (empty until `use_idp: attacker`)",
    ),
    (
        "attacker.token_endpoint",
        Scope::Tenant,
        "http://127.0.0.1:8180/t/a-3f9c2a71b0/application/o/token/",
        "the attacker OP's token endpoint (empty until `use_idp: attacker`)",
    ),
    (
        "attacker.client_id",
        Scope::Tenant,
        "sp-acme-attacker",
        "the client this RP has at the attacker OP (after `configure_sso: oidc` there; empty before)",
    ),
    (
        "attacker.client_secret",
        Scope::Tenant,
        "[secret]",
        "its secret (after `configure_sso: oidc` there; empty before; never printed)",
    ),
    (
        "user.email",
        Scope::Launch,
        "alice@acme.test",
        "the scenario's first IdP user (`users.N.*`: the N-th, from 0)",
    ),
    (
        "user.domain",
        Scope::Launch,
        "acme.test",
        "that user's email domain",
    ),
    (
        "user.password",
        Scope::Launch,
        "[secret]",
        "that user's password (given or generated; never printed)",
    ),
    (
        "user.given_name",
        Scope::Launch,
        "Alice",
        "that user's given name",
    ),
    (
        "user.family_name",
        Scope::Launch,
        "Ng",
        "that user's family name",
    ),
    (
        "domain.name",
        Scope::Step,
        "acme.test",
        "after `add_domain`/`verify_domain`: the domain",
    ),
    (
        "domain.txt_name",
        Scope::Step,
        "_verify.acme.test",
        "its TXT record name",
    ),
    (
        "domain.txt_value",
        Scope::Step,
        "sso-verify=9f1...",
        "its TXT record value",
    ),
    (
        "canary.url",
        Scope::Launch,
        "http://127.0.0.1:40111/c/3f9c2a71b0/",
        "the harness's canary for this trial (a fetch = egress)",
    ),
    (
        "canary.host",
        Scope::Launch,
        "127.0.0.1:40111",
        "the canary's host and port",
    ),
];

/// The table as Markdown (targets/PLACEHOLDERS.md).
pub fn markdown() -> String {
    let mut s = String::from(
        "# Placeholders\n\nGenerated from `harness/src/input/placeholders.rs` by `UPDATE_COVERAGE=1 cargo test -p harness --test placeholders`; do not edit by hand.\n\nEvery `{name}` a target file, a configuration template or a scenario may use. `users.N.email`, `users.N.domain`, `users.N.password`, `users.N.given_name` and `users.N.family_name` name the N-th user (from 0) like `user.*` names the first. A placeholder used where it has no value is an error that names it, never an empty string.\n\n| placeholder | available in | example | what it is |\n|---|---|---|---|\n",
    );
    for (name, scope, example, what) in PLACEHOLDERS {
        s.push_str(&format!(
            "| `{{{name}}}` | {} | `{example}` | {what} |\n",
            scope.label()
        ));
    }
    s
}
