//! No secret leaves in a report: known secret values and secret-shaped fields are scrubbed
//! from every file before it is written, and `scan` proves it afterwards.
use std::path::{Path, PathBuf};

use aho_corasick::{AhoCorasick, MatchKind};

pub const REDACTED: &str = "[redacted]";

/// Keys whose values are secrets wherever they show (JSON, forms, query strings).
const SECRET_KEYS: &[&str] = &[
    "password",
    "client_secret",
    "code",
    "otp",
    "one_time_code",
    "refresh_token",
    "access_token",
    "private_key",
    "admin_token",
];

/// Scrubs known secret values (one pass over the text, whatever the number of secrets: a run
/// of hundreds of trials collects hundreds of them, and a report is rewritten after every
/// trial) and secret-shaped fields.
#[derive(Debug, Default, Clone)]
pub struct Redactor {
    values: Vec<String>,
    /// Leftmost-longest, so a secret containing another is removed whole.
    matcher: Option<AhoCorasick>,
}

impl Redactor {
    pub fn new(values: impl IntoIterator<Item = String>) -> Self {
        let set: std::collections::BTreeSet<String> =
            values.into_iter().filter(|v| v.len() >= 4).collect();
        let values: Vec<String> = set.into_iter().collect();
        // Building fails only past the automaton's size limits; then every secret is
        // scrubbed one by one instead (slow but never leaking).
        let matcher = (!values.is_empty())
            .then(|| {
                AhoCorasick::builder()
                    .match_kind(MatchKind::LeftmostLongest)
                    .build(&values)
                    .ok()
            })
            .flatten();
        Self { values, matcher }
    }

    /// Only the secret values, not the secret-shaped fields.
    pub fn scrub_values(&self, text: &str) -> String {
        match &self.matcher {
            Some(m) => {
                let mut out = String::with_capacity(text.len());
                m.replace_all_with(text, &mut out, |_, _, dst| {
                    dst.push_str(REDACTED);
                    true
                });
                out
            }
            None => {
                let mut by_length: Vec<&String> = self.values.iter().collect();
                by_length.sort_by_key(|v| std::cmp::Reverse(v.len()));
                let mut out = text.to_string();
                for v in by_length {
                    if out.contains(v.as_str()) {
                        out = out.replace(v.as_str(), REDACTED);
                    }
                }
                out
            }
        }
    }

    pub fn scrub(&self, text: &str) -> String {
        let mut out = self.scrub_values(text);
        out = scrub_pem_keys(&out);
        for key in SECRET_KEYS {
            out = scrub_key(&out, key);
        }
        out
    }
}

impl Redactor {
    /// Scrubs every text of an outcome before any format (HTML, XML, JSON) re-encodes it.
    pub fn scrub_outcome(&self, o: &mut crate::trial::outcome::TrialOutcome) {
        let s = |t: &mut String| *t = self.scrub(t);
        if let Some(m) = o.message.as_mut() {
            s(m);
        }
        for step in &mut o.steps {
            s(&mut step.detail);
            step.message.iter_mut().for_each(s);
            step.note.iter_mut().for_each(s);
        }
        for h in &mut o.http {
            s(&mut h.url);
        }
        for x in &mut o.exchanges {
            self.scrub_json(x);
        }
        for v in o.context.values_mut() {
            s(v);
        }
        o.final_url.iter_mut().for_each(s);
        o.error_text.iter_mut().for_each(s);
        o.target_log.iter_mut().for_each(s);
    }

    fn scrub_json(&self, v: &mut serde_json::Value) {
        match v {
            serde_json::Value::String(t) => *t = self.scrub(t),
            serde_json::Value::Array(a) => a.iter_mut().for_each(|x| self.scrub_json(x)),
            serde_json::Value::Object(m) => {
                for (k, x) in m.iter_mut() {
                    if SECRET_KEYS.contains(&k.as_str()) && x.is_string() {
                        *x = serde_json::Value::String(REDACTED.into());
                    } else {
                        self.scrub_json(x);
                    }
                }
            }
            _ => {}
        }
    }
}

