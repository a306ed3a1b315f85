//! Tenants: one imitated IdP each, with its users, SP, keys, faults, clock and exchange
//! log. Tenants share nothing, so parallel trials never see each other. What callers send and
//! read is the wire contract's (`proto::idp`, re-exported here); the checks that need more
//! than the types (URLs, certificates, emails, ids, clock bounds) are made here.

use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::fault::{Fault, Protocol};
use crate::keys::TenantKeys;
use crate::oidc::layout::{Layout, LayoutKind};
use crate::oidc::state::TenantOidc;
use crate::profile::{Profile, ProfileBehaviour as _};
use crate::record::{Exchange, MAX_EXCHANGES};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use time::OffsetDateTime;

pub use proto::idp::{
    App, AppMode, MAX_CLOCK_OFFSET_SECONDS, OidcClient, OidcInfo, SamlInfo, SamlOptions, SignMode,
    SpSpec, TenantInfo, TenantSpec, TrialLease, User, UserPatch,
};

#[derive(Debug, Clone)]
pub struct UserRecord {
    pub uid: String,
    pub user: User,
}

/// A SAML AuthnRequest waiting for the user to log in.
#[derive(Debug, Clone)]
pub struct PendingAuthn {
    pub request_id: Option<String>,
    pub acs_url: Option<String>,
    pub sp_issuer: Option<String>,
    pub relay_state: Option<String>,
}

/// A response as it was delivered, kept for the `replay` fault.
#[derive(Debug, Clone)]
pub struct DeliveredResponse {
    pub acs_url: String,
    pub saml_response_b64: String,
    pub relay_state: Option<String>,
}

/// What the IdP's last genuine response told an SP about a user's session: what a
/// LogoutRequest for that session names (single logout).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamlSession {
    pub name_id: String,
    pub name_id_format: String,
    pub session_index: String,
}

#[derive(Debug)]
pub struct Tenant {
    pub id: String,
    pub profile: Profile,
    pub users: Vec<UserRecord>,
    pub sp: SpSpec,
    pub saml: SamlOptions,
    pub faults: Vec<Fault>,
    pub next_faults: Vec<Fault>,
    /// A forge for the next SAML response only (consumed by it).
    pub next_forge: Option<proto::forge::ForgeSpec>,
    pub clock: Clock,
    pub apps: Vec<App>,
    pub oidc_clients: Vec<OidcClient>,
    pub keys: Arc<TenantKeys>,
    /// `mockidp_session` cookie value -> user uid.
    pub sessions: HashMap<String, String>,
    /// Flow id (carried through the login page) -> pending SAML request.
    pub pending_saml: HashMap<String, PendingAuthn>,
    pub last_saml_response: Option<DeliveredResponse>,
    /// User uid -> the session the last response opened at the SP (single logout).
    pub saml_sessions: HashMap<String, SamlSession>,
    pub exchanges: Vec<Exchange>,
    /// OIDC flows, codes, access tokens and parsed JWS keys (`crate::oidc`).
    pub oidc: TenantOidc,
    /// Set for a tenant kept in the state directory (`TenantSpec.pinned`).
    pub pinned: Option<Pinned>,
}

/// What a caller shapes in a tenant: what a pinned tenant keeps as its base (and writes to
/// `tenant.json`) and what a trial overlay replaces. Validated when made.
#[derive(Debug, Clone)]
pub struct Shape {
    pub users: Vec<UserRecord>,
    pub sp: SpSpec,
    pub saml: SamlOptions,
    pub faults: Vec<Fault>,
    pub clock_offset_seconds: i64,
    pub apps: Vec<App>,
    pub oidc_clients: Vec<OidcClient>,
}

impl Shape {
    /// The shaping parts of a spec, checked (paths as in the spec: `users[0].email`).
    pub fn from_spec(spec: &TenantSpec) -> Result<Shape> {
        validate_clock_offset(spec.clock_offset_seconds, "clock_offset_seconds")?;
        let users = user_records(spec.users.clone(), "users")?;
        let sp = match &spec.sp {
            Some(sp) => {
                validate_sp(sp, "sp")?;
                sp.clone()
            }
            None => SpSpec::default(),
        };
        validate_apps(&spec.apps, "apps")?;
        let mut oidc_clients: Vec<OidcClient> = Vec::new();
        for (i, c) in spec.oidc_clients.iter().enumerate() {
            push_oidc_client(&mut oidc_clients, c.clone(), &format!("oidc_clients[{i}]"))?;
        }
        Ok(Shape {
            users,
            sp,
            saml: spec.saml.clone(),
            faults: spec.faults.clone(),
            clock_offset_seconds: spec.clock_offset_seconds,
            apps: spec.apps.clone(),
            oidc_clients,
        })
    }
}

