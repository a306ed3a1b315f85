//! Every admin action, shared by the admin JSON API and the HTML Identity page, with the
//! documented rules (CFG-*, DV-*, ENF-1) and input checks that name the bad field.
use crate::error::AppError;
use crate::secret::Secret;
use crate::state::AppState;
use crate::store::{self, Billing, DomainStatus, Method, Org, Plan, Product, Role, SsoConfig};
use crate::{certs, dns, password};

fn parse_enum<T>(
    field: &str,
    value: &str,
    parse: fn(&str) -> Option<T>,
    all: &[&str],
) -> Result<T, AppError> {
    parse(value)
        .ok_or_else(|| AppError::bad(field, format!("{value:?} is not one of {}", all.join(", "))))
}

pub fn require_org(state: &AppState, org: &str) -> Result<Org, AppError> {
    let c = state.db.conn()?;
    store::get_org(&c, org)?.ok_or_else(|| AppError::NotFound(format!("no organisation {org:?}")))
}

/// `id` is the organisation ID to use (test mode only), else a new random one.
pub fn create_org(
    state: &AppState,
    id: Option<&str>,
    name: &str,
    plan: &str,
    billing: &str,
) -> Result<Org, AppError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(AppError::bad("name", "must not be empty"));
    }
    let plan = parse_enum("plan", plan, Plan::parse, Plan::ALL)?;
    let billing = parse_enum("billing", billing, Billing::parse, Billing::ALL)?;
    let c = state.db.conn()?;
    match id {
        None => Ok(store::create_org(&c, name, plan, billing, state.now())?),
        Some(id) => {
            let ok = (3..=64).contains(&id.len())
                && id
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-');
            if !ok {
                return Err(AppError::bad(
                    "org_id",
                    format!("{id:?} must be 3 to 64 characters of a-z, 0-9 and '-'"),
                ));
            }
            if store::get_org(&c, id)?.is_some() {
                return Err(AppError::bad("org_id", format!("{id:?} already exists")));
            }
            Ok(store::create_org_with_id(
                &c,
                id,
                name,
                plan,
                billing,
                state.now(),
            )?)
        }
    }
}

pub fn check_email(field: &str, email: &str) -> Result<String, AppError> {
    let e = email.trim();
    let mut parts = e.split('@');
    let ok = matches!((parts.next(), parts.next(), parts.next()), (Some(l), Some(d), None) if !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.'))
        && !e.chars().any(char::is_whitespace);
    if !ok {
        return Err(AppError::bad(
            field,
            format!("{email:?} is not an email address"),
        ));
    }
    Ok(e.to_string())
}

pub struct NewMember<'a> {
    pub email: &'a str,
    pub role: &'a str,
    pub method: &'a str,
    pub password: Option<&'a Secret>,
    pub given_name: Option<&'a str>,
    pub family_name: Option<&'a str>,
}

/// Creates the user if needed and adds the membership: one transaction, so a failing second
/// step (e.g. no such organisation) leaves no user behind.
pub fn add_member(state: &AppState, org: &str, m: &NewMember<'_>) -> Result<(), AppError> {
    let email = check_email("email", m.email)?;
    let role = parse_enum("role", m.role, Role::parse, Role::ALL)?;
    let method = parse_enum("method", m.method, Method::parse, Method::ALL)?;
    let hash = match (method, m.password) {
        (Method::Password, Some(p)) if !p.is_empty() => {
            Some(password::hash(p).map_err(AppError::Internal)?)
        }
        (Method::Password, _) => {
            return Err(AppError::bad(
                "password",
                "is required when method is \"password\"",
            ));
        }
        (_, Some(p)) if !p.is_empty() => {
            return Err(AppError::bad(
                "password",
                format!(
                    "only \"password\" accounts have a password (method is {:?})",
                    method.as_str()
                ),
            ));
        }
        _ => None,
    };
    let now = state.now();
    state.db.tx(|tx| {
        let user_id = match store::user_by_email(tx, &email)? {
            Some(u) => u.id,
            None => store::insert_user(
                tx,
                &store::NewUser {
                    email: &email,
                    method,
                    password_hash: hash,
                    given_name: m.given_name.filter(|s| !s.trim().is_empty()),
                    family_name: m.family_name.filter(|s| !s.trim().is_empty()),
                },
                now,
            )?,
        };
        store::add_membership(tx, org, user_id, role).map_err(|e| match e {
            rusqlite::Error::SqliteFailure(f, _)
                if f.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                AppError::NotFound(format!("no organisation {org:?}"))
            }
            other => other.into(),
        })
    })
}

