//! The product's data: organisations, users, memberships, domains, SSO configurations.
//! Functions take a `Connection` (or a transaction, which derefs to one) so callers decide
//! what one atomic change is.
use crate::secret::Secret;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

// The value names are the admin API's (wire contract, `proto::sp_admin`); the database
// stores the same names.
pub use proto::sp_admin::{
    Billing, DomainStatus, Member, Method, Plan, Product, Role, SsoProtocol as Protocol,
};

fn col_enum<T>(parse: fn(&str) -> Option<T>, idx: usize, s: String) -> rusqlite::Result<T> {
    parse(&s).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            idx,
            rusqlite::types::Type::Text,
            format!("unexpected value {s:?}").into(),
        )
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct Org {
    pub id: String,
    pub name: String,
    pub plan: Plan,
    pub billing: Billing,
    pub workspace_sso: bool,
    pub platform_sso: bool,
    pub enforced: bool,
    pub active_tile: Product,
}

impl Org {
    /// CFG-7: SSO is for Enterprise and Edu workspaces.
    pub fn workspace_can_sso(&self) -> bool {
        matches!(self.plan, Plan::Enterprise | Plan::Edu)
    }
    /// CFG-2: the platform Identity page is for Enterprise organisations on Custom or
    /// Unlimited billing.
    pub fn platform_has_identity_page(&self) -> bool {
        self.plan == Plan::Enterprise
            && matches!(self.billing, Billing::Custom | Billing::Unlimited)
    }
    pub fn sso_enabled(&self, product: Product) -> bool {
        match product {
            Product::Workspace => self.workspace_sso,
            Product::Platform => self.platform_sso,
        }
    }
    pub fn any_sso(&self) -> bool {
        self.workspace_sso || self.platform_sso
    }
}

const ORG_COLS: &str =
    "id, name, plan, billing, workspace_sso, platform_sso, enforced, active_tile";

fn org_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Org> {
    Ok(Org {
        id: r.get(0)?,
        name: r.get(1)?,
        plan: col_enum(Plan::parse, 2, r.get(2)?)?,
        billing: col_enum(Billing::parse, 3, r.get(3)?)?,
        workspace_sso: r.get(4)?,
        platform_sso: r.get(5)?,
        enforced: r.get(6)?,
        active_tile: col_enum(Product::parse, 7, r.get(7)?)?,
    })
}

pub fn new_org_id() -> String {
    let hex = uuid::Uuid::new_v4().simple().to_string();
    format!("org-{}", &hex[..24])
}

pub fn create_org(
    c: &Connection,
    name: &str,
    plan: Plan,
    billing: Billing,
    now: i64,
) -> rusqlite::Result<Org> {
    create_org_with_id(c, &new_org_id(), name, plan, billing, now)
}

/// An organisation whose ID is chosen by the caller (test mode: an IdP application was
/// registered with this ID in its ACS URL and Audience before the SP started).
pub fn create_org_with_id(
    c: &Connection,
    id: &str,
    name: &str,
    plan: Plan,
    billing: Billing,
    now: i64,
) -> rusqlite::Result<Org> {
    c.execute(
        "INSERT INTO orgs(id, name, plan, billing, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![id, name, plan.as_str(), billing.as_str(), now],
    )?;
    get_org(c, id)?.ok_or(rusqlite::Error::QueryReturnedNoRows)
}

pub fn get_org(c: &Connection, id: &str) -> rusqlite::Result<Option<Org>> {
    c.query_row(
        &format!("SELECT {ORG_COLS} FROM orgs WHERE id = ?1"),
        [id],
        org_row,
    )
    .optional()
}

pub fn set_org_flag(
    c: &Connection,
    id: &str,
    column: OrgFlag,
    value: bool,
) -> rusqlite::Result<()> {
    let col = match column {
        OrgFlag::WorkspaceSso => "workspace_sso",
        OrgFlag::PlatformSso => "platform_sso",
        OrgFlag::Enforced => "enforced",
    };
    c.execute(
        &format!("UPDATE orgs SET {col} = ?1 WHERE id = ?2"),
        params![value, id],
    )?;
    Ok(())
}

#[derive(Clone, Copy)]
pub enum OrgFlag {
    WorkspaceSso,
    PlatformSso,
    Enforced,
}

pub fn set_active_tile(c: &Connection, id: &str, product: Product) -> rusqlite::Result<()> {
    c.execute(
        "UPDATE orgs SET active_tile = ?1 WHERE id = ?2",
        params![product.as_str(), id],
    )?;
    Ok(())
}

#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub method: Method,
    pub has_password: bool,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub birthday: Option<String>,
    #[serde(skip)]
    pub password_hash: Option<Secret>,
}