/// Checked user records for a directory (`prefix[i]` names a bad entry).
pub fn user_records(users: Vec<User>, prefix: &str) -> Result<Vec<UserRecord>> {
    let mut records = Vec::with_capacity(users.len());
    for (i, user) in users.into_iter().enumerate() {
        push_user(&mut records, user, &format!("{prefix}[{i}]"))?;
    }
    Ok(records)
}

/// The trial holding a pinned tenant. Real time: the trial may move the tenant's clock.
#[derive(Debug, Clone)]
pub struct Lease {
    pub trial_id: String,
    pub since: OffsetDateTime,
    pub until: OffsetDateTime,
}

impl Lease {
    pub fn expired(&self, now: OffsetDateTime) -> bool {
        now >= self.until
    }

    pub fn wire(&self, now: OffsetDateTime) -> TrialLease {
        TrialLease {
            trial_id: self.trial_id.clone(),
            since: crate::clock::rfc3339(self.since),
            until: crate::clock::rfc3339(self.until),
            expired: self.expired(now),
        }
    }
}

/// A pinned tenant's directory, persisted base and current lease.
#[derive(Debug)]
pub struct Pinned {
    pub dir: PathBuf,
    pub base: Shape,
    pub lease: Option<Lease>,
}

pub fn random_id(prefix: &str) -> String {
    format!("{prefix}{}", hex::encode(rand::random::<[u8; 16]>()))
}

fn valid_tenant_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 40
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn check_email(path: &str, email: &str) -> Result<()> {
    let ok = email.split_once('@').is_some_and(|(l, d)| {
        !l.is_empty() && !d.is_empty() && !email.contains(char::is_whitespace)
    });
    if ok {
        Ok(())
    } else {
        Err(Error::bad_input(
            path,
            format!("'{email}' is not an email address"),
        ))
    }
}

fn check_url(path: &str, value: &str) -> Result<()> {
    url::Url::parse(value)
        .map(|_| ())
        .map_err(|e| Error::bad_input(path, format!("'{value}' is not an absolute URL: {e}")))
}

/// `field` below `path` (`users[0]` + `email`), or `field` alone at the top.
fn at(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_string()
    } else {
        format!("{path}.{field}")
    }
}

/// Checks what the SP told us; `path` is where the spec sits in the request (`sp`, or empty).
pub fn validate_sp(sp: &SpSpec, path: &str) -> Result<()> {
    if let Some(acs) = &sp.acs_url {
        check_url(&at(path, "acs_url"), acs)?;
    }
    if let Some(m) = &sp.metadata_url {
        check_url(&at(path, "metadata_url"), m)?;
    }
    if let Some(u) = &sp.slo_url {
        check_url(&at(path, "slo_url"), u)?;
    }
    if let Some(pem) = &sp.certificate_pem {
        openssl::x509::X509::from_pem(pem.as_bytes()).map_err(|_| {
            Error::bad_input(at(path, "certificate_pem"), "not a PEM X.509 certificate")
        })?;
    }
    Ok(())
}

fn validate_app(app: &App, path: &str) -> Result<()> {
    if app.name.is_empty() {
        return Err(Error::bad_input(
            format!("{path}.name"),
            "must not be empty",
        ));
    }
    check_url(&format!("{path}.url"), &app.url)
}

pub fn validate_apps(apps: &[App], path_prefix: &str) -> Result<()> {
    for (i, app) in apps.iter().enumerate() {
        validate_app(app, &format!("{path_prefix}[{i}]"))?;
    }
    Ok(())
}

