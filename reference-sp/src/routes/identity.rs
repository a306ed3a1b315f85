//! The Identity page (`/admin/identity?org=...&product=workspace|platform`): domain
//! verification, SAML / custom OIDC set-up, the "Single Sign On" toggle, Enforce SSO and the
//! Tile URLs. Only owners of eligible organisations see it (CFG-2, CFG-7); a signed-in owner
//! can always open it, even when SSO is broken for new sign-ins (CFG-8).
use super::sso_start::{self, Start};
use crate::admin_ops;
use crate::error::AppError;
use crate::html::{esc, hidden, page};
use crate::password;
use crate::secret::Secret;
use crate::session::{self, Session};
use crate::state::Shared;
use crate::store::{self, DomainStatus, Org, Product, Role, SsoConfig};
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;

/// CFG-4: adding SAML asks for the password again unless it was entered this recently.
const REAUTH_WINDOW_SECONDS: i64 = 300;

#[derive(Deserialize)]
pub struct Target {
    #[serde(default)]
    org: String,
    #[serde(default)]
    product: Option<String>,
}

struct Ctx {
    session: Session,
    org: Org,
    product: Product,
}

/// Who may see the page: an owner, of an Enterprise/Edu workspace, or of an Enterprise
/// platform organisation on Custom/Unlimited billing.
fn authorize(st: &Shared, jar: &CookieJar, t: &Target) -> Result<Result<Ctx, Response>, AppError> {
    let c = st.db.conn()?;
    let Some(s) = session::current(&c, jar)? else {
        return Ok(Err(Redirect::to("/login").into_response()));
    };
    let product = match t.product.as_deref() {
        None | Some("") => Product::Workspace,
        Some(p) => Product::parse(p).ok_or_else(|| {
            AppError::page(
                StatusCode::BAD_REQUEST,
                format!("product: {p:?} is not one of workspace, platform"),
            )
        })?,
    };
    let org = store::get_org(&c, &t.org)?.ok_or_else(|| {
        AppError::page(
            StatusCode::NOT_FOUND,
            format!("No organization {:?}.", t.org),
        )
    })?;
    match product {
        Product::Platform if !org.platform_has_identity_page() => {
            return Err(AppError::page(
                StatusCode::NOT_FOUND,
                "The Identity page is available for Enterprise Platform organizations with a Custom or Unlimited billing plan.",
            ));
        }
        Product::Workspace if !org.workspace_can_sso() => {
            return Err(AppError::page(
                StatusCode::FORBIDDEN,
                "To set up SSO you must have an Enterprise or Edu ChatGPT workspace.",
            ));
        }
        _ => {}
    }
    if store::role_in(&c, &org.id, s.user_id)? != Some(Role::Owner) {
        return Err(AppError::page(
            StatusCode::FORBIDDEN,
            "Only an owner of this workspace can manage SSO.",
        ));
    }
    Ok(Ok(Ctx {
        session: s,
        org,
        product,
    }))
}

pub async fn show(
    State(st): State<Shared>,
    jar: CookieJar,
    Query(t): Query<Target>,
) -> Result<Response, AppError> {
    match authorize(&st, &jar, &t)? {
        Ok(ctx) => render(&st, &ctx, None, None),
        Err(r) => Ok(r),
    }
}