/// A domain as the admin API and the Identity page show it (wire contract).
pub type DomainView = proto::sp_admin::Domain;

fn view(d: &store::Domain, now: i64, reason: Option<String>) -> DomainView {
    let status = d.status(now);
    DomainView {
        domain: d.domain.clone(),
        status,
        txt_name: store::txt_name(&d.domain),
        txt_value: d.txt_value.clone(),
        started_at: crate::clock::display_unix(d.started_at),
        expires_at: (status != DomainStatus::Verified)
            .then(|| crate::clock::display_unix(d.expires_at())),
        verified_at: d.verified_at.map(crate::clock::display_unix),
        reason,
    }
}

pub fn list_domains(state: &AppState, org: &str) -> Result<Vec<DomainView>, AppError> {
    require_org(state, org)?;
    let now = state.now();
    let c = state.db.conn()?;
    Ok(store::domains_of(&c, org)?
        .iter()
        .map(|d| view(d, now, None))
        .collect())
}

pub fn normalize_domain(input: &str) -> Result<String, AppError> {
    let d = input.trim().trim_end_matches('.').to_ascii_lowercase();
    let labels_ok = d.split('.').count() >= 2
        && d.len() <= 253
        && d.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if !labels_ok {
        return Err(AppError::bad(
            "domain",
            format!("{input:?} is not a domain name like example.com"),
        ));
    }
    Ok(d)
}

const VERIFIED_ELSEWHERE: &str = "This domain is already verified in another organization. Domains can only be verified on a single organization/workspace; contact Support to use it in several.";

/// Starts a verification attempt (or a new one after expiry) with a new TXT key.
pub fn add_domain(state: &AppState, org: &str, domain: &str) -> Result<DomainView, AppError> {
    let domain = normalize_domain(domain)?;
    require_org(state, org)?;
    let now = state.now();
    let key = format!("reference-sp-verification={}", password::random_token());
    state.db.tx(|tx| {
        match store::verified_owner(tx, &domain)? {
            Some(owner) if owner == org => {
                return Err(AppError::Conflict(format!(
                    "{domain} is already verified in this organization"
                )));
            }
            Some(_) => return Err(AppError::Conflict(VERIFIED_ELSEWHERE.into())),
            None => {}
        }
        if store::verified_count(tx, org)? >= store::MAX_VERIFIED_DOMAINS {
            return Err(AppError::Conflict(format!(
                "An organization can have at most {} verified domains.",
                store::MAX_VERIFIED_DOMAINS
            )));
        }
        store::upsert_domain_attempt(tx, org, &domain, &key, now)?;
        let d = store::domain_of(tx, org, &domain)?
            .ok_or_else(|| AppError::Internal("domain row vanished".into()))?;
        Ok(view(&d, now, None))
    })
}

