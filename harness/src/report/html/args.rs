//! Step arguments as YAML, the way a scenario writes them, for the report.
//!
//! `StepRecord.detail` is the step's `Debug` text (`DomainArgs { domain: "acme.test",
//! expect_error: None }`): the step types are not `Serialize`, so this reads that text back
//! into a small tree (structs and maps become mappings, `None` and empty lists are dropped as a
//! scenario leaves them out, unit variants are written in snake case) and writes YAML. Text
//! that does not parse as `Debug` output (a step's own description) is shown as it came.
//! `{placeholder}`s are resolved with the trial's context, which holds no secrets: a secret
//! placeholder stays a placeholder.
use std::collections::BTreeMap;

/// A value read back from `Debug` output.
#[derive(Debug, Clone, PartialEq)]
enum V {
    /// A quoted string (or char).
    Str(String),
    /// A number, a bool or a unit variant, written as is.
    Plain(String),
    List(Vec<V>),
    Map(Vec<(String, V)>),
    Absent,
}

/// The step `kind` with its arguments from `detail`, as YAML (`kind: value` or `kind:` and an
/// indented block; just `kind` for a step without arguments).
pub fn step_yaml(kind: &str, detail: &str, context: &BTreeMap<String, String>) -> String {
    let v = match parse(detail) {
        Some(v) => resolve(prune(v), context),
        None => V::Str(resolve_text(detail, context)),
    };
    let mut out = String::new();
    out.push_str(kind);
    match &v {
        V::Absent => {}
        V::Map(m) if m.is_empty() => {}
        V::List(l) if l.is_empty() => {}
        V::Str(s) if s.contains('\n') => {
            out.push_str(": |-");
            block(&mut out, s, 2);
        }
        V::Str(_) | V::Plain(_) => {
            out.push_str(": ");
            scalar(&mut out, &v);
        }
        V::Map(_) | V::List(_) => {
            out.push(':');
            emit(&mut out, &v, 2);
        }
    }
    out
}

/// Replaces `{name}` by the context's value where it has one; `{{`/`}}` are literal braces.
pub fn resolve_text(s: &str, context: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push_str(&tail[..1]);
            rest = &tail[2..];
            continue;
        }
        let known = tail
            .strip_prefix('{')
            .and_then(|t| t.find('}'))
            .and_then(|end| context.get(&tail[1..=end]).map(|v| (v, end)));
        if let Some((value, end)) = known {
            out.push_str(value);
            rest = &tail[end + 2..];
            continue;
        }
        out.push_str(&tail[..1]);
        rest = &tail[1..];
    }
    out.push_str(rest);
    out
}

fn resolve(v: V, context: &BTreeMap<String, String>) -> V {
    match v {
        V::Str(s) => V::Str(resolve_text(&s, context)),
        V::List(l) => V::List(l.into_iter().map(|x| resolve(x, context)).collect()),
        V::Map(m) => V::Map(
            m.into_iter()
                .map(|(k, x)| (k, resolve(x, context)))
                .collect(),
        ),
        other => other,
    }
}

/// Drops what a scenario leaves out: `None`, empty lists and maps, `NoArgs`.
fn prune(v: V) -> V {
    match v {
        V::List(l) => V::List(l.into_iter().map(prune).collect()),
        V::Map(m) => V::Map(
            m.into_iter()
                .map(|(k, x)| (k, prune(x)))
                .filter(|(_, x)| !is_empty(x))
                .collect(),
        ),
        V::Plain(p) if p == "no_args" => V::Absent,
        other => other,
    }
}

fn is_empty(v: &V) -> bool {
    match v {
        V::Absent => true,
        V::List(l) => l.is_empty(),
        V::Map(m) => m.is_empty(),
        _ => false,
    }
}

