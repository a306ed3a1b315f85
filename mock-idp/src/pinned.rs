//! Pinned tenants and trial overlays (mock-idp/README.md, "Pinned tenants"). A pinned tenant
//! keeps its key, certificate, OIDC clients and SP values in the state directory, so an SP
//! configured by hand once keeps trusting it across restarts; one test trial at a time takes
//! it with `PUT .../trial`, lays its users, faults, clock and SAML options over the base, and
//! gives it back with `DELETE .../trial`. The files are `statedir`'s; the base, the lease and
//! the change rule are the tenant's (`tenant::Pinned`, `Tenant::change`).

use crate::error::{Error, Result};
use crate::oidc::forge::spec::Forge as _;
use crate::saml::forge;
use crate::state::AppState;
use crate::statedir::StateDir;
use crate::tenant::{self, Lease, Pinned, Tenant, TenantSpec};
use proto::idp::{MAX_TRIAL_TTL_SECONDS, TrialOverlay};
use std::sync::Arc;
use time::OffsetDateTime;

/// Where a pinned spec would be kept: it needs an explicit id and a server with a state
/// directory (`400` at `pinned` otherwise).
pub fn state_dir_for(state: &AppState, spec: &TenantSpec) -> Result<Arc<StateDir>> {
    let Some(sd) = &state.state_dir else {
        return Err(Error::bad_input(
            "pinned",
            "this server keeps no pinned tenants: start `mock-idp serve --state-dir DIR` \
             (ServeOptions.state_dir) to pin tenants across restarts",
        ));
    };
    if spec.id.is_none() {
        return Err(Error::bad_input(
            "pinned",
            "a pinned tenant needs an explicit `id` (the SP is configured with URLs that \
             contain it)",
        ));
    }
    Ok(sd.clone())
}

/// Writes a new pinned tenant's directory and marks the tenant pinned (blocking: files, and
/// the rotation key, which the JWKS lists, is made now so that it is kept too).
pub fn pin(tenant: &mut Tenant, sd: &StateDir) -> Result<()> {
    let shape = tenant.shape();
    let spec = tenant.spec_of(&shape);
    let dir = sd.create_tenant(&spec, &tenant.keys)?;
    tenant.pinned = Some(Pinned {
        dir,
        base: shape,
        lease: None,
    });
    Ok(())
}

/// Reads every pinned tenant of the state directory into the server (at start, blocking).
/// Errors name the file, and the field of a value the checks refuse.
pub fn load(state: &AppState, sd: &StateDir) -> Result<Vec<String>> {
    let mut ids = Vec::new();
    for loaded in sd.load()? {
        let file = loaded.dir.join(crate::statedir::TENANT_JSON);
        let named = |e: Error| match e {
            Error::BadInput { path, message } => {
                Error::Config(format!("{}: {path}: {message}", file.display()))
            }
            other => Error::Config(format!("{}: {other}", file.display())),
        };
        let keys = loaded.keys;
        let mut tenant = Tenant::build(loaded.spec, |_| Ok(keys)).map_err(named)?;
        if let Some(f) = &tenant.saml.forge {
            forge::check(&tenant, f, state.base(), "saml.forge").map_err(named)?;
        }
        tenant.pinned = Some(Pinned {
            dir: loaded.dir,
            base: tenant.shape(),
            lease: None,
        });
        ids.push(tenant.id.clone());
        state.tenants.insert(tenant).map_err(named)?;
    }
    Ok(ids)
}

/// `409` text for a tenant another trial holds.
fn held(id: &str, lease: &Lease) -> Error {
    Error::Conflict(format!(
        "tenant {id} is held by trial {} since {}, until {}",
        lease.trial_id,
        crate::clock::rfc3339(lease.since),
        crate::clock::rfc3339(lease.until)
    ))
}

fn not_pinned(id: &str) -> Error {
    Error::bad_input(
        ".",
        format!(
            "tenant '{id}' is not pinned: trial overlays are for pinned tenants (created with \
             \"pinned\": true on a server started with --state-dir)"
        ),
    )
}

