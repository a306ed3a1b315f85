//! SQLite storage: opening, the schema migration, and a lock around the one connection.
//! Every multi-row change runs inside one transaction (`Db::tx`), so a failure leaves nothing
//! half-written.
use rusqlite::Connection;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database lock poisoned by an earlier panic")]
    Poisoned,
}

#[derive(Clone)]
pub struct Db {
    conn: Arc<Mutex<Connection>>,
}

/// Schema versions, applied in order; `PRAGMA user_version` records how far a file got.
const MIGRATIONS: &[&str] = &[
    // 1: the whole first schema
    r#"
    CREATE TABLE orgs (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        plan TEXT NOT NULL CHECK (plan IN ('enterprise','edu','team')),
        billing TEXT NOT NULL CHECK (billing IN ('custom','unlimited','other')),
        workspace_sso INTEGER NOT NULL DEFAULT 0,
        platform_sso INTEGER NOT NULL DEFAULT 0,
        enforced INTEGER NOT NULL DEFAULT 0,
        active_tile TEXT NOT NULL DEFAULT 'workspace' CHECK (active_tile IN ('workspace','platform')),
        created_at INTEGER NOT NULL
    );
    CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        email TEXT NOT NULL UNIQUE COLLATE NOCASE,
        method TEXT NOT NULL CHECK (method IN ('password','social','sso','invited')),
        password_hash TEXT,
        given_name TEXT,
        family_name TEXT,
        birthday TEXT,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE memberships (
        org_id TEXT NOT NULL REFERENCES orgs(id),
        user_id INTEGER NOT NULL REFERENCES users(id),
        role TEXT NOT NULL CHECK (role IN ('owner','member')),
        PRIMARY KEY (org_id, user_id)
    );
    CREATE TABLE domains (
        org_id TEXT NOT NULL REFERENCES orgs(id),
        domain TEXT NOT NULL,
        txt_value TEXT NOT NULL,
        started_at INTEGER NOT NULL,
        verified_at INTEGER,
        PRIMARY KEY (org_id, domain)
    );
    CREATE TABLE sso_configs (
        org_id TEXT PRIMARY KEY REFERENCES orgs(id),
        protocol TEXT NOT NULL CHECK (protocol IN ('saml','oidc')),
        saml_sso_url TEXT,
        saml_certificate_pem TEXT,
        saml_idp_entity_id TEXT,
        oidc_idp_name TEXT,
        oidc_client_id TEXT,
        oidc_client_secret TEXT,
        oidc_discovery_url TEXT,
        updated_at INTEGER NOT NULL
    );
    CREATE TABLE sso_profiles (
        org_id TEXT NOT NULL,
        subject TEXT NOT NULL,
        email TEXT NOT NULL COLLATE NOCASE,
        user_id INTEGER NOT NULL REFERENCES users(id),
        PRIMARY KEY (org_id, subject)
    );
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        user_id INTEGER REFERENCES users(id),
        method TEXT,
        sso_org TEXT,
        needs_profile INTEGER NOT NULL DEFAULT 0,
        reauth_at INTEGER,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE pending_logins (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        org_id TEXT,
        nonce TEXT,
        pkce_verifier TEXT,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE used_assertions (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL,
        seen_at INTEGER NOT NULL
    );
    CREATE TABLE password_resets (
        token TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id),
        created_at INTEGER NOT NULL
    );
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        recipient TEXT NOT NULL,
        subject TEXT NOT NULL,
        link TEXT NOT NULL,
        sent_at INTEGER NOT NULL
    );
    CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    "#,
    // 2: single logout: the IdP's logout URL, and what a LogoutRequest names of a session
    r#"
    ALTER TABLE sso_configs ADD COLUMN saml_slo_url TEXT;
    ALTER TABLE sessions ADD COLUMN saml_name_id TEXT;
    ALTER TABLE sessions ADD COLUMN saml_session_index TEXT;
    "#,
    // 3: the OIDC connection's response mode (absent: plain query; `query.jwt`: JARM)
    r#"
    ALTER TABLE sso_configs ADD COLUMN oidc_response_mode TEXT;
    "#,
    // 4: RP-initiated logout: the ID token an OIDC sign-in got (the logout request's hint);
    // the contact details it released (shown on the home page); the OP session it belongs
    // to (front-channel logout)
    r#"
    ALTER TABLE sessions ADD COLUMN oidc_id_token TEXT;
    ALTER TABLE sessions ADD COLUMN oidc_phone TEXT;
    ALTER TABLE sessions ADD COLUMN oidc_address TEXT;
    ALTER TABLE sessions ADD COLUMN oidc_sid TEXT;
    "#,
    // 5: the OIDC hybrid flow: the response type asked for, and s_hash required
    r#"
    ALTER TABLE sso_configs ADD COLUMN oidc_response_type TEXT;
    ALTER TABLE sso_configs ADD COLUMN oidc_require_s_hash INTEGER NOT NULL DEFAULT 0;
    "#,
    // 6: OIDC refresh: the refresh token of an OIDC sign-in and the identity its ID token
    // named (OIDC Core 12.2: a refreshed ID token must name the same iss and sub)
    r#"
    ALTER TABLE sessions ADD COLUMN oidc_refresh_token TEXT;
    ALTER TABLE sessions ADD COLUMN oidc_iss TEXT;
    ALTER TABLE sessions ADD COLUMN oidc_sub TEXT;
    "#,
];

impl Db {
    pub fn open(path: &Path) -> Result<Self, DbError> {
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        migrate(&mut conn)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    pub fn conn(&self) -> Result<MutexGuard<'_, Connection>, DbError> {
        self.conn.lock().map_err(|_| DbError::Poisoned)
    }

    /// Runs `f` in one transaction: committed when it returns Ok, rolled back otherwise.
    pub fn tx<T, E: From<DbError>>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut conn = self.conn()?;
        let tx = conn.transaction().map_err(DbError::from)?;
        let value = f(&tx)?;
        tx.commit().map_err(DbError::from)?;
        Ok(value)
    }
}

fn migrate(conn: &mut Connection) -> Result<(), DbError> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (i, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(version).unwrap_or(0))
    {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}