pub fn validate_oidc_client(client: &OidcClient, path: &str) -> Result<()> {
    if client.client_id.is_empty() {
        return Err(Error::bad_input(at(path, "client_id"), "must not be empty"));
    }
    for (i, uri) in client.redirect_uris.iter().enumerate() {
        check_url(&format!("{}[{i}]", at(path, "redirect_uris")), uri)?;
    }
    if let Some(forge) = &client.forge {
        crate::oidc::forge::spec::Forge::validate(forge, &at(path, "forge"))?;
    }
    if let Some(e) = &client.id_token_encryption {
        crate::oidc::jwe::validate(e, &at(path, "id_token_encryption"))?;
    }
    if let Some(rules) = &client.auth_request {
        crate::oidc::request_rules::validate_rules(rules, &at(path, "auth_request"))?;
    }
    Ok(())
}

fn push_user(users: &mut Vec<UserRecord>, mut user: User, path: &str) -> Result<()> {
    let at = |f: &str| at(path, f);
    check_email(&at("email"), &user.email)?;
    if users
        .iter()
        .any(|u| u.user.email.eq_ignore_ascii_case(&user.email))
    {
        return Err(Error::bad_input(
            at("email"),
            format!("user '{}' already exists", user.email),
        ));
    }
    let uid = match user.uid.take() {
        Some(uid) if uid.is_empty() => {
            return Err(Error::bad_input(at("uid"), "must not be empty"));
        }
        Some(uid) => uid,
        None => random_id("u"),
    };
    if users.iter().any(|u| u.uid == uid) {
        return Err(Error::bad_input(
            at("uid"),
            format!("uid '{uid}' already used"),
        ));
    }
    users.push(UserRecord { uid, user });
    Ok(())
}

fn push_oidc_client(clients: &mut Vec<OidcClient>, client: OidcClient, path: &str) -> Result<()> {
    validate_oidc_client(&client, path)?;
    if clients.iter().any(|c| c.client_id == client.client_id) {
        return Err(Error::bad_input(
            at(path, "client_id"),
            format!("client '{}' already exists", client.client_id),
        ));
    }
    clients.push(client);
    Ok(())
}

/// A clock offset the tenant can live with: every date derived from "now" stays
/// representable, and the control API says so rather than a sign-in failing later.
pub fn validate_clock_offset(offset_seconds: i64, path: &str) -> Result<()> {
    if offset_seconds.unsigned_abs() > MAX_CLOCK_OFFSET_SECONDS.unsigned_abs() {
        return Err(Error::bad_input(
            path,
            format!(
                "{offset_seconds} is out of range: a clock offset must be within \
                 +-{MAX_CLOCK_OFFSET_SECONDS} seconds (100 years)"
            ),
        ));
    }
    Ok(())
}

impl Tenant {
    /// Validates a spec and builds the tenant (takes a key from `keys::KeyPool` and issues
    /// its certificate; when the pool is empty it generates the key, ~100 ms to seconds, so
    /// call from a blocking context).
    pub fn from_spec(spec: TenantSpec) -> Result<Tenant> {
        Self::build(spec, TenantKeys::generate)
    }

    /// Validates a spec and builds the tenant with the keys `keys` gives for its id (a pinned
    /// tenant read back from its directory brings its own).
    pub fn build(
        spec: TenantSpec,
        keys: impl FnOnce(&str) -> Result<TenantKeys>,
    ) -> Result<Tenant> {
        let id = match &spec.id {
            Some(id) if valid_tenant_id(id) => id.clone(),
            Some(id) => {
                return Err(Error::bad_input(
                    "id",
                    format!("'{id}' must match [a-z0-9-]{{1,40}}"),
                ));
            }
            None => format!("t-{}", &hex::encode(rand::random::<[u8; 6]>())),
        };
        let shape = Shape::from_spec(&spec)?;
        let mut tenant = Tenant {
            keys: Arc::new(keys(&id)?),
            id,
            profile: spec.profile,
            users: Vec::new(),
            sp: SpSpec::default(),
            saml: SamlOptions::default(),
            faults: Vec::new(),
            next_faults: Vec::new(),
            next_forge: None,
            clock: Clock::default(),
            apps: Vec::new(),
            oidc_clients: Vec::new(),
            sessions: HashMap::new(),
            pending_saml: HashMap::new(),
            last_saml_response: None,
            saml_sessions: HashMap::new(),
            exchanges: Vec::new(),
            oidc: Default::default(),
            pinned: None,
        };
        tenant.set_shape(shape);
        Ok(tenant)
    }

