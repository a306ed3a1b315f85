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
    /// Tokens per wall-clock second, all threads together.
    pub id_tokens_per_sec: f64,
    /// Tokens per second of each thread's own user CPU time, summed over the threads. It
    /// stays put when other work shares the cores, which shows whether a low `ratio` comes
    /// from our code or from the machine being busy during the run.
    /// `None` where `/proc/thread-self/stat` cannot be read.
    pub id_tokens_per_cpu_sec: Option<f64>,
    /// `openssl speed -seconds 5 -multi 2 rsa2048`, sign/s: the mean of the two runs.
    pub ceiling_signs_per_sec: f64,
    /// The runs before and after the token run.
    pub ceiling_before_after: (f64, f64),
}

impl Figures {
    fn ratio_of(&self, rate: f64) -> f64 {
        if self.ceiling_signs_per_sec > 0.0 {
            rate / self.ceiling_signs_per_sec
        } else {
            0.0
        }
    }

    /// `id_tokens/s` over the ceiling: the figure the target is set on.
    pub fn ratio(&self) -> f64 {
        self.ratio_of(self.id_tokens_per_sec)
    }

    /// Tokens per thread CPU-second over the ceiling: our side without the time the threads
    /// waited for a core (the ceiling is measured as openssl measures it).
    pub fn cpu_ratio(&self) -> Option<f64> {
        self.id_tokens_per_cpu_sec.map(|r| self.ratio_of(r))
    }
}

/// Linux reports thread CPU times in clock ticks of 1/100 s (`USER_HZ`, fixed for userspace).
const USER_HZ: f64 = 100.0;

/// The calling thread's user CPU time in seconds, from `/proc/thread-self/stat` (field 14).
/// The SAML bench uses it too, so the two figures compare on the same footing.
pub fn thread_user_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    let after = &stat[stat.rfind(')')? + 1..];
    let utime: f64 = after.split_whitespace().nth(11)?.parse().ok()?;
    Some(utime / USER_HZ)
}

struct Measured {
    per_wall_sec: f64,
    per_cpu_sec: Option<f64>,
}

/// Signs ID tokens on `threads` threads for `seconds`; the key is parsed once and shared.
fn measure(threads: usize, seconds: f64) -> Result<Measured, BenchError> {
    let key = SigningKey::generate("bench")?;
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..threads.max(1))
        .map(|i| {
            let (key, stop, count) = (key.clone(), stop.clone(), count.clone());
            std::thread::spawn(move || -> Result<Option<f64>, BenchError> {
                let cpu_start = thread_user_seconds();
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
                let cpu = match (cpu_start, thread_user_seconds()) {
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
        let thread_rate = w.join().map_err(|_| BenchError::Thread)??;
        per_cpu_sec = per_cpu_sec.zip(thread_rate).map(|(sum, r)| sum + r);
    }
    let elapsed = started.elapsed().as_secs_f64();
    Ok(Measured {
        per_wall_sec: count.load(Ordering::Relaxed) as f64 / elapsed,
        per_cpu_sec,
    })
}

/// Tokens per wall-clock second on `threads` threads for `seconds`.
pub fn id_tokens_per_sec(threads: usize, seconds: f64) -> Result<f64, BenchError> {
    Ok(measure(threads, seconds)?.per_wall_sec)
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
    let measured = measure(threads, seconds)?;
    let after = openssl_ceiling()?;
    Ok(Figures {
        id_tokens_per_sec: measured.per_wall_sec,
        id_tokens_per_cpu_sec: measured.per_cpu_sec,
        ceiling_signs_per_sec: (before + after) / 2.0,
        ceiling_before_after: (before, after),
    })
}

/// The lines `mock-idp bench oidc` prints.
pub fn report(figures: &Figures, threads: usize) -> String {
    let mut out = format!("id_tokens/s: {:.0}\n", figures.id_tokens_per_sec);
    if let Some(cpu) = figures.id_tokens_per_cpu_sec {
        out.push_str(&format!(
            "id_tokens per CPU-second (summed over threads): {cpu:.0}\n"
        ));
    }
    out.push_str(&format!(
        "openssl rsa2048 sign/s (openssl speed -seconds 5 -multi 2): {:.0} (before {:.0}, after {:.0})\n",
        figures.ceiling_signs_per_sec, figures.ceiling_before_after.0, figures.ceiling_before_after.1
    ));
    out.push_str(&format!(
        "ratio: {:.1}% ({threads} threads, RS256, 2048-bit key)\n",
        figures.ratio() * 100.0
    ));
    if let Some(cpu) = figures.cpu_ratio() {
        out.push_str(&format!(
            "ratio per CPU-second: {:.1}% (our side in thread CPU time, which waiting does not inflate)\n",
            cpu * 100.0
        ));
    }
    out
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
    fn thread_cpu_time_is_readable_and_grows() {
        let a = thread_user_seconds().unwrap();
        // Spin until a clock tick of this thread's user time is recorded (no timing asserted:
        // a loaded machine only makes this take longer, up to the generous deadline).
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut x: u64 = 0;
        let mut b = a;
        while b <= a && Instant::now() < deadline {
            for _ in 0..100_000 {
                x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
            }
            b = thread_user_seconds().unwrap();
        }
        assert!(b > a, "{a} -> {b}");
    }

    #[test]
    fn report_names_both_bases() {
        let f = Figures {
            id_tokens_per_sec: 900.0,
            id_tokens_per_cpu_sec: Some(1800.0),
            ceiling_signs_per_sec: 2000.0,
            ceiling_before_after: (1900.0, 2100.0),
        };
        let r = report(&f, 2);
        assert!(r.starts_with("id_tokens/s: 900\n"), "{r}");
        assert!(r.contains("ratio: 45.0% (2 threads"), "{r}");
        assert!(r.contains("ratio per CPU-second: 90.0%"), "{r}");
    }

    #[test]
    fn no_figure_is_none() {
        assert_eq!(parse_sign_per_sec("nothing here"), None);
    }
}