impl User {
    pub fn display_name(&self) -> String {
        let parts: Vec<&str> = [self.given_name.as_deref(), self.family_name.as_deref()]
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty())
            .collect();
        if parts.is_empty() {
            self.email.clone()
        } else {
            parts.join(" ")
        }
    }
    pub fn domain(&self) -> &str {
        email_domain(&self.email)
    }
}

pub fn email_domain(email: &str) -> &str {
    email.rsplit_once('@').map(|(_, d)| d).unwrap_or("")
}

const USER_COLS: &str = "id, email, method, password_hash, given_name, family_name, birthday";

fn user_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    let hash: Option<String> = r.get(3)?;
    Ok(User {
        id: r.get(0)?,
        email: r.get(1)?,
        method: col_enum(Method::parse, 2, r.get(2)?)?,
        has_password: hash.is_some(),
        password_hash: hash.map(Secret::new),
        given_name: r.get(4)?,
        family_name: r.get(5)?,
        birthday: r.get(6)?,
    })
}

pub fn user_by_email(c: &Connection, email: &str) -> rusqlite::Result<Option<User>> {
    c.query_row(
        &format!("SELECT {USER_COLS} FROM users WHERE email = ?1"),
        [email.trim()],
        user_row,
    )
    .optional()
}

pub fn user_by_id(c: &Connection, id: i64) -> rusqlite::Result<Option<User>> {
    c.query_row(
        &format!("SELECT {USER_COLS} FROM users WHERE id = ?1"),
        [id],
        user_row,
    )
    .optional()
}

pub struct NewUser<'a> {
    pub email: &'a str,
    pub method: Method,
    pub password_hash: Option<String>,
    pub given_name: Option<&'a str>,
    pub family_name: Option<&'a str>,
}

pub fn insert_user(c: &Connection, u: &NewUser<'_>, now: i64) -> rusqlite::Result<i64> {
    c.execute(
        "INSERT INTO users(email, method, password_hash, given_name, family_name, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![u.email, u.method.as_str(), u.password_hash, u.given_name, u.family_name, now],
    )?;
    Ok(c.last_insert_rowid())
}

pub fn set_user_method(c: &Connection, user: i64, method: Method) -> rusqlite::Result<()> {
    c.execute(
        "UPDATE users SET method = ?1 WHERE id = ?2",
        params![method.as_str(), user],
    )?;
    Ok(())
}

pub fn set_user_names(
    c: &Connection,
    user: i64,
    given: Option<&str>,
    family: Option<&str>,
    birthday: Option<&str>,
) -> rusqlite::Result<()> {
    c.execute(
        "UPDATE users SET given_name = COALESCE(?1, given_name), family_name = COALESCE(?2, family_name), birthday = COALESCE(?3, birthday) WHERE id = ?4",
        params![given, family, birthday, user],
    )?;
    Ok(())
}

pub fn set_password_hash(c: &Connection, user: i64, hash: &str) -> rusqlite::Result<()> {
    c.execute(
        "UPDATE users SET password_hash = ?1, method = 'password' WHERE id = ?2",
        params![hash, user],
    )?;
    Ok(())
}

pub fn add_membership(c: &Connection, org: &str, user: i64, role: Role) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO memberships(org_id, user_id, role) VALUES (?1, ?2, ?3)
         ON CONFLICT(org_id, user_id) DO UPDATE SET role = excluded.role",
        params![org, user, role.as_str()],
    )?;
    Ok(())
}

pub fn role_in(c: &Connection, org: &str, user: i64) -> rusqlite::Result<Option<Role>> {
    let role: Option<String> = c
        .query_row(
            "SELECT role FROM memberships WHERE org_id = ?1 AND user_id = ?2",
            params![org, user],
            |r| r.get(0),
        )
        .optional()?;
    Ok(role.and_then(|r| Role::parse(&r)))
}

pub fn orgs_of_user(c: &Connection, user: i64) -> rusqlite::Result<Vec<(Org, Role)>> {
    let cols = ORG_COLS
        .split(", ")
        .map(|col| format!("o.{col}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut st = c.prepare(&format!(
        "SELECT {cols}, m.role FROM orgs o JOIN memberships m ON m.org_id = o.id WHERE m.user_id = ?1 ORDER BY o.created_at, o.id"
    ))?;
    let rows = st.query_map([user], |r| {
        let org = org_row(r)?;
        let role = col_enum(Role::parse, 8, r.get(8)?)?;
        Ok((org, role))
    })?;
    rows.collect()
}