/// "Check": a real DNS lookup of the TXT record (DV-1/2), refused when the 7 days are over
/// (DV-3), when another organisation has the domain (DV-5) or at 99 verified (DV-7).
pub async fn check_domain(
    state: &AppState,
    org: &str,
    domain: &str,
) -> Result<DomainView, AppError> {
    let domain = normalize_domain(domain)?;
    require_org(state, org)?;
    let now = state.now();
    let d = {
        let c = state.db.conn()?;
        store::domain_of(&c, org, &domain)?.ok_or_else(|| {
            AppError::NotFound(format!(
                "{domain} has not been added to {org}; add it first"
            ))
        })?
    };
    match d.status(now) {
        DomainStatus::Verified => return Ok(view(&d, now, None)),
        DomainStatus::Expired => {
            return Ok(view(
                &d,
                now,
                Some(format!(
                    "The 7-day setup period ended on {} before verification was completed. Start domain verification again.",
                    crate::clock::display_unix(d.expires_at())
                )),
            ));
        }
        DomainStatus::Pending => {}
    }
    let name = store::txt_name(&domain);
    let Some(server) = state.dns_server else {
        return Ok(view(
            &d,
            now,
            Some("no DNS server is configured (--dns)".into()),
        ));
    };
    let found = match dns::lookup_txt(server, &name).await {
        Ok(values) => values,
        Err(e) => {
            return Ok(view(
                &d,
                now,
                Some(format!("the TXT record could not be read: {e}")),
            ));
        }
    };
    if !found.iter().any(|v| v.trim() == d.txt_value) {
        let reason = if found.is_empty() {
            format!("no TXT record found at {name}")
        } else {
            format!("the TXT records at {name} do not hold the expected value")
        };
        return Ok(view(&d, now, Some(reason)));
    }
    state.db.tx(|tx| {
        if let Some(owner) = store::verified_owner(tx, &domain)? {
            if owner != org {
                return Err(AppError::Conflict(VERIFIED_ELSEWHERE.into()));
            }
        }
        if store::verified_count(tx, org)? >= store::MAX_VERIFIED_DOMAINS {
            return Err(AppError::Conflict(format!(
                "An organization can have at most {} verified domains.",
                store::MAX_VERIFIED_DOMAINS
            )));
        }
        store::mark_verified(tx, org, &domain, now)?;
        let d = store::domain_of(tx, org, &domain)?
            .ok_or_else(|| AppError::Internal("domain row vanished".into()))?;
        Ok(view(&d, now, None))
    })
}

fn require_sso_setup_allowed(state: &AppState, org: &Org) -> Result<(), AppError> {
    if !org.workspace_can_sso() && !org.platform_has_identity_page() {
        return Err(AppError::Conflict(
            "SSO requires an Enterprise or Edu workspace.".into(),
        ));
    }
    let c = state.db.conn()?;
    if store::verified_count(&c, &org.id)? == 0 {
        return Err(AppError::Conflict(
            "Verify at least one domain before setting up SSO.".into(),
        ));
    }
    Ok(())
}

fn check_http_url(field: &str, value: &str) -> Result<String, AppError> {
    let v = value.trim();
    match url::Url::parse(v) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(v.to_string()),
        Ok(_) => Err(AppError::bad(field, format!("{v:?} is not an http(s) URL"))),
        Err(e) => Err(AppError::bad(
            field,
            format!("{v:?} is not an absolute URL: {e}"),
        )),
    }
}

pub fn put_saml(
    state: &AppState,
    org: &str,
    sso_url: &str,
    certificate_pem: &str,
    idp_entity_id: Option<&str>,
    slo_url: Option<&str>,
) -> Result<(), AppError> {
    let org = require_org(state, org)?;
    let sso_url = check_http_url("sso_url", sso_url)?;
    let slo_url = slo_url
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|u| check_http_url("slo_url", u))
        .transpose()?;
    let cert = certs::parse_certificate(certificate_pem)
        .map_err(|m| AppError::bad("certificate_pem", m))?;
    let pem = cert
        .to_pem()
        .map_err(|e| AppError::bad("certificate_pem", e.to_string()))?;
    require_sso_setup_allowed(state, &org)?;
    let cfg = SsoConfig::Saml(store::SamlConfig {
        sso_url,
        certificate_pem: String::from_utf8_lossy(&pem).into_owned(),
        idp_entity_id: idp_entity_id
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from),
        slo_url,
    });
    state
        .db
        .tx(|tx| store::put_sso_config(tx, &org.id, &cfg, state.now()).map_err(AppError::from))
}

/// How an OIDC connection's authorization response comes back: the plain query (the
/// default), a JARM JWT (`mode: Some("query.jwt")`) or the hybrid flow.
#[derive(Debug, Default, Clone, Copy)]
pub struct ResponseShape<'a> {
    pub mode: Option<&'a str>,
    pub flow: crate::oidc_hybrid::Flow,
}

