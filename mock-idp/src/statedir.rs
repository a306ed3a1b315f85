//! The state directory of `mock-idp serve --state-dir DIR`, where pinned tenants live across
//! restarts (mock-idp/README.md, "Pinned tenants"):
//!
//! ```text
//! DIR/tenants/<id>/tenant.json        base state: TenantSpec with uids and secrets
//! DIR/tenants/<id>/signing-key.pem    PKCS#8, never printed or served
//! DIR/tenants/<id>/signing-cert.pem   kept byte for byte (the fingerprint an SP trusts)
//! DIR/tenants/<id>/next-key.pem       the next key of the OIDC rotation (the JWKS lists it)
//! DIR/tenants/<id>/next-cert.pem
//! ```
//!
//! Directories are made 0700 and files 0600 at creation (never a moment with wider bits),
//! each file is written to a temporary file in the same directory and renamed over the old
//! one, so a crash leaves the old file or the new one, never half of either.

use crate::error::{Error, Result};
use crate::keys::{SigningKey, TenantKeys};
use crate::secret::Secret;
use proto::idp::TenantSpec;
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

pub const TENANTS: &str = "tenants";
pub const TENANT_JSON: &str = "tenant.json";
pub const SIGNING_KEY: &str = "signing-key.pem";
pub const SIGNING_CERT: &str = "signing-cert.pem";
pub const NEXT_KEY: &str = "next-key.pem";
pub const NEXT_CERT: &str = "next-cert.pem";

/// Temporary files start so; `load` skips them (a crash between write and rename).
const TEMP_PREFIX: &str = ".tmp-";

/// An opened state directory (`DIR`, with `DIR/tenants` made if absent).
#[derive(Debug, Clone)]
pub struct StateDir {
    root: PathBuf,
}

/// One pinned tenant read back at start.
#[derive(Debug)]
pub struct Loaded {
    pub dir: PathBuf,
    pub spec: TenantSpec,
    pub keys: TenantKeys,
}

fn io_error(path: &Path, e: std::io::Error) -> Error {
    Error::Config(format!("{}: {e}", path.display()))
}

/// `mkdir` with mode 0700 (`create_new`: fails if it exists).
fn make_private_dir(path: &Path) -> std::io::Result<()> {
    std::fs::DirBuilder::new().mode(0o700).create(path)
}

/// Writes `bytes` to `dir/name` through a 0600 temporary file in `dir`, synced, then renamed.
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    let temp = dir.join(format!(
        "{TEMP_PREFIX}{name}-{}",
        hex::encode(rand::random::<[u8; 6]>())
    ));
    let target = dir.join(name);
    let written = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, &target)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(io_error(&target, e));
    }
    Ok(())
}

/// The JSON text of a pinned tenant's base: secrets included (the file is the only place
/// they are kept), pretty so a person can read what the SP was configured against.
pub fn spec_json(spec: &TenantSpec) -> Result<String> {
    let value = proto::secret::to_request_value(spec)
        .map_err(|e| Error::Config(format!("tenant.json: {e}")))?;
    let mut text = serde_json::to_string_pretty(&value)
        .map_err(|e| Error::Config(format!("tenant.json: {e}")))?;
    text.push('\n');
    Ok(text)
}

/// Rewrites a pinned tenant's `tenant.json` (its base changed outside a trial).
pub fn write_spec(dir: &Path, spec: &TenantSpec) -> Result<()> {
    write_atomic(dir, TENANT_JSON, spec_json(spec)?.as_bytes())
}