fn scrub_pem_keys(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let header_end = rest[start..]
            .find("-----\n")
            .or_else(|| rest[start + 11..].find("-----").map(|i| i + 11));
        let is_private = rest[start..]
            .lines()
            .next()
            .is_some_and(|l| l.contains("PRIVATE KEY"));
        out.push_str(&rest[..start]);
        if !is_private || header_end.is_none() {
            out.push_str("-----BEGIN ");
            rest = &rest[start + 11..];
            continue;
        }
        match rest[start..].find("-----END ") {
            Some(end) => {
                let after = &rest[start + end + 9..];
                let close = after.find("-----").map(|i| i + 5).unwrap_or(after.len());
                out.push_str("[redacted private key]");
                rest = &after[close..];
            }
            None => {
                out.push_str("[redacted private key]");
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// `key=value`, `"key":"value"` and `"key": "value"` lose their value.
fn scrub_key(text: &str, key: &str) -> String {
    let mut out = text.to_string();
    for (pat, terminators) in [
        (
            format!("{key}="),
            &['&', '"', '\'', ' ', '\n', '<', '#'][..],
        ),
        // URL-encoded inside another parameter
        (
            format!("{key}%3D"),
            &['&', '"', '\'', ' ', '\n', '<', '#', '%'][..],
        ),
        (
            format!("{key}%3d"),
            &['&', '"', '\'', ' ', '\n', '<', '#', '%'][..],
        ),
        (format!("\"{key}\":\""), &['"'][..]),
        (format!("\"{key}\": \""), &['"'][..]),
        (format!("\\\"{key}\\\":\\\""), &['\\'][..]),
    ] {
        let mut result = String::with_capacity(out.len());
        let mut rest = out.as_str();
        while let Some(i) = rest.find(&pat) {
            let boundary_ok = i == 0
                || !rest[..i]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
            let vstart = i + pat.len();
            result.push_str(&rest[..vstart]);
            let tail = &rest[vstart..];
            let vend = tail.find(terminators).unwrap_or(tail.len());
            if boundary_ok && vend > 0 && &tail[..vend] != REDACTED {
                result.push_str(REDACTED);
            } else {
                result.push_str(&tail[..vend]);
            }
            rest = &tail[vend..];
        }
        result.push_str(rest);
        out = result;
    }
    out
}

/// Files under `dir` containing any of `canaries` (text files, and base64 is not decoded:
/// screenshots are pixels, not text).
pub fn scan(dir: &Path, canaries: &[&str]) -> Vec<(PathBuf, String)> {
    let mut hits = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let Ok(bytes) = std::fs::read(&p) else {
                continue;
            };
            let text = String::from_utf8_lossy(&bytes);
            for c in canaries {
                if text.contains(c) {
                    hits.push((p.clone(), (*c).to_string()));
                }
            }
        }
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_and_repeated_secrets_go_whole_in_one_pass() {
        let r = Redactor::new(
            ["pw-secret", "pw-secret-longer", "pw-secret", "abc"]
                .into_iter()
                .map(String::from),
        );
        assert_eq!(
            r.scrub("a pw-secret-longer b pw-secret c abc"),
            "a [redacted] b [redacted] c abc",
            "the longest match first; values under 4 characters are not secrets"
        );
        let many = Redactor::new((0..2000).map(|i| format!("secret-number-{i:04}")));
        assert_eq!(
            many.scrub("x secret-number-1999 y secret-number-0001"),
            "x [redacted] y [redacted]"
        );
    }

    #[test]
    fn scrubs_values_keys_and_keys_blocks() {
        let r = Redactor::new(vec!["canary-pw-123".to_string()]);
        assert_eq!(
            r.scrub("?n=client_secret%3Dxyz&a=1"),
            "?n=client_secret%3D[redacted]&a=1"
        );
        let text = "pw canary-pw-123; url /cb?code=ABC&state=1; {\"client_secret\":\"s3\"}; -----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n-----BEGIN CERTIFICATE-----\nok";
        let out = r.scrub(text);
        assert!(!out.contains("canary-pw-123"));
        assert!(!out.contains("ABC"));
        assert!(!out.contains("s3\""));
        assert!(!out.contains("MIIE"));
        assert!(out.contains("BEGIN CERTIFICATE"), "{out}");
        assert!(out.contains("state=1"));
        assert!(out.contains("[redacted private key]"));
    }

    #[test]
    fn leaves_words_that_merely_end_in_a_key() {
        let out = Redactor::default().scrub("postcode=123 barcode=9 code=1");
        assert_eq!(out, "postcode=123 barcode=9 code=[redacted]");
    }
}