    /// The shaping parts as they are now.
    pub fn shape(&self) -> Shape {
        Shape {
            users: self.users.clone(),
            sp: self.sp.clone(),
            saml: self.saml.clone(),
            faults: self.faults.clone(),
            clock_offset_seconds: self.clock.offset_seconds,
            apps: self.apps.clone(),
            oidc_clients: self.oidc_clients.clone(),
        }
    }

    pub fn set_shape(&mut self, shape: Shape) {
        self.users = shape.users;
        self.sp = shape.sp;
        self.saml = shape.saml;
        self.faults = shape.faults;
        self.clock = Clock::new(shape.clock_offset_seconds);
        self.apps = shape.apps;
        self.oidc_clients = shape.oidc_clients;
    }

    /// A shape as the spec a pinned tenant's `tenant.json` holds (`pinned: true`): uids included, so `uid`
    /// and `sub` stay the same across restarts.
    pub fn spec_of(&self, shape: &Shape) -> TenantSpec {
        TenantSpec {
            id: Some(self.id.clone()),
            profile: self.profile,
            users: shape
                .users
                .iter()
                .map(|r| User {
                    uid: Some(r.uid.clone()),
                    ..r.user.clone()
                })
                .collect(),
            sp: (shape.sp != SpSpec::default()).then(|| shape.sp.clone()),
            saml: shape.saml.clone(),
            faults: shape.faults.clone(),
            clock_offset_seconds: shape.clock_offset_seconds,
            apps: shape.apps.clone(),
            oidc_clients: shape.oidc_clients.clone(),
            pinned: true,
        }
    }

    /// Forgets every trace of earlier sign-ins: exchanges, sessions, pending SAML requests,
    /// next-response faults and forges, the last response, OIDC flows, codes, tokens, forges,
    /// provider settings and rotations. The attacker keys of the OIDC forge are kept: they
    /// belong to no sign-in and cost a key generation each.
    pub fn clear_activity(&mut self) {
        self.next_faults.clear();
        self.next_forge = None;
        self.sessions.clear();
        self.pending_saml.clear();
        self.last_saml_response = None;
        self.saml_sessions.clear();
        self.exchanges.clear();
        let attacker = self.oidc.forge.keys.take();
        self.oidc = TenantOidc::default();
        self.oidc.forge.keys = attacker;
    }

    /// Puts a pinned tenant back to its base and frees it (a trial ended or its lease ran
    /// out). Nothing to do on an unpinned tenant.
    pub fn restore_base(&mut self) {
        let Some(pinned) = self.pinned.as_mut() else {
            return;
        };
        pinned.lease = None;
        let base = pinned.base.clone();
        self.set_shape(base);
        self.clear_activity();
    }

    /// Runs a change from a control call (`PUT .../sp`, `POST .../users`, ...). A pinned
    /// tenant held by a trial changes for that trial only. A pinned tenant no trial holds
    /// takes the change as its new base, written to `tenant.json` (a lease that ran out is
    /// ended first, so an old overlay never becomes the base).
    pub fn change<R>(&mut self, f: impl FnOnce(&mut Tenant) -> Result<R>) -> Result<R> {
        let now = OffsetDateTime::now_utc();
        let held = match &self.pinned {
            None => return f(self),
            Some(p) => p.lease.as_ref().map(|l| !l.expired(now)),
        };
        match held {
            Some(true) => return f(self),
            Some(false) => self.restore_base(),
            None => {}
        }
        let answer = f(self)?;
        let shape = self.shape();
        let spec = self.spec_of(&shape);
        if let Some(p) = self.pinned.as_mut() {
            crate::statedir::write_spec(&p.dir, &spec)?;
            p.base = shape;
        }
        Ok(answer)
    }

    pub fn add_user(&mut self, user: User, path: &str) -> Result<()> {
        push_user(&mut self.users, user, path)
    }