impl StateDir {
    /// Opens `root`, making it and `root/tenants` (0700) when absent.
    pub fn open(root: &Path) -> Result<Self> {
        let tenants = root.join(TENANTS);
        for dir in [root, tenants.as_path()] {
            if !dir.is_dir() {
                match make_private_dir(dir) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir() => {}
                    Err(e) => return Err(io_error(dir, e)),
                }
            }
        }
        Ok(Self {
            root: root.to_path_buf(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn tenant_dir(&self, id: &str) -> PathBuf {
        self.root.join(TENANTS).join(id)
    }

    /// Makes `tenants/<id>/` and writes the tenant's base and keys. The directory must not
    /// exist (409 otherwise); on any failure it is removed again.
    pub fn create_tenant(&self, spec: &TenantSpec, keys: &TenantKeys) -> Result<PathBuf> {
        let id = spec
            .id
            .as_deref()
            .ok_or_else(|| Error::bad_input("pinned", "a pinned tenant needs an explicit id"))?;
        let dir = self.tenant_dir(id);
        make_private_dir(&dir).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                Error::TenantExists(id.to_string())
            } else {
                io_error(&dir, e)
            }
        })?;
        let written = (|| {
            let primary = &keys.primary;
            write_atomic(
                &dir,
                SIGNING_KEY,
                primary.private_key_pem()?.expose().as_bytes(),
            )?;
            write_atomic(&dir, SIGNING_CERT, primary.cert_pem.as_bytes())?;
            let next = keys.rotated()?;
            write_atomic(&dir, NEXT_KEY, next.private_key_pem()?.expose().as_bytes())?;
            write_atomic(&dir, NEXT_CERT, next.cert_pem.as_bytes())?;
            // Last: a directory with a tenant.json is a whole tenant.
            write_spec(&dir, spec)
        })();
        if let Err(e) = written {
            let _ = std::fs::remove_dir_all(&dir);
            return Err(e);
        }
        Ok(dir)
    }

    /// Removes a pinned tenant's directory (`DELETE /_control/tenants/{id}`).
    pub fn remove_tenant(dir: &Path) -> Result<()> {
        match std::fs::remove_dir_all(dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_error(dir, e)),
        }
    }

    /// Every `tenants/*/` directory, sorted by id. A bad file is an error naming it (and the
    /// line, column and JSON path of a parse error); the server does not start with it.
    pub fn load(&self) -> Result<Vec<Loaded>> {
        let tenants = self.root.join(TENANTS);
        let mut dirs = Vec::new();
        for entry in std::fs::read_dir(&tenants).map_err(|e| io_error(&tenants, e))? {
            let entry = entry.map_err(|e| io_error(&tenants, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || !entry.path().is_dir() {
                continue;
            }
            dirs.push((name, entry.path()));
        }
        dirs.sort();
        dirs.into_iter()
            .map(|(name, dir)| load_tenant(&name, dir))
            .collect()
    }
}

fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| io_error(path, e))
}

/// Parses `tenant.json`, naming `file:line:col` and the JSON path of the bad field.
pub fn parse_spec(text: &str, file: &Path) -> Result<TenantSpec> {
    let mut de = serde_json::Deserializer::from_str(text);
    let spec: TenantSpec = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let inner = e.inner();
        Error::Config(format!(
            "{}:{}:{}: {}: {inner}",
            file.display(),
            inner.line(),
            inner.column(),
            e.path()
        ))
    })?;
    de.end().map_err(|e| {
        Error::Config(format!(
            "{}:{}:{}: trailing data: {e}",
            file.display(),
            e.line(),
            e.column()
        ))
    })?;
    Ok(spec)
}

fn read_key(dir: &Path, key: &str, cert: &str) -> Result<Option<SigningKey>> {
    let (key_path, cert_path) = (dir.join(key), dir.join(cert));
    match (key_path.exists(), cert_path.exists()) {
        (false, false) => return Ok(None),
        (true, false) => {
            return Err(Error::Config(format!(
                "{}: missing (its key {key} is there)",
                cert_path.display()
            )));
        }
        (false, true) => {
            return Err(Error::Config(format!(
                "{}: missing (its certificate {cert} is there)",
                key_path.display()
            )));
        }
        (true, true) => {}
    }
    let key_pem = Secret::new(read_text(&key_path)?);
    let cert_pem = read_text(&cert_path)?;
    SigningKey::from_pem(&key_pem, &cert_pem)
        .map(Some)
        .map_err(|e| {
            Error::Config(format!(
                "{} / {}: {e}",
                key_path.display(),
                cert_path.display()
            ))
        })
}