fn render(
    st: &Shared,
    ctx: &Ctx,
    notice: Option<&str>,
    error: Option<&str>,
) -> Result<Response, AppError> {
    let org = {
        let c = st.db.conn()?;
        store::get_org(&c, &ctx.org.id)?.unwrap_or_else(|| ctx.org.clone())
    };
    let o = esc(&org.id);
    let product = ctx.product.as_str();
    let target = format!("{}{}", hidden("org", &org.id), hidden("product", product));
    let now = st.now();
    let (domains, cfg) = {
        let c = st.db.conn()?;
        (
            store::domains_of(&c, &org.id)?,
            store::sso_config(&c, &org.id)?,
        )
    };
    let any_verified = domains
        .iter()
        .any(|d| d.status(now) == DomainStatus::Verified);
    let mut b = String::new();
    if let Some(n) = notice {
        b.push_str(&format!("<p id=\"notice\">{}</p>", esc(n)));
    }
    if let Some(e) = error {
        b.push_str(&format!("<p id=\"error\" class=\"error\">{}</p>", esc(e)));
    }
    b.push_str(&format!(
        "<p>{} · {} · Organization ID <code id=\"org-id\">{o}</code></p>",
        esc(&org.name),
        if ctx.product == Product::Workspace {
            "ChatGPT workspace"
        } else {
            "API Platform organization"
        }
    ));
    // Domains
    b.push_str("<h2>Domain verification</h2><table id=\"domains\"><tr><th>Domain</th><th>Status</th><th>TXT name</th><th>TXT value</th><th></th></tr>");
    for d in &domains {
        let status = d.status(now);
        b.push_str(&format!(
            "<tr data-domain=\"{dom}\"><td class=\"domain\">{dom}</td><td class=\"status\" data-status=\"{s}\">{label}</td><td class=\"txt-name\"><code>{name}</code></td><td class=\"txt-value\"><code>{val}</code></td><td>",
            dom = esc(&d.domain),
            s = status.label().to_lowercase(),
            label = status.label(),
            name = esc(&store::txt_name(&d.domain)),
            val = esc(&d.txt_value)
        ));
        match status {
            DomainStatus::Pending => b.push_str(&format!(
                "<form method=\"post\" action=\"/admin/identity/domains/check\">{target}{}<button class=\"check\" type=\"submit\">Check</button></form>",
                hidden("domain", &d.domain)
            )),
            DomainStatus::Expired => b.push_str(&format!(
                "<form method=\"post\" action=\"/admin/identity/domains\">{target}{}<button class=\"restart\" type=\"submit\">Start again</button></form>",
                hidden("domain", &d.domain)
            )),
            DomainStatus::Verified => {}
        }
        b.push_str("</td></tr>");
    }
    b.push_str(&format!(
        "</table><form method=\"post\" action=\"/admin/identity/domains\">{target}<label>Domain <input name=\"domain\" placeholder=\"example.com\"></label><button id=\"add-domain\" type=\"submit\">+ Add Domain</button></form>"
    ));
    // SSO set-up, only after a verified domain (DV-8)
    b.push_str("<h2>Single sign-on</h2>");
    if !any_verified {
        b.push_str("<p id=\"verify-domain-first\">Verify at least one domain to see the ACS URL and Entity ID and to set up SSO.</p>");
    } else {
        b.push_str(&format!(
            "<dl><dt>ACS URL</dt><dd><code id=\"acs-url\">{}</code></dd><dt>Entity ID</dt><dd><code id=\"entity-id\">{}</code></dd>\
             <dt>SAML metadata</dt><dd><code id=\"metadata-url\">{}</code></dd></dl>",
            esc(&st.acs_url(&org.id)),
            esc(&st.entity_id(&org.id)),
            esc(&st.metadata_url(&org.id))
        ));
        let (saml_url, saml_entity, oidc) = match &cfg {
            Some(SsoConfig::Saml(s)) => (
                s.sso_url.clone(),
                s.idp_entity_id.clone().unwrap_or_default(),
                None,
            ),
            Some(SsoConfig::Oidc(o)) => (String::new(), String::new(), Some(o.clone())),
            None => (String::new(), String::new(), None),
        };
        let current = match &cfg {
            Some(SsoConfig::Saml(_)) => "SAML",
            Some(SsoConfig::Oidc(_)) => "Custom OIDC",
            None => "none",
        };
        b.push_str(&format!(
            "<section id=\"manage-sso\"><h3>Manage SSO</h3><p>Configured: <span id=\"sso-protocol\">{current}</span></p>\
             <h4>SAML</h4><form method=\"post\" action=\"/admin/identity/saml\">{target}\
             <label>SSO URL <input name=\"sso_url\" value=\"{}\"></label>\
             <label>X.509 certificate (PEM) <textarea name=\"certificate_pem\" rows=\"6\" cols=\"64\"></textarea></label>\
             <label>IdP entity ID (optional) <input name=\"idp_entity_id\" value=\"{}\"></label>\
             <label>Confirm your password <input type=\"password\" name=\"password\" autocomplete=\"current-password\"></label>\
             <button id=\"add-saml\" type=\"submit\">Add SAML SSO</button></form>",
            esc(&saml_url),
            esc(&saml_entity)
        ));
        let (idp_name, client_id, discovery) = oidc
            .as_ref()
            .map(|o| {
                (
                    o.idp_name.clone(),
                    o.client_id.clone(),
                    o.discovery_url.clone(),
                )
            })
            .unwrap_or_default();
        b.push_str(&format!(
            "<h4>Custom OIDC</h4><form method=\"post\" action=\"/admin/identity/oidc\">{target}\
             <ol><li><label>Identity Provider Name <input name=\"idp_name\" value=\"{}\"></label></li>\
             <li>Create an application. Login redirect URI: <code id=\"login-redirect-uri\">{}</code></li>\
             <li>Add claims. Required claims: <ul id=\"required-claims\"><li>sub</li><li>email</li><li>given_name</li><li>family_name</li></ul></li>\
             <li>OIDC configuration: <label>Client ID <input name=\"client_id\" value=\"{}\"></label>\
             <label>Client Secret <input type=\"password\" name=\"client_secret\"></label>\
             <label>Discovery URL <input name=\"discovery_url\" value=\"{}\" placeholder=\"https://authentik.company/application/o/slug/.well-known/openid-configuration\"></label></li></ol>\
             <button id=\"save-oidc\" type=\"submit\">Save OIDC configuration</button></form>",
            esc(&idp_name),
            esc(&st.oidc_redirect_uri()),
            esc(&client_id),
            esc(&discovery)
        ));
        if oidc.is_some() {
            b.push_str(&format!(
                "<p>Application link: <code id=\"application-link\">{}</code></p>\
                 <form method=\"post\" action=\"/admin/identity/test-sso\">{target}<button id=\"test-sso\" type=\"submit\">Test SSO</button></form>",
                esc(&st.application_link(&org.id))
            ));
        }
        b.push_str("</section>");
        if cfg.is_some() {
            let on = org.sso_enabled(ctx.product);
            b.push_str(&format!(
                "<form method=\"post\" action=\"/admin/identity/sso\">{target}{}<p>Single Sign On: <span id=\"sso-status\" data-enabled=\"{on}\">{}</span> \
                 <button id=\"sso-toggle\" type=\"submit\">{}</button></p></form>",
                hidden("enabled", if on { "false" } else { "true" }),
                if on { "On" } else { "Off" },
                if on { "Turn off Single Sign On" } else { "Turn on Single Sign On" }
            ));
        }
    }
    // ENF-1: Enforce SSO and Tile URLs only once SSO is enabled.
    if org.sso_enabled(ctx.product) {
        if ctx.product == Product::Workspace {
            b.push_str(&format!(
                "<form method=\"post\" action=\"/admin/identity/enforce\">{target}{}<p>Enforce SSO: <span id=\"enforce-status\" data-enforced=\"{}\">{}</span> \
                 <button id=\"enforce-sso\" type=\"submit\">{}</button></p></form>",
                hidden("enforced", if org.enforced { "false" } else { "true" }),
                org.enforced,
                if org.enforced { "On" } else { "Off" },
                if org.enforced { "Stop enforcing SSO" } else { "Enforce SSO" }
            ));
        }
        b.push_str("<h3>Tile URLs</h3><ul id=\"tile-urls\">");
        for p in [Product::Workspace, Product::Platform] {
            let active = org.active_tile == p;
            let name = p.as_str();
            b.push_str(&format!(
                "<li><code id=\"tile-url-{name}\" data-active=\"{active}\">{}</code> {}</li>",
                esc(&st.tile_url(&org.id, p)),
                if active {
                    "<strong class=\"active\">active</strong>".to_string()
                } else {
                    format!(
                        "<form method=\"post\" action=\"/admin/identity/tile\">{target}{}<button id=\"activate-tile-{name}\" type=\"submit\">Make active</button></form>",
                        hidden("active", p.as_str())
                    )
                },
            ));
        }
        b.push_str("</ul>");
    }
    Ok(page("Identity", &b).into_response())
}