pub fn members_of(c: &Connection, org: &str) -> rusqlite::Result<Vec<Member>> {
    let mut st = c.prepare(
        "SELECT u.email, m.role, u.method, u.password_hash IS NOT NULL, u.given_name, u.family_name
         FROM users u JOIN memberships m ON m.user_id = u.id WHERE m.org_id = ?1 ORDER BY u.email",
    )?;
    let rows = st.query_map([org], |r| {
        Ok(Member {
            email: r.get(0)?,
            role: col_enum(Role::parse, 1, r.get(1)?)?,
            method: col_enum(Method::parse, 2, r.get(2)?)?,
            has_password: r.get(3)?,
            given_name: r.get(4)?,
            family_name: r.get(5)?,
        })
    })?;
    rows.collect()
}

// ---- domains ----

pub const VERIFICATION_WINDOW_SECONDS: i64 = 7 * 24 * 3600;
pub const MAX_VERIFIED_DOMAINS: i64 = 99;

#[derive(Debug, Clone)]
pub struct Domain {
    pub domain: String,
    pub txt_value: String,
    pub started_at: i64,
    pub verified_at: Option<i64>,
}

impl Domain {
    /// DV-3/DV-4: a pending attempt expires after 7 days; a completed one never does.
    pub fn status(&self, now: i64) -> DomainStatus {
        if self.verified_at.is_some() {
            DomainStatus::Verified
        } else if now - self.started_at >= VERIFICATION_WINDOW_SECONDS {
            DomainStatus::Expired
        } else {
            DomainStatus::Pending
        }
    }
    pub fn expires_at(&self) -> i64 {
        self.started_at + VERIFICATION_WINDOW_SECONDS
    }
}

/// Where the TXT record for a domain is published.
pub fn txt_name(domain: &str) -> String {
    format!("_reference-sp-challenge.{domain}")
}

pub fn domains_of(c: &Connection, org: &str) -> rusqlite::Result<Vec<Domain>> {
    let mut st = c.prepare(
        "SELECT domain, txt_value, started_at, verified_at FROM domains WHERE org_id = ?1 ORDER BY domain",
    )?;
    let rows = st.query_map([org], domain_row)?;
    rows.collect()
}

fn domain_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Domain> {
    Ok(Domain {
        domain: r.get(0)?,
        txt_value: r.get(1)?,
        started_at: r.get(2)?,
        verified_at: r.get(3)?,
    })
}

pub fn domain_of(c: &Connection, org: &str, domain: &str) -> rusqlite::Result<Option<Domain>> {
    c.query_row(
        "SELECT domain, txt_value, started_at, verified_at FROM domains WHERE org_id = ?1 AND domain = ?2",
        params![org, domain],
        domain_row,
    )
    .optional()
}

/// The organisation where `domain` is verified, if any (DV-5: at most one).
pub fn verified_owner(c: &Connection, domain: &str) -> rusqlite::Result<Option<String>> {
    c.query_row(
        "SELECT org_id FROM domains WHERE domain = ?1 AND verified_at IS NOT NULL",
        [domain],
        |r| r.get(0),
    )
    .optional()
}

pub fn verified_count(c: &Connection, org: &str) -> rusqlite::Result<i64> {
    c.query_row(
        "SELECT COUNT(*) FROM domains WHERE org_id = ?1 AND verified_at IS NOT NULL",
        [org],
        |r| r.get(0),
    )
}

pub fn is_domain_verified_in(c: &Connection, org: &str, domain: &str) -> rusqlite::Result<bool> {
    Ok(verified_owner(c, domain)?.as_deref() == Some(org))
}

/// Starts (or restarts, with a new key) a verification attempt.
pub fn upsert_domain_attempt(
    c: &Connection,
    org: &str,
    domain: &str,
    txt_value: &str,
    now: i64,
) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO domains(org_id, domain, txt_value, started_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(org_id, domain) DO UPDATE SET txt_value = excluded.txt_value, started_at = excluded.started_at, verified_at = NULL",
        params![org, domain, txt_value, now],
    )?;
    Ok(())
}

pub fn mark_verified(c: &Connection, org: &str, domain: &str, now: i64) -> rusqlite::Result<()> {
    c.execute(
        "UPDATE domains SET verified_at = ?1 WHERE org_id = ?2 AND domain = ?3",
        params![now, org, domain],
    )?;
    Ok(())
}

// ---- SSO configuration (CFG-1: one per organisation ID) ----