fn load_tenant(name: &str, dir: PathBuf) -> Result<Loaded> {
    let file = dir.join(TENANT_JSON);
    let mut spec = parse_spec(&read_text(&file)?, &file)?;
    match &spec.id {
        Some(id) if id != name => {
            return Err(Error::Config(format!(
                "{}: id: '{id}' is not the name of its directory '{name}'",
                file.display()
            )));
        }
        Some(_) => {}
        None => spec.id = Some(name.to_string()),
    }
    // Whatever the file says: it is in the state directory, so it is pinned.
    spec.pinned = true;
    let primary = read_key(&dir, SIGNING_KEY, SIGNING_CERT)?.ok_or_else(|| {
        Error::Config(format!(
            "{}: missing: a pinned tenant keeps its signing key there",
            dir.join(SIGNING_KEY).display()
        ))
    })?;
    let next = read_key(&dir, NEXT_KEY, NEXT_CERT)?;
    Ok(Loaded {
        keys: TenantKeys::from_parts(name, primary, next),
        dir,
        spec,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn atomic_write_is_0600_and_replaces() {
        let dir = tempfile::tempdir().unwrap();
        write_atomic(dir.path(), "f", b"one").unwrap();
        assert_eq!(mode(&dir.path().join("f")), 0o600);
        write_atomic(dir.path(), "f", b"two").unwrap();
        assert_eq!(std::fs::read(dir.path().join("f")).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary file left");
    }

    #[test]
    fn a_parse_error_names_file_line_and_path() {
        let file = Path::new("/s/tenants/a/tenant.json");
        let e = parse_spec(
            "{\n  \"id\": \"a\",\n  \"users\": [{\"emial\": 1}]\n}",
            file,
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("/s/tenants/a/tenant.json:3:"), "{e}");
        assert!(e.contains("users[0]"), "{e}");
        assert!(e.contains("emial"), "{e}");
        let e = parse_spec("{\"id\": \"a\"} x", file)
            .unwrap_err()
            .to_string();
        assert!(e.contains("tenant.json:1:"), "{e}");
    }

    #[test]
    fn a_tenant_dir_round_trips_keys_and_spec() {
        let root = tempfile::tempdir().unwrap();
        let sd = StateDir::open(&root.path().join("state")).unwrap();
        assert_eq!(mode(sd.root()), 0o700);
        assert_eq!(mode(&sd.root().join(TENANTS)), 0o700);
        let keys = TenantKeys::generate("acme").unwrap();
        let spec: TenantSpec = serde_json::from_value(serde_json::json!({
            "id": "acme", "pinned": true,
            "users": [{"email": "a@x.test", "password": "pw-canary", "uid": "u1"}]
        }))
        .unwrap();
        let dir = sd.create_tenant(&spec, &keys).unwrap();
        assert_eq!(mode(&dir), 0o700);
        for f in [TENANT_JSON, SIGNING_KEY, SIGNING_CERT, NEXT_KEY, NEXT_CERT] {
            assert_eq!(mode(&dir.join(f)), 0o600, "{f}");
        }
        assert!(
            read_text(&dir.join(TENANT_JSON))
                .unwrap()
                .contains("pw-canary")
        );
        assert!(matches!(
            sd.create_tenant(&spec, &keys),
            Err(Error::TenantExists(_))
        ));
        let loaded = sd.load().unwrap();
        assert_eq!(loaded.len(), 1);
        let l = &loaded[0];
        assert_eq!(l.spec.users[0].password.expose(), "pw-canary");
        assert_eq!(l.spec.users[0].uid.as_deref(), Some("u1"));
        assert_eq!(l.keys.primary.cert_pem, keys.primary.cert_pem);
        assert_eq!(
            l.keys.rotated().unwrap().fingerprint_sha256,
            keys.rotated().unwrap().fingerprint_sha256
        );
        StateDir::remove_tenant(&dir).unwrap();
        assert!(!dir.exists());
        assert!(sd.load().unwrap().is_empty());
    }

    #[test]
    fn a_missing_or_mismatched_file_is_named() {
        let root = tempfile::tempdir().unwrap();
        let sd = StateDir::open(root.path()).unwrap();
        let keys = TenantKeys::generate("b").unwrap();
        let spec = TenantSpec {
            id: Some("b".into()),
            pinned: true,
            ..Default::default()
        };
        let dir = sd.create_tenant(&spec, &keys).unwrap();
        std::fs::remove_file(dir.join(NEXT_CERT)).unwrap();
        let e = sd.load().unwrap_err().to_string();
        assert!(e.contains("next-cert.pem: missing"), "{e}");
        std::fs::remove_file(dir.join(NEXT_KEY)).unwrap();
        write_atomic(&dir, TENANT_JSON, br#"{"id": "c"}"#).unwrap();
        let e = sd.load().unwrap_err().to_string();
        assert!(e.contains("tenant.json: id: 'c'"), "{e}");
    }
}