    pub fn patch_user(&mut self, email: &str, patch: UserPatch) -> Result<()> {
        if let Some(new) = &patch.email {
            check_email("email", new)?;
            if !new.eq_ignore_ascii_case(email) && self.user_by_email(new).is_some() {
                return Err(Error::bad_input(
                    "email",
                    format!("user '{new}' already exists"),
                ));
            }
        }
        let record = self
            .users
            .iter_mut()
            .find(|u| u.user.email.eq_ignore_ascii_case(email))
            .ok_or_else(|| Error::UnknownUser(email.to_string()))?;
        let u = &mut record.user;
        if let Some(v) = patch.email {
            u.email = v;
        }
        if let Some(v) = patch.given_name {
            u.given_name = v;
        }
        if let Some(v) = patch.family_name {
            u.family_name = v;
        }
        if let Some(v) = patch.password {
            u.password = v;
        }
        if let Some(v) = patch.groups {
            u.groups = v;
        }
        if let Some(v) = patch.attributes {
            u.attributes = v;
        }
        if let Some(v) = patch.claims {
            u.claims = v;
        }
        Ok(())
    }

    pub fn add_oidc_client(&mut self, client: OidcClient, path: &str) -> Result<()> {
        push_oidc_client(&mut self.oidc_clients, client, path)
    }

    pub fn user_by_email(&self, email: &str) -> Option<&UserRecord> {
        self.users
            .iter()
            .find(|u| u.user.email.eq_ignore_ascii_case(email))
    }

    pub fn user_by_uid(&self, uid: &str) -> Option<&UserRecord> {
        self.users.iter().find(|u| u.uid == uid)
    }

    /// Checks a login. An empty stored password accepts any non-empty password.
    pub fn authenticate(&self, email: &str, password: &str) -> Option<&UserRecord> {
        let record = self.user_by_email(email.trim())?;
        let stored = record.user.password.expose();
        let ok = if stored.is_empty() {
            !password.is_empty()
        } else {
            stored == password
        };
        ok.then_some(record)
    }

    /// The faults that apply to the response being built now, for protocol `answering`:
    /// the tenant's standing faults plus the next-response-only ones, which are consumed.
    pub fn take_faults(&mut self, answering: Protocol) -> Vec<Fault> {
        let mut active: Vec<Fault> = self
            .faults
            .iter()
            .copied()
            .filter(|f| f.protocol().applies_to(answering))
            .collect();
        let (now, later): (Vec<Fault>, Vec<Fault>) = self
            .next_faults
            .iter()
            .partition(|f| f.protocol().applies_to(answering));
        self.next_faults = later;
        for f in now {
            if !active.contains(&f) {
                active.push(f);
            }
        }
        active
    }

    /// Whether a fault is set (standing or next) without consuming it.
    pub fn has_fault(&self, fault: Fault) -> bool {
        self.faults.contains(&fault) || self.next_faults.contains(&fault)
    }

    pub fn record(&mut self, exchange: Exchange) {
        if self.exchanges.len() >= MAX_EXCHANGES {
            self.exchanges.remove(0);
        }
        self.exchanges.push(exchange);
    }

    pub fn prefix(&self, base: &str) -> String {
        format!("{base}/t/{}", self.id)
    }

    pub fn saml_entity_id(&self, base: &str) -> String {
        self.profile.saml_entity_id(&self.id, &self.prefix(base))
    }

    /// `base` is the server's base URL without a trailing slash.
    pub fn info(&self, base: &str) -> TenantInfo {
        let prefix = self.prefix(base);
        let key = &self.keys.primary;
        TenantInfo {
            id: self.id.clone(),
            profile: self.profile,
            saml: SamlInfo {
                entity_id: self.saml_entity_id(base),
                metadata_url: format!("{prefix}/saml/metadata"),
                sso_url: format!("{prefix}/saml/sso"),
                sso_url_post: format!("{prefix}/saml/sso"),
                dashboard_url: format!("{prefix}/dashboard"),
                idp_initiated_url: format!("{prefix}/saml/idp-initiated"),
                tile_urls: self
                    .apps
                    .iter()
                    .map(|a| (a.name.clone(), tile_url(&prefix, &a.name)))
                    .collect(),
                slo_url: format!("{prefix}/saml/slo"),
                logout_url: format!("{prefix}/saml/logout"),
                certificate_pem: key.cert_pem.clone(),
                fingerprint_sha1: key.fingerprint_sha1.clone(),
                fingerprint_sha256: key.fingerprint_sha256.clone(),
            },
            oidc: Some(Layout::new(LayoutKind::from(self.profile), &self.id).info(base)),
            faults: self.faults.clone(),
            pinned: self.pinned.is_some(),
            trial: self
                .pinned
                .as_ref()
                .and_then(|p| p.lease.as_ref())
                .map(|l| l.wire(OffsetDateTime::now_utc())),
        }
    }
}

