//! What every OIDC endpoint of a tenant's provider needs: finding the tenant a request
//! addresses (only at the path its profile's layout puts that endpoint), its JWS keys, its
//! clock, the exchange log, and the `changed_email` address.

use std::sync::{Arc, Mutex};

use crate::clock::rfc3339;
use crate::fault::{Fault, Protocol};
use crate::record::{Exchange, HttpInfo};
use crate::state::AppState;
use crate::tenant::{self, Tenant};

use super::error::OidcError;
use super::jwt::SigningKey;
use super::layout::{Endpoint, Layout, LayoutKind};
use super::state::OidcKeys;

/// The tenant's layout.
pub fn layout_of(tenant: &Tenant) -> Layout {
    Layout::new(LayoutKind::from(tenant.profile), &tenant.id)
}

/// The tenant a request addresses, if the request path is where that tenant's layout puts
/// `endpoint`; anything else is a 404, as a real IdP would answer.
pub fn resolve(
    app: &AppState,
    path: &str,
    endpoint: Endpoint,
) -> Result<(Arc<Mutex<Tenant>>, Layout), OidcError> {
    let id = path
        .strip_prefix("/t/")
        .and_then(|rest| rest.split('/').next())
        .ok_or(OidcError::NotFound)?;
    let shared = app.tenants.get(id)?;
    let layout = layout_of(&tenant::lock(&shared));
    if layout.path(endpoint) != path {
        return Err(if layout.kind == LayoutKind::Entra {
            OidcError::EntraNotFound
        } else {
            OidcError::NotFound
        });
    }
    Ok((shared, layout))
}

/// The tenant's JWS keys, parsed on first use and then kept.
pub fn keys(tenant: &mut Tenant) -> Result<Arc<OidcKeys>, OidcError> {
    if let Some(k) = &tenant.oidc.keys {
        return Ok(k.clone());
    }
    let kid = |fingerprint: &str| -> String {
        fingerprint
            .chars()
            .filter(|c| *c != ':')
            .take(16)
            .collect::<String>()
            .to_ascii_lowercase()
    };
    let primary = tenant.keys.primary.clone();
    let next = tenant.keys.rotated()?;
    let keys = Arc::new(OidcKeys {
        current: SigningKey::new(
            kid(&primary.fingerprint_sha256),
            primary.private_key().clone(),
        )?,
        next: SigningKey::new(kid(&next.fingerprint_sha256), next.private_key().clone())?,
    });
    tenant.oidc.keys = Some(keys.clone());
    Ok(keys)
}

/// Appends one exchange to the tenant's log. `decoded` must already be free of secrets.
pub fn record(
    tenant: &mut Tenant,
    kind: &str,
    method: &str,
    path: &str,
    status: u16,
    decoded: serde_json::Value,
    faults: &[Fault],
) {
    let exchange = Exchange {
        at: rfc3339(tenant.clock.now()),
        tenant: tenant.id.clone(),
        protocol: Protocol::Oidc,
        kind: kind.to_string(),
        http: HttpInfo {
            method: method.to_string(),
            path: path.to_string(),
            status,
        },
        decoded,
        faults: faults.to_vec(),
        forge: None,
    };
    tenant.record(exchange);
}

/// The tenant's clock in Unix seconds.
pub fn now(tenant: &Tenant) -> i64 {
    tenant.clock.now().unix_timestamp()
}

/// The email the IdP answers for `email` under the `changed_email` fault: a new address at
/// the same domain, while `sub` stays the same.
pub fn effective_email(email: &str, faults: &[Fault]) -> String {
    if !faults.contains(&Fault::ChangedEmail) {
        return email.to_string();
    }
    match email.split_once('@') {
        Some((local, domain)) => format!("{local}.changed@{domain}"),
        None => format!("{email}.changed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::KeyPool;
    use crate::tenant::TenantSpec;

    #[test]
    fn changed_email_keeps_the_domain() {
        assert_eq!(effective_email("a@x.test", &[]), "a@x.test");
        assert_eq!(
            effective_email("a@x.test", &[Fault::ChangedEmail]),
            "a.changed@x.test"
        );
    }

    fn public_der(key: &openssl::pkey::PKey<openssl::pkey::Private>) -> Vec<u8> {
        key.public_key_to_der().unwrap()
    }

    #[test]
    fn tenants_back_to_back_get_their_own_keys_and_kids() {
        KeyPool::global().start();
        let mut tenants: Vec<Tenant> = (0..3)
            .map(|i| {
                Tenant::from_spec(TenantSpec {
                    id: Some(format!("iso-{i}")),
                    ..Default::default()
                })
                .unwrap()
            })
            .collect();
        let mut fingerprints = std::collections::HashSet::new();
        let mut certs = std::collections::HashSet::new();
        let mut kids = std::collections::HashSet::new();
        let mut publics = std::collections::HashSet::new();
        for t in &mut tenants {
            let keys = t.keys.clone();
            let all = [
                keys.primary.clone(),
                keys.rotated().unwrap(),
                keys.expired().unwrap(),
                keys.unknown().unwrap(),
            ];
            for k in &all {
                assert!(fingerprints.insert(k.fingerprint_sha256.clone()));
                assert!(certs.insert(k.cert_pem.clone()));
                assert!(publics.insert(public_der(k.private_key())));
            }
            let oidc = super::keys(t).unwrap();
            assert!(kids.insert(oidc.current.kid().to_string()));
            assert!(kids.insert(oidc.next.kid().to_string()));
        }
        assert_eq!(publics.len(), 12);
        assert_eq!(kids.len(), 6);
    }
}
