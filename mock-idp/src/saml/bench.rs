//! `mock-idp bench saml`: complete signed SAML Responses (parameters decided, XML written,
//! assertion digested and RSA-SHA256 signed, base64-encoded as delivered) per second, on
//! N threads sharing one tenant whose key was parsed once.

use super::issue::{self, IdpView};
use crate::error::{Error, Result};
use crate::tenant::{PendingAuthn, SpSpec, Tenant, TenantSpec, User};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Responses per wall-clock second, and per second of the threads' own CPU time summed over
/// the threads (`None` where `/proc/thread-self/stat` cannot be read). The second figure
/// does not move when other work shares the cores, so it compares with `bench oidc`'s
/// `id_tokens per CPU-second` even on a loaded machine.
pub fn measure(threads: usize, seconds: f64) -> Result<(f64, Option<f64>)> {
    let tenant = Tenant::from_spec(TenantSpec {
        id: Some("bench".into()),
        users: vec![User {
            email: "alice@acme.test".into(),
            given_name: "Alice".into(),
            family_name: "Ng".into(),
            groups: vec!["chatgpt".into()],
            ..Default::default()
        }],
        sp: Some(SpSpec {
            entity_id: Some("urn:auth0:bench:org-1".into()),
            acs_url: Some("https://sp.test/login/callback?connection=org-1".into()),
            ..Default::default()
        }),
        ..Default::default()
    })?;
    let view = Arc::new(IdpView::of(&tenant, "http://127.0.0.1:8080"));
    let user = Arc::new(
        tenant
            .users
            .first()
            .cloned()
            .ok_or_else(|| Error::Config("bench tenant has no user".into()))?,
    );
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..threads.max(1))
        .map(|i| {
            let (view, user, stop, count) =
                (view.clone(), user.clone(), stop.clone(), count.clone());
            std::thread::spawn(move || -> Result<Option<f64>> {
                let cpu_start = crate::oidc::bench::thread_user_seconds();
                let mut n: u64 = 0;
                while !stop.load(Ordering::Relaxed) {
                    let request = PendingAuthn {
                        request_id: Some(format!("_bench-{i}-{n}")),
                        acs_url: None,
                        sp_issuer: None,
                        relay_state: None,
                    };
                    let issued = issue::issue(&view, &user, Some(&request), &[])?;
                    std::hint::black_box(B64.encode(issued.xml.as_bytes()));
                    n += 1;
                }
                count.fetch_add(n, Ordering::Relaxed);
                let cpu = match (cpu_start, crate::oidc::bench::thread_user_seconds()) {
                    (Some(a), Some(b)) if b > a => Some(b - a),
                    _ => None,
                };
                Ok(cpu.map(|secs| n as f64 / secs))
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs_f64(seconds.max(0.1)));
    stop.store(true, Ordering::Relaxed);
    let mut per_cpu_sec = Some(0.0);
    for w in workers {
        let rate = w
            .join()
            .map_err(|_| Error::Config("a signing thread panicked".into()))??;
        per_cpu_sec = per_cpu_sec.zip(rate).map(|(sum, r)| sum + r);
    }
    let per_sec = count.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();
    Ok((per_sec, per_cpu_sec))
}

/// Responses per wall-clock second.
pub fn responses_per_sec(threads: usize, seconds: f64) -> Result<f64> {
    Ok(measure(threads, seconds)?.0)
}

/// The lines `mock-idp bench saml` prints; the ceiling is the mean of the `openssl speed`
/// runs before and after.
pub fn report(
    per_sec: f64,
    per_cpu_sec: Option<f64>,
    ceiling_before_after: (f64, f64),
    threads: usize,
) -> String {
    let (before, after) = ceiling_before_after;
    let ceiling = (before + after) / 2.0;
    let ratio = if ceiling > 0.0 {
        per_sec / ceiling * 100.0
    } else {
        0.0
    };
    let cpu = per_cpu_sec
        .map(|c| format!("signed SAML responses per CPU-second (summed over threads): {c:.0}\n"))
        .unwrap_or_default();
    format!(
        "signed SAML responses/s: {per_sec:.0}\n{cpu}openssl rsa2048 sign/s (openssl speed -seconds 5 -multi 2): {ceiling:.0} (before {before:.0}, after {after:.0})\nratio: {ratio:.1}% ({threads} threads, assertion signed, RSA-SHA256, 2048-bit key)\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_names_both_figures_and_the_ratio() {
        let r = report(1400.0, Some(2500.0), (2700.0, 2900.0), 2);
        assert!(r.starts_with("signed SAML responses/s: 1400\n"), "{r}");
        assert!(r.contains("\nsigned SAML responses per CPU-second (summed over threads): 2500\n"));
        assert!(!report(1.0, None, (1.0, 1.0), 1).contains("CPU-second"));
        assert!(r.contains(
            "sign/s (openssl speed -seconds 5 -multi 2): 2800 (before 2700, after 2900)"
        ));
        assert!(r.contains("ratio: 50.0%"));
    }
}