pub fn check_trial_id(id: &str, path: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 40
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(Error::bad_input(
            path,
            format!("'{id}' must match [a-z0-9-]{{1,40}}"),
        ))
    }
}

/// Takes (or re-applies) the overlay on a locked pinned tenant at `now`.
pub fn apply(
    t: &mut Tenant,
    overlay: TrialOverlay,
    base_url: &str,
    now: OffsetDateTime,
) -> Result<()> {
    check_trial_id(&overlay.trial_id, "trial_id")?;
    if overlay.ttl_seconds == 0 || overlay.ttl_seconds > MAX_TRIAL_TTL_SECONDS {
        return Err(Error::bad_input(
            "ttl_seconds",
            format!(
                "{} is out of range: a lease lasts 1 to {MAX_TRIAL_TTL_SECONDS} seconds",
                overlay.ttl_seconds
            ),
        ));
    }
    tenant::validate_clock_offset(overlay.clock_offset_seconds, "clock_offset_seconds")?;
    let Some(pinned) = &t.pinned else {
        return Err(not_pinned(&t.id));
    };
    let since = match &pinned.lease {
        Some(l) if l.trial_id == overlay.trial_id => l.since,
        Some(l) if !l.expired(now) => return Err(held(&t.id, l)),
        // Free, or the holder's lease ran out: taken over.
        _ => now,
    };
    let mut shape = pinned.base.clone();
    shape.users = tenant::user_records(overlay.users, "users")?;
    shape.saml = overlay.saml;
    shape.faults = overlay.faults;
    shape.clock_offset_seconds = overlay.clock_offset_seconds;
    if let Some(oidc) = overlay.oidc {
        if let Some(f) = &oidc.forge {
            f.validate("oidc.forge")?;
        }
        for client in &mut shape.oidc_clients {
            if let Some(scopes) = &oidc.scopes {
                client.scopes = scopes.clone();
            }
            if let Some(groups) = &oidc.allowed_groups {
                client.allowed_groups = groups.clone();
            }
            if oidc.forge.is_some() {
                client.forge = oidc.forge.clone();
            }
        }
    }
    let before = t.shape();
    t.set_shape(shape);
    // A standing SAML forge is dry-run against the tenant it will shape, users included; a
    // refused overlay leaves the tenant as it was.
    if let Some(f) = t.saml.forge.clone() {
        if let Err(e) = forge::check(t, &f, base_url, "saml.forge") {
            t.set_shape(before);
            return Err(e);
        }
    }
    t.clear_activity();
    let ttl = i64::try_from(overlay.ttl_seconds).unwrap_or(i64::MAX);
    if let Some(p) = t.pinned.as_mut() {
        p.lease = Some(Lease {
            trial_id: overlay.trial_id,
            since,
            until: now.saturating_add(time::Duration::seconds(ttl)),
        });
    }
    Ok(())
}