/// Re-renders the page with the outcome of an action: a notice, or the error naming the field.
fn outcome(st: &Shared, ctx: &Ctx, result: Result<String, AppError>) -> Result<Response, AppError> {
    match result {
        Ok(notice) => render(st, ctx, Some(&notice), None),
        Err(AppError::BadInput { field, message }) => {
            let mut r = render(st, ctx, None, Some(&format!("{field}: {message}")))?;
            *r.status_mut() = StatusCode::BAD_REQUEST;
            Ok(r)
        }
        Err(AppError::Conflict(m) | AppError::NotFound(m)) => {
            let mut r = render(st, ctx, None, Some(&m))?;
            *r.status_mut() = StatusCode::CONFLICT;
            Ok(r)
        }
        Err(other) => Err(other),
    }
}

macro_rules! ctx_or_return {
    ($st:expr, $jar:expr, $t:expr) => {
        match authorize(&$st, &$jar, &$t)? {
            Ok(ctx) => ctx,
            Err(r) => return Ok(r),
        }
    };
}

#[derive(Deserialize)]
pub struct DomainForm {
    #[serde(flatten)]
    t: Target,
    #[serde(default)]
    domain: String,
}

pub async fn add_domain(
    State(st): State<Shared>,
    jar: CookieJar,
    Form(f): Form<DomainForm>,
) -> Result<Response, AppError> {
    let ctx = ctx_or_return!(st, jar, f.t);
    let r = admin_ops::add_domain(&st, &ctx.org.id, &f.domain).map(|d| {
        format!(
            "Add a TXT record at {} with the value {} then press Check.",
            d.txt_name, d.txt_value
        )
    });
    outcome(&st, &ctx, r)
}