/// Writes `v` as the block under a key, at `indent` spaces (starting with a newline).
fn emit(out: &mut String, v: &V, indent: usize) {
    let pad = " ".repeat(indent);
    match v {
        V::Map(m) => {
            for (k, x) in m {
                out.push('\n');
                out.push_str(&pad);
                out.push_str(&quote(k));
                value_after_key(out, x, indent);
            }
        }
        V::List(l) => {
            for x in l {
                out.push('\n');
                out.push_str(&pad);
                out.push('-');
                match x {
                    V::Map(m) if !m.is_empty() => {
                        // The first key goes on the dash's line, the rest under it.
                        let inner = " ".repeat(indent + 2);
                        for (n, (k, y)) in m.iter().enumerate() {
                            if n == 0 {
                                out.push(' ');
                            } else {
                                out.push('\n');
                                out.push_str(&inner);
                            }
                            out.push_str(&quote(k));
                            value_after_key(out, y, indent + 2);
                        }
                    }
                    V::List(inner) if !inner.is_empty() => emit(out, x, indent + 2),
                    _ => {
                        out.push(' ');
                        scalar(out, x);
                    }
                }
            }
        }
        _ => {
            out.push(' ');
            scalar(out, v);
        }
    }
}

fn value_after_key(out: &mut String, x: &V, indent: usize) {
    match x {
        V::Map(m) if !m.is_empty() => {
            out.push(':');
            emit(out, x, indent + 2);
        }
        V::List(l) if !l.is_empty() => {
            out.push(':');
            emit(out, x, indent + 2);
        }
        V::Str(s) if s.contains('\n') => {
            out.push_str(": |-");
            block(out, s, indent + 2);
        }
        _ => {
            out.push_str(": ");
            scalar(out, x);
        }
    }
}

fn block(out: &mut String, s: &str, indent: usize) {
    let pad = " ".repeat(indent);
    for line in s.trim_end_matches('\n').lines() {
        out.push('\n');
        if !line.is_empty() {
            out.push_str(&pad);
            out.push_str(line);
        }
    }
}

fn scalar(out: &mut String, v: &V) {
    match v {
        V::Str(s) => out.push_str(&quote(s)),
        V::Plain(p) => out.push_str(p),
        V::Map(_) => out.push_str("{}"),
        V::List(_) => out.push_str("[]"),
        V::Absent => out.push('~'),
    }
}