#[derive(Debug, Clone, Serialize)]
pub struct SamlConfig {
    pub sso_url: String,
    pub certificate_pem: String,
    pub idp_entity_id: Option<String>,
    /// The IdP's SingleLogoutService; without it sign-out is local only.
    pub slo_url: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OidcConfig {
    pub idp_name: String,
    pub client_id: String,
    pub client_secret: Secret,
    pub discovery_url: String,
    /// `query.jwt`: the authorization response comes as a signed JARM JWT; absent: plain.
    pub response_mode: Option<String>,
    /// Code flow (`code`) or hybrid (`code id_token`, `code id_token token`).
    pub flow: crate::oidc_hybrid::Flow,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "protocol", rename_all = "lowercase")]
pub enum SsoConfig {
    Saml(SamlConfig),
    Oidc(OidcConfig),
}

pub fn sso_config(c: &Connection, org: &str) -> rusqlite::Result<Option<SsoConfig>> {
    c.query_row(
        "SELECT protocol, saml_sso_url, saml_certificate_pem, saml_idp_entity_id, oidc_idp_name, oidc_client_id, oidc_client_secret, oidc_discovery_url, saml_slo_url, oidc_response_mode, oidc_response_type, oidc_require_s_hash FROM sso_configs WHERE org_id = ?1",
        [org],
        |r| {
            let protocol = col_enum(Protocol::parse, 0, r.get(0)?)?;
            Ok(match protocol {
                Protocol::Saml => SsoConfig::Saml(SamlConfig {
                    sso_url: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                    certificate_pem: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                    idp_entity_id: r.get(3)?,
                    slo_url: r.get(8)?,
                }),
                Protocol::Oidc => SsoConfig::Oidc(OidcConfig {
                    idp_name: r.get::<_, Option<String>>(4)?.unwrap_or_default(),
                    client_id: r.get::<_, Option<String>>(5)?.unwrap_or_default(),
                    client_secret: Secret::new(r.get::<_, Option<String>>(6)?.unwrap_or_default()),
                    discovery_url: r.get::<_, Option<String>>(7)?.unwrap_or_default(),
                    response_mode: r.get(9)?,
                    // Stored only after Flow::parse accepted it; a row edited by hand to
                    // something else falls back to the code flow.
                    flow: crate::oidc_hybrid::Flow::parse(
                        r.get::<_, Option<String>>(10)?.as_deref(),
                        r.get::<_, bool>(11)?,
                    )
                    .unwrap_or_default(),
                }),
            })
        },
    )
    .optional()
}

pub fn put_sso_config(
    c: &Connection,
    org: &str,
    cfg: &SsoConfig,
    now: i64,
) -> rusqlite::Result<()> {
    c.execute("DELETE FROM sso_configs WHERE org_id = ?1", [org])?;
    match cfg {
        SsoConfig::Saml(s) => c.execute(
            "INSERT INTO sso_configs(org_id, protocol, saml_sso_url, saml_certificate_pem, saml_idp_entity_id, saml_slo_url, updated_at) VALUES (?1, 'saml', ?2, ?3, ?4, ?5, ?6)",
            params![org, s.sso_url, s.certificate_pem, s.idp_entity_id, s.slo_url, now],
        )?,
        SsoConfig::Oidc(o) => c.execute(
            "INSERT INTO sso_configs(org_id, protocol, oidc_idp_name, oidc_client_id, oidc_client_secret, oidc_discovery_url, oidc_response_mode, updated_at, oidc_response_type, oidc_require_s_hash) VALUES (?1, 'oidc', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![org, o.idp_name, o.client_id, o.client_secret.expose(), o.discovery_url, o.response_mode, now, o.flow.response_type(), o.flow.require_s_hash],
        )?,
    };
    Ok(())
}

// ---- SSO profiles: which IdP subject belongs to which user (ATTR-6/7, ERR-5) ----

pub struct SsoProfile {
    pub email: String,
    pub user_id: i64,
}

pub fn sso_profile(
    c: &Connection,
    org: &str,
    subject: &str,
) -> rusqlite::Result<Option<SsoProfile>> {
    c.query_row(
        "SELECT email, user_id FROM sso_profiles WHERE org_id = ?1 AND subject = ?2",
        params![org, subject],
        |r| {
            Ok(SsoProfile {
                email: r.get(0)?,
                user_id: r.get(1)?,
            })
        },
    )
    .optional()
}

pub fn insert_sso_profile(
    c: &Connection,
    org: &str,
    subject: &str,
    email: &str,
    user: i64,
) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO sso_profiles(org_id, subject, email, user_id) VALUES (?1, ?2, ?3, ?4)",
        params![org, subject, email, user],
    )?;
    Ok(())
}

pub fn delete_sso_profiles(c: &Connection, org: &str, email: &str) -> rusqlite::Result<usize> {
    c.execute(
        "DELETE FROM sso_profiles WHERE org_id = ?1 AND email = ?2",
        params![org, email],
    )
}