pub async fn check_domain(
    State(st): State<Shared>,
    jar: CookieJar,
    Form(f): Form<DomainForm>,
) -> Result<Response, AppError> {
    let ctx = ctx_or_return!(st, jar, f.t);
    let r = admin_ops::check_domain(&st, &ctx.org.id, &f.domain)
        .await
        .map(|d| match &d.reason {
            None => format!("{}: {}", d.domain, d.status.label()),
            Some(reason) => format!("{}: {} ({reason})", d.domain, d.status.label()),
        });
    outcome(&st, &ctx, r)
}

#[derive(Deserialize)]
pub struct SamlForm {
    #[serde(flatten)]
    t: Target,
    #[serde(default)]
    sso_url: String,
    #[serde(default)]
    certificate_pem: String,
    #[serde(default)]
    idp_entity_id: String,
    #[serde(default)]
    password: Secret,
}

/// "Add SAML SSO" then "Create": re-authentication first (CFG-4); creating it from the
/// workspace turns SSO on for the workspace and its platform organisation.
pub async fn save_saml(
    State(st): State<Shared>,
    jar: CookieJar,
    Form(f): Form<SamlForm>,
) -> Result<Response, AppError> {
    let ctx = ctx_or_return!(st, jar, f.t);
    let now = st.now();
    let user = {
        let c = st.db.conn()?;
        store::user_by_id(&c, ctx.session.user_id)?
            .ok_or_else(|| AppError::Internal("session user vanished".into()))?
    };
    let recently = ctx
        .session
        .reauth_at
        .is_some_and(|t| now - t < REAUTH_WINDOW_SECONDS);
    if !recently {
        let ok = match &user.password_hash {
            Some(h) => !f.password.is_empty() && password::verify(&f.password, h.expose()),
            // No password (SSO or social account): a fresh sign-in counts as re-authentication.
            None => now - ctx.session.created_at < REAUTH_WINDOW_SECONDS,
        };
        if !ok {
            let msg = if user.has_password {
                "password: please re-authenticate: enter your current password to add SAML SSO"
            } else {
                "password: please re-authenticate: sign out and sign in again, then add SAML SSO within 5 minutes"
            };
            return outcome(
                &st,
                &ctx,
                Err(AppError::bad(
                    "password",
                    msg.trim_start_matches("password: "),
                )),
            );
        }
        let c = st.db.conn()?;
        session::set_reauth(&c, &ctx.session.id, now)?;
    }
    let idp_entity = Some(f.idp_entity_id.as_str()).filter(|s| !s.trim().is_empty());
    let r = admin_ops::put_saml(
        &st,
        &ctx.org.id,
        &f.sso_url,
        &f.certificate_pem,
        idp_entity,
        None,
    )
    .and_then(|()| admin_ops::set_sso(&st, &ctx.org.id, true, ctx.product))
    .map(|()| "SAML SSO created and Single Sign On turned on.".to_string());
    outcome(&st, &ctx, r)
}