/// A string as a YAML scalar: plain where YAML reads it back as the same string, else
/// double-quoted.
fn quote(s: &str) -> String {
    // YAML 1.2's core schema, which serde_yaml_ng reads: `on` and `yes` are strings there.
    let reserved = matches!(
        s.to_ascii_lowercase().as_str(),
        "true" | "false" | "null" | "~"
    );
    let plain = !s.is_empty()
        && !reserved
        && s.parse::<f64>().is_err()
        && s.trim() == s
        && !s.starts_with(|c: char| "-?:,[]{}#&*!|>'\"%@`".contains(c))
        && !s.ends_with(':')
        && !s.contains(": ")
        && !s.contains(" #")
        && !s.chars().any(char::is_control);
    if plain {
        return s.to_string();
    }
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    for c in s.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            '\n' => q.push_str("\\n"),
            '\t' => q.push_str("\\t"),
            '\r' => q.push_str("\\r"),
            c if c.is_control() => q.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

/// `UnknownKey` -> `unknown_key` (how the YAML names variants).
fn snake(ident: &str) -> String {
    let mut out = String::with_capacity(ident.len() + 4);
    for (i, c) in ident.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Reads a whole `Debug` text; `None` when it is not one (or has text left over).
fn parse(s: &str) -> Option<V> {
    let mut p = Parser {
        s: s.as_bytes(),
        text: s,
        i: 0,
    };
    let v = p.value(0)?;
    p.ws();
    (p.i == p.s.len()).then_some(v)
}

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    i: usize,
}

/// Deeper than any step's arguments; keeps a hostile detail from overflowing the stack.
const MAX_DEPTH: usize = 64;

impl Parser<'_> {
    fn ws(&mut self) {
        while self.s.get(self.i).is_some_and(u8::is_ascii_whitespace) {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: usize) -> Option<V> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.ws();
        match self.peek()? {
            b'"' => self.string().map(V::Str),
            b'\'' => self.char_lit().map(V::Str),
            b'[' => {
                self.i += 1;
                self.seq(b']', depth).map(V::List)
            }
            b'(' => {
                self.i += 1;
                self.seq(b')', depth).map(V::List)
            }
            b'{' => {
                self.i += 1;
                self.map(depth)
            }
            _ => self.word(depth),
        }
    }

    fn seq(&mut self, close: u8, depth: usize) -> Option<Vec<V>> {
        let mut items = Vec::new();
        loop {
            if self.eat(close) {
                return Some(items);
            }
            items.push(self.value(depth + 1)?);
            if !self.eat(b',') {
                return self.eat(close).then_some(items);
            }
        }
    }

    /// `{key: value, ...}` (a map's Debug).
    fn map(&mut self, depth: usize) -> Option<V> {
        let mut entries = Vec::new();
        loop {
            if self.eat(b'}') {
                return Some(V::Map(entries));
            }
            let key = match self.value(depth + 1)? {
                V::Str(s) | V::Plain(s) => s,
                _ => return None,
            };
            if !self.eat(b':') {
                return None;
            }
            entries.push((key, self.value(depth + 1)?));
            if !self.eat(b',') {
                return self.eat(b'}').then_some(V::Map(entries));
            }
        }
    }

    /// A number, bool, `None`, unit variant, `Some(x)`, tuple struct or struct.
    fn word(&mut self, depth: usize) -> Option<V> {
        let start = self.i;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-' | b'+'))
        {
            self.i += 1;
        }
        if self.i == start {
            return None;
        }
        let word = self.text.get(start..self.i)?;
        let after = self.i;
        self.ws();
        match self.peek() {
            Some(b'{') if word.starts_with(|c: char| c.is_ascii_uppercase()) => {
                self.i += 1;
                let fields = self.fields(depth)?;
                // A duration reads better as the scenario wrote it.
                if let ("Span", [(k, V::Plain(n))]) = (word, fields.as_slice()) {
                    if k == "seconds" {
                        return Some(V::Plain(format!("{n}s")));
                    }
                }
                Some(V::Map(fields))
            }
            Some(b'(') if word.starts_with(|c: char| c.is_ascii_uppercase()) => {
                self.i += 1;
                let mut items = self.seq(b')', depth)?;
                // `Some(x)` and newtypes (`FaultName(UnknownKey)`) are their content.
                Some(if items.len() == 1 {
                    items.remove(0)
                } else {
                    V::List(items)
                })
            }
            _ => {
                self.i = after;
                Some(match word {
                    "None" => V::Absent,
                    "true" | "false" => V::Plain(word.to_string()),
                    w if w.starts_with(|c: char| c.is_ascii_digit() || c == '-') => {
                        V::Plain(w.to_string())
                    }
                    w if w.starts_with(|c: char| c.is_ascii_uppercase())
                        && w.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') =>
                    {
                        V::Plain(snake(w))
                    }
                    _ => return None,
                })
            }
        }
    }

    /// `name: value, ... }` of a struct.
    fn fields(&mut self, depth: usize) -> Option<Vec<(String, V)>> {
        let mut fields = Vec::new();
        loop {
            if self.eat(b'}') {
                return Some(fields);
            }
            self.ws();
            let start = self.i;
            while self
                .peek()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_')
            {
                self.i += 1;
            }
            if self.i == start || !self.eat(b':') {
                return None;
            }
            let name = self.text.get(start..self.i - 1)?.trim().to_string();
            fields.push((name, self.value(depth + 1)?));
            if !self.eat(b',') {
                return self.eat(b'}').then_some(fields);
            }
        }
    }

    fn string(&mut self) -> Option<String> {
        self.i += 1;
        let mut out = String::new();
        let mut chars = self.text.get(self.i..)?.char_indices();
        while let Some((at, c)) = chars.next() {
            match c {
                '"' => {
                    self.i += at + 1;
                    return Some(out);
                }
                '\\' => out.push(unescape(&mut chars)?),
                c => out.push(c),
            }
        }
        None
    }

    fn char_lit(&mut self) -> Option<String> {
        self.i += 1;
        let mut chars = self.text.get(self.i..)?.char_indices();
        let c = match chars.next()? {
            (_, '\\') => unescape(&mut chars)?,
            (_, c) => c,
        };
        let (at, close) = chars.next()?;
        if close != '\'' {
            return None;
        }
        self.i += at + 1;
        Some(c.to_string())
    }
}