/// The URL a dashboard tile opens on the IdP side.
pub fn tile_url(prefix: &str, app: &str) -> String {
    let mut url = format!("{prefix}/apps/");
    url.extend(url::form_urlencoded::byte_serialize(app.as_bytes()));
    url
}

/// All tenants of one server.
#[derive(Clone, Default)]
pub struct Tenants(Arc<RwLock<HashMap<String, Arc<Mutex<Tenant>>>>>);

impl Tenants {
    pub fn get(&self, id: &str) -> Result<Arc<Mutex<Tenant>>> {
        let map = self.0.read().unwrap_or_else(|p| p.into_inner());
        map.get(id)
            .cloned()
            .ok_or_else(|| Error::UnknownTenant(id.to_string()))
    }

    pub fn insert(&self, tenant: Tenant) -> Result<Arc<Mutex<Tenant>>> {
        let mut map = self.0.write().unwrap_or_else(|p| p.into_inner());
        if map.contains_key(&tenant.id) {
            return Err(Error::TenantExists(tenant.id));
        }
        let id = tenant.id.clone();
        let shared = Arc::new(Mutex::new(tenant));
        map.insert(id, shared.clone());
        Ok(shared)
    }

    pub fn remove(&self, id: &str) -> Result<()> {
        let mut map = self.0.write().unwrap_or_else(|p| p.into_inner());
        map.remove(id)
            .map(|_| ())
            .ok_or_else(|| Error::UnknownTenant(id.to_string()))
    }

    pub fn ids(&self) -> Vec<String> {
        let map = self.0.read().unwrap_or_else(|p| p.into_inner());
        map.keys().cloned().collect()
    }
}

/// Locks one tenant. A panic while holding the lock leaves the tenant usable: its data is
/// plain values that are never half-updated across an await.
pub fn lock(t: &Mutex<Tenant>) -> std::sync::MutexGuard<'_, Tenant> {
    t.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: &str) -> TenantSpec {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn next_faults_are_consumed_once_per_protocol() {
        let mut t = Tenant::from_spec(spec(r#"{"id":"a","faults":["unsigned"]}"#)).unwrap();
        t.next_faults = vec![Fault::WrongAudience, Fault::IdTokenAlgNone];
        assert_eq!(
            t.take_faults(Protocol::Saml),
            vec![Fault::Unsigned, Fault::WrongAudience]
        );
        assert_eq!(t.take_faults(Protocol::Saml), vec![Fault::Unsigned]);
        assert_eq!(t.take_faults(Protocol::Oidc), vec![Fault::IdTokenAlgNone]);
    }

    #[test]
    fn bad_ids_and_emails_name_their_field() {
        let e = Tenant::from_spec(spec(r#"{"id":"Bad Id"}"#)).unwrap_err();
        assert!(
            matches!(e, Error::BadInput { ref path, .. } if path == "id"),
            "{e}"
        );
        let e = Tenant::from_spec(spec(r#"{"users":[{"email":"a@b.c"},{"email":"nope"}]}"#))
            .unwrap_err();
        assert!(
            matches!(e, Error::BadInput { ref path, .. } if path == "users[1].email"),
            "{e}"
        );
    }

    #[test]
    fn changed_email_keeps_uid() {
        let mut t = Tenant::from_spec(spec(r#"{"users":[{"email":"a@x.test"}]}"#)).unwrap();
        let uid = t.users[0].uid.clone();
        t.patch_user(
            "A@x.test",
            UserPatch {
                email: Some("b@x.test".into()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(t.user_by_email("b@x.test").unwrap().uid, uid);
        assert!(t.user_by_email("a@x.test").is_none());
    }

    #[test]
    fn empty_password_accepts_any_nonempty_one() {
        let t = Tenant::from_spec(spec(
            r#"{"users":[{"email":"a@x.test"},{"email":"b@x.test","password":"pw"}]}"#,
        ))
        .unwrap();
        assert!(t.authenticate("a@x.test", "x").is_some());
        assert!(t.authenticate("a@x.test", "").is_none());
        assert!(t.authenticate("b@x.test", "pw").is_some());
        assert!(t.authenticate("b@x.test", "px").is_none());
    }
}