#[derive(Deserialize)]
pub struct OidcForm {
    #[serde(flatten)]
    t: Target,
    #[serde(default)]
    idp_name: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    client_secret: Secret,
    #[serde(default)]
    discovery_url: String,
}

pub async fn save_oidc(
    State(st): State<Shared>,
    jar: CookieJar,
    Form(f): Form<OidcForm>,
) -> Result<Response, AppError> {
    let ctx = ctx_or_return!(st, jar, f.t);
    let r = admin_ops::put_oidc(
        &st,
        &ctx.org.id,
        &f.idp_name,
        &f.client_id,
        &f.client_secret,
        &f.discovery_url,
        Default::default(),
    )
    .map(|()| "OIDC configuration saved. Use Test SSO, then turn on Single Sign On.".to_string());
    outcome(&st, &ctx, r)
}

#[derive(Deserialize)]
pub struct ToggleForm {
    #[serde(flatten)]
    t: Target,
    #[serde(default)]
    enabled: String,
    #[serde(default)]
    enforced: String,
    #[serde(default)]
    active: String,
}

pub async fn toggle_sso(
    State(st): State<Shared>,
    jar: CookieJar,
    Form(f): Form<ToggleForm>,
) -> Result<Response, AppError> {
    let ctx = ctx_or_return!(st, jar, f.t);
    let on = f.enabled == "true";
    let r = admin_ops::set_sso(&st, &ctx.org.id, on, ctx.product)
        .map(|()| format!("Single Sign On is {}.", if on { "on" } else { "off" }));
    outcome(&st, &ctx, r)
}

pub async fn toggle_enforce(
    State(st): State<Shared>,
    jar: CookieJar,
    Form(f): Form<ToggleForm>,
) -> Result<Response, AppError> {
    let ctx = ctx_or_return!(st, jar, f.t);
    let on = f.enforced == "true";
    let r = admin_ops::set_enforce(&st, &ctx.org.id, on)
        .map(|()| format!("Enforce SSO is {}.", if on { "on" } else { "off" }));
    outcome(&st, &ctx, r)
}

pub async fn switch_tile(
    State(st): State<Shared>,
    jar: CookieJar,
    Form(f): Form<ToggleForm>,
) -> Result<Response, AppError> {
    let ctx = ctx_or_return!(st, jar, f.t);
    let r = admin_ops::set_tile(&st, &ctx.org.id, &f.active)
        .map(|()| format!("The {} Tile URL is now active.", f.active));
    outcome(&st, &ctx, r)
}

pub async fn test_sso(
    State(st): State<Shared>,
    jar: CookieJar,
    Form(t): Form<Target>,
) -> Result<Response, AppError> {
    let ctx = ctx_or_return!(st, jar, t);
    sso_start::start_sso(&st, &ctx.org.id, Start::Test).await
}