/// The character after a backslash in `Debug` output.
fn unescape(chars: &mut std::str::CharIndices<'_>) -> Option<char> {
    Some(match chars.next()?.1 {
        'n' => '\n',
        't' => '\t',
        'r' => '\r',
        '0' => '\0',
        'u' => {
            if chars.next()?.1 != '{' {
                return None;
            }
            let mut hex = String::new();
            loop {
                match chars.next()?.1 {
                    '}' => break,
                    c => hex.push(c),
                }
            }
            char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?
        }
        c => c,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> BTreeMap<String, String> {
        [
            ("user.email", "alice@acme.test"),
            ("sp.login_url", "http://sp.test/login"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    #[test]
    fn a_struct_becomes_the_mapping_the_scenario_wrote() {
        let y = step_yaml(
            "add_user",
            "SpUserArgs { email: \"{user.email}\", role: Member, method: Invited, password: None, given_name: None, family_name: None, expect_error: None }",
            &ctx(),
        );
        assert_eq!(
            y,
            "add_user:\n  email: alice@acme.test\n  role: member\n  method: invited"
        );
    }

    #[test]
    fn scalars_newtypes_lists_and_spans() {
        assert_eq!(
            step_yaml("open", "\"{sp.login_url}\"", &ctx()),
            "open: http://sp.test/login"
        );
        assert_eq!(step_yaml("enable_sso", "true", &ctx()), "enable_sso: true");
        assert_eq!(step_yaml("connect", "Saml", &ctx()), "connect: saml");
        assert_eq!(step_yaml("start_login", "NoArgs", &ctx()), "start_login");
        assert_eq!(
            step_yaml(
                "set_fault",
                "FaultArgs { faults: [FaultName(UnknownKey)], scope: Tenant }",
                &ctx()
            ),
            "set_fault:\n  faults:\n    - unknown_key\n  scope: tenant"
        );
        assert_eq!(
            step_yaml(
                "advance_clock",
                "ClockArgs { by: Span { seconds: 518400 }, on: Target }",
                &ctx()
            ),
            "advance_clock:\n  by: 518400s\n  on: target"
        );
        assert_eq!(
            step_yaml(
                "add_domain",
                "DomainArgs { domain: \"d100.acme.test\", expect_error: Some(\"at most 99: verified\") }",
                &ctx()
            ),
            "add_domain:\n  domain: d100.acme.test\n  expect_error: \"at most 99: verified\""
        );
    }

    #[test]
    fn maps_nested_structs_and_escapes() {
        let y = step_yaml(
            "x",
            "A { m: {\"k\": [B { a: 1, b: \"q\\\"\\n\" }]}, c: 'x' }",
            &BTreeMap::new(),
        );
        assert_eq!(
            y,
            "x:\n  m:\n    k:\n      - a: 1\n        b: |-\n          q\"\n  c: x"
        );
    }

    #[test]
    fn text_that_is_not_debug_output_is_kept_and_unknown_placeholders_stay() {
        assert_eq!(
            step_yaml(
                "session_probe",
                "who is signed in now? (target's session_probe)",
                &ctx()
            ),
            "session_probe: who is signed in now? (target's session_probe)"
        );
        assert_eq!(
            resolve_text("{user.password} {{lit}} {user.email}", &ctx()),
            "{user.password} {lit} alice@acme.test"
        );
    }

    #[test]
    fn hostile_nesting_does_not_overflow() {
        let deep = "[".repeat(10_000);
        assert_eq!(
            step_yaml("x", &deep, &BTreeMap::new()),
            format!("x: \"{deep}\"")
        );
    }
}
