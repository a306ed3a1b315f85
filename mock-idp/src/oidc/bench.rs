//! `mock-idp bench oidc`: how many complete ID tokens (claims built, serialised, RS256-signed)
//! the provider makes per second, next to the machine's RSA-2048 signing ceiling measured by
//! `openssl speed` in the same run.

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::Map;

use super::claims::{self, Context, Person};
use super::jwt::{self, Forgery, SigningKey};

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("key: {0}")]
    Key(#[from] jwt::JwtError),
    #[error("claims: {0}")]
    Claims(#[from] serde_json::Error),
    #[error("a signing thread panicked")]
    Thread,
    #[error("could not run `openssl speed`: {0}")]
    Openssl(std::io::Error),
    #[error("no `sign/s` figure for rsa 2048 in the output of `openssl speed`:\n{0}")]
    OpensslOutput(String),
}

#[derive(Debug, Clone, Copy)]
pub struct Figures {
    pub id_tokens_per_sec: f64,
    /// `openssl speed -seconds 5 -multi 2 rsa2048`, sign/s: the mean of the two runs.
    pub ceiling_signs_per_sec: f64,
    /// The runs before and after the token run.
    pub ceiling_before_after: (f64, f64),
}

impl Figures {
    pub fn ratio(&self) -> f64 {
        if self.ceiling_signs_per_sec > 0.0 {
            self.id_tokens_per_sec / self.ceiling_signs_per_sec
        } else {
            0.0
        }
    }
}

/// Signs ID tokens on `threads` threads for `seconds`; the key is parsed once and shared.
pub fn id_tokens_per_sec(threads: usize, seconds: f64) -> Result<f64, BenchError> {
    let key = SigningKey::generate("bench")?;
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..threads.max(1))
        .map(|i| {
            let (key, stop, count) = (key.clone(), stop.clone(), count.clone());
            std::thread::spawn(move || -> Result<(), BenchError> {
                let groups = vec!["chatgpt".to_string()];
                let extra = Map::new();
                let issuer = "http://127.0.0.1:8080/t/bench/application/o/bench/";
                let mut n: u64 = 0;
                while !stop.load(Ordering::Relaxed) {
                    let email = format!("user{i}-{n}@acme.test");
                    let person = Person {
                        sub: "u0123456789abcdef",
                        email: &email,
                        given_name: "Alice",
                        family_name: "Ng",
                        groups: &groups,
                        extra: &extra,
                    };
                    let now = time::OffsetDateTime::now_utc().unix_timestamp();
                    let ctx = Context {
                        issuer,
                        v1_issuer: None,
                        client_id: "bench-client",
                        nonce: Some("n-0S6_WzA2Mj"),
                        now,
                        auth_time: now,
                    };
                    let c = claims::id_token(&person, &ctx, &[])?;
                    let token = jwt::sign(&key, &c, Forgery::Genuine)?;
                    std::hint::black_box(token);
                    n += 1;
                }
                count.fetch_add(n, Ordering::Relaxed);
                Ok(())
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs_f64(seconds.max(0.1)));
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().map_err(|_| BenchError::Thread)??;
    }
    let elapsed = started.elapsed().as_secs_f64();
    Ok(count.load(Ordering::Relaxed) as f64 / elapsed)
}

/// Runs `openssl speed -seconds 5 -multi 2 rsa2048` and reads its sign/s figure.
pub fn openssl_ceiling() -> Result<f64, BenchError> {
    let out = Command::new("openssl")
        .args(["speed", "-seconds", "5", "-multi", "2", "rsa2048"])
        .output()
        .map_err(BenchError::Openssl)?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    parse_sign_per_sec(&text).ok_or(BenchError::OpensslOutput(text))
}

/// Finds the `sign/s` column of the `rsa 2048 bits` row, whatever other columns this openssl
/// version prints (3.2 added encrypt/decrypt columns before sign/s).
pub fn parse_sign_per_sec(output: &str) -> Option<f64> {
    let mut column = None;
    for line in output.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if let Some(i) = words.iter().position(|w| *w == "sign/s") {
            column = Some(i);
            continue;
        }
        if words.len() > 3 && words[0] == "rsa" && words[1] == "2048" && words[2] == "bits" {
            let i = column?;
            return words.get(3 + i)?.parse().ok();
        }
    }
    None
}

/// The ceiling is measured before and after the token run and averaged: on a shared machine
/// the load moves during the run, and a single measurement on one side skews the ratio.
pub fn run(threads: usize, seconds: f64) -> Result<Figures, BenchError> {
    let before = openssl_ceiling()?;
    let id_tokens_per_sec = id_tokens_per_sec(threads, seconds)?;
    let after = openssl_ceiling()?;
    Ok(Figures {
        id_tokens_per_sec,
        ceiling_signs_per_sec: (before + after) / 2.0,
        ceiling_before_after: (before, after),
    })
}

/// The lines `mock-idp bench oidc` prints.
pub fn report(figures: &Figures, threads: usize) -> String {
    format!(
        "id_tokens/s: {:.0}\nopenssl rsa2048 sign/s (openssl speed -seconds 5 -multi 2): {:.0} (before {:.0}, after {:.0})\nratio: {:.1}% ({threads} threads, RS256, 2048-bit key)\n",
        figures.id_tokens_per_sec,
        figures.ceiling_signs_per_sec,
        figures.ceiling_before_after.0,
        figures.ceiling_before_after.1,
        figures.ratio() * 100.0
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_openssl_3_0_output() {
        let out = "                  sign    verify    sign/s verify/s\n\
                   rsa 2048 bits 0.000355s 0.000010s   2816.0  98000.1\n";
        assert_eq!(parse_sign_per_sec(out), Some(2816.0));
    }

    #[test]
    fn parses_openssl_3_2_output_with_encrypt_columns() {
        let out = "                   sign    verify    encrypt   decrypt   sign/s verify/s  encr./s  decr./s\n\
                   rsa   2048 bits 0.000556s 0.000016s 0.000017s 0.000564s   1798.6  61617.0  58866.4   1773.6\n";
        assert_eq!(parse_sign_per_sec(out), Some(1798.6));
    }

    #[test]
    fn no_figure_is_none() {
        assert_eq!(parse_sign_per_sec("nothing here"), None);
    }
}