/// Ends `trial_id`'s hold on a locked pinned tenant: the base back, the lease freed. No lease
/// is nothing to do; another trial's live lease is a `409`.
pub fn release(t: &mut Tenant, trial_id: &str, now: OffsetDateTime) -> Result<()> {
    let Some(pinned) = &t.pinned else {
        return Err(not_pinned(&t.id));
    };
    match &pinned.lease {
        None => Ok(()),
        Some(l) if l.trial_id != trial_id && !l.expired(now) => Err(held(&t.id, l)),
        Some(_) => {
            t.restore_base();
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::Fault;
    use serde_json::json;

    fn pinned_tenant(dir: &std::path::Path) -> Tenant {
        let spec: TenantSpec = serde_json::from_value(json!({
            "id": "acme", "pinned": true,
            "users": [{"email": "base@acme.test"}],
            "oidc_clients": [{"client_id": "rp", "client_secret": "s", "redirect_uris": ["http://rp/cb"]}]
        }))
        .unwrap();
        let mut t = Tenant::from_spec(spec).unwrap();
        let sd = StateDir::open(dir).unwrap();
        pin(&mut t, &sd).unwrap();
        t
    }

    fn overlay(trial: &str, ttl: u64) -> TrialOverlay {
        serde_json::from_value(json!({
            "trial_id": trial, "ttl_seconds": ttl,
            "users": [{"email": "trial@acme.test"}],
            "faults": ["unsigned"], "clock_offset_seconds": 60,
            "oidc": {"allowed_groups": ["admins"]}
        }))
        .unwrap()
    }

    #[test]
    fn a_lease_is_held_until_it_runs_out_then_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let mut t = pinned_tenant(dir.path());
        let t0 = OffsetDateTime::now_utc();
        apply(&mut t, overlay("one", 10), "http://idp", t0).unwrap();
        assert!(t.user_by_email("trial@acme.test").is_some());
        assert!(t.user_by_email("base@acme.test").is_none());
        assert_eq!(t.faults, [Fault::Unsigned]);
        assert_eq!(t.oidc_clients[0].allowed_groups, ["admins"]);
        assert_eq!(t.oidc_clients[0].client_secret.expose(), "s");
        let e = apply(&mut t, overlay("two", 10), "http://idp", t0).unwrap_err();
        assert!(
            matches!(e, Error::Conflict(ref m) if m.starts_with("tenant acme is held by trial one since ")),
            "{e}"
        );
        assert!(matches!(
            release(&mut t, "two", t0),
            Err(Error::Conflict(_))
        ));
        // Ten seconds later (no sleeping: the time is passed in) the lease has run out.
        let later = t0 + time::Duration::seconds(10);
        apply(&mut t, overlay("two", 10), "http://idp", later).unwrap();
        let lease = t.pinned.as_ref().unwrap().lease.clone().unwrap();
        assert_eq!(lease.trial_id, "two");
        assert_eq!(lease.since, later);
        release(&mut t, "two", later).unwrap();
        assert!(t.pinned.as_ref().unwrap().lease.is_none());
        assert!(t.user_by_email("base@acme.test").is_some());
        assert!(t.faults.is_empty());
        assert_eq!(t.clock.offset_seconds, 0);
        assert!(t.oidc_clients[0].allowed_groups.is_empty());
        release(&mut t, "anyone", later).unwrap();
    }

    #[test]
    fn a_refused_overlay_leaves_the_tenant_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let mut t = pinned_tenant(dir.path());
        let now = OffsetDateTime::now_utc();
        let mut bad = overlay("one", 10);
        bad.users.push(bad.users[0].clone());
        let e = apply(&mut t, bad, "http://idp", now).unwrap_err();
        assert!(
            matches!(e, Error::BadInput { ref path, .. } if path == "users[1].email"),
            "{e}"
        );
        for (ttl, ok) in [(0, false), (3600, true), (3601, false)] {
            let r = apply(&mut t, overlay("one", ttl), "http://idp", now);
            assert_eq!(r.is_ok(), ok, "ttl {ttl}");
        }
        let e = apply(&mut t, overlay("Bad_Id", 10), "http://idp", now).unwrap_err();
        assert!(matches!(e, Error::BadInput { ref path, .. } if path == "trial_id"));
        let mut plain = Tenant::from_spec(TenantSpec::default()).unwrap();
        let e = apply(&mut plain, overlay("one", 10), "http://idp", now).unwrap_err();
        assert!(matches!(e, Error::BadInput { ref path, .. } if path == "."));
    }

    #[test]
    fn a_change_outside_a_trial_is_the_new_base_and_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let mut t = pinned_tenant(dir.path());
        t.change(|t| {
            t.faults = vec![Fault::WrongAudience];
            Ok(())
        })
        .unwrap();
        let file = t.pinned.as_ref().unwrap().dir.join("tenant.json");
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.contains("wrong_audience"), "{text}");
        // During a trial: the trial's only.
        let now = OffsetDateTime::now_utc();
        apply(&mut t, overlay("one", 10), "http://idp", now).unwrap();
        t.change(|t| {
            t.faults = vec![Fault::Replay];
            Ok(())
        })
        .unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
        release(&mut t, "one", now).unwrap();
        assert_eq!(t.faults, [Fault::WrongAudience]);
    }
}