pub fn put_oidc(
    state: &AppState,
    org: &str,
    idp_name: &str,
    client_id: &str,
    client_secret: &Secret,
    discovery_url: &str,
    shape: ResponseShape<'_>,
) -> Result<(), AppError> {
    let org = require_org(state, org)?;
    let (response_mode, flow) = (shape.mode, shape.flow);
    let response_mode = crate::oidc_jarm::response_mode(response_mode)
        .map_err(|why| AppError::bad("response_mode", why))?;
    if idp_name.trim().is_empty() {
        return Err(AppError::bad("idp_name", "must not be empty"));
    }
    if client_id.trim().is_empty() {
        return Err(AppError::bad("client_id", "must not be empty"));
    }
    if client_secret.expose().trim().is_empty() {
        return Err(AppError::bad("client_secret", "must not be empty"));
    }
    let discovery_url = check_http_url("discovery_url", discovery_url)?;
    if !discovery_url.ends_with("/.well-known/openid-configuration") {
        return Err(AppError::bad(
            "discovery_url",
            "must end with /.well-known/openid-configuration",
        ));
    }
    require_sso_setup_allowed(state, &org)?;
    let cfg = SsoConfig::Oidc(store::OidcConfig {
        idp_name: idp_name.trim().to_string(),
        client_id: client_id.trim().to_string(),
        client_secret: Secret::new(client_secret.expose().trim()),
        discovery_url,
        response_mode,
        flow,
    });
    state
        .db
        .tx(|tx| store::put_sso_config(tx, &org.id, &cfg, state.now()).map_err(AppError::from))
}

/// The "Single Sign On" toggle. On the workspace it also switches the platform organisation
/// (they share the organisation ID); on the platform it switches only the platform.
pub fn set_sso(
    state: &AppState,
    org: &str,
    enabled: bool,
    product: Product,
) -> Result<(), AppError> {
    let org = require_org(state, org)?;
    if product == Product::Platform && !org.platform_has_identity_page() {
        return Err(AppError::Conflict(
            "The Identity page is available for Enterprise Platform organizations with a Custom or Unlimited billing plan.".into(),
        ));
    }
    if product == Product::Workspace && enabled && !org.workspace_can_sso() {
        return Err(AppError::Conflict(
            "SSO requires an Enterprise or Edu workspace.".into(),
        ));
    }
    if enabled {
        require_sso_setup_allowed(state, &org)?;
        let c = state.db.conn()?;
        if store::sso_config(&c, &org.id)?.is_none() {
            return Err(AppError::Conflict(
                "Add a SAML or OIDC configuration before enabling SSO.".into(),
            ));
        }
    }
    state.db.tx(|tx| {
        match product {
            Product::Workspace => {
                store::set_org_flag(tx, &org.id, store::OrgFlag::WorkspaceSso, enabled)?;
                store::set_org_flag(tx, &org.id, store::OrgFlag::PlatformSso, enabled)?;
            }
            Product::Platform => {
                store::set_org_flag(tx, &org.id, store::OrgFlag::PlatformSso, enabled)?
            }
        }
        Ok(())
    })
}

pub fn set_enforce(state: &AppState, org: &str, enforced: bool) -> Result<(), AppError> {
    let org = require_org(state, org)?;
    if enforced && !org.workspace_sso {
        return Err(AppError::Conflict(
            "Enforce SSO is available only after SSO is enabled.".into(),
        ));
    }
    let c = state.db.conn()?;
    store::set_org_flag(&c, &org.id, store::OrgFlag::Enforced, enforced)?;
    Ok(())
}

pub fn set_tile(state: &AppState, org: &str, active: &str) -> Result<(), AppError> {
    let product = parse_enum("active", active, Product::parse, Product::ALL)?;
    let org = require_org(state, org)?;
    if !org.any_sso() {
        return Err(AppError::Conflict(
            "Tile URLs are available only after SSO is enabled.".into(),
        ));
    }
    let c = state.db.conn()?;
    store::set_active_tile(&c, &org.id, product)?;
    Ok(())
}
