//! The product's documented messages, word for word (catalogue: scenarios/documented/CATALOGUE.md),
//! each under a stable key, and the messages file (`--messages FILE`) that replaces them, as a
//! product's localisation or branding file would: a YAML mapping of key to text, where the
//! text may use the message's placeholders (`{email}`, ...).
use crate::error::{MessagesError, UserError};
use axum::http::StatusCode;
use axum::response::Response;
use std::collections::HashMap;
use std::path::Path;

pub const PRODUCT: &str = "ChatGPT";

/// One documented message: its key in a messages file, its text, and the placeholders the
/// text may use.
pub struct MessageDef {
    pub key: &'static str,
    pub text: &'static str,
    pub placeholders: &'static [&'static str],
}

/// Every message a messages file can replace. `product` is the product's name as the other
/// messages say it (`{product}`); replacing it rebrands them without rewriting them.
pub const KEYS: &[MessageDef] = &[
    MessageDef {
        key: "product",
        text: PRODUCT,
        placeholders: &[],
    },
    MessageDef {
        key: NOT_IN_WORKSPACE,
        text: "Your Identity Provider signed you in as {email}, but that email has not been added to your {product} workspace.",
        placeholders: &["email", "product"],
    },
    MessageDef {
        key: METHOD_MISMATCH,
        text: "You tried signing in as {email} using {method}, which is not the authentication method you used during sign up. Try again using the authentication method you used during sign up. (error=identity_provider_mismatch)",
        placeholders: &["email", "method", "product"],
    },
    MessageDef {
        key: USE_SSO,
        text: "Oops! Please use your organization's SSO to access your account.",
        placeholders: &["product"],
    },
    MessageDef {
        key: SSO_INFO_FAILED,
        text: "Something went wrong while getting your SSO info",
        placeholders: &["product"],
    },
    MessageDef {
        key: NO_ACCESSIBLE_WORKSPACES,
        text: "No accessible workspaces",
        placeholders: &["product"],
    },
    MessageDef {
        key: INVALID_THUMBPRINT,
        text: "Invalid thumbprint",
        placeholders: &["product"],
    },
    MessageDef {
        key: CONNECTION_NOT_ENABLED,
        text: "the connection is not enabled",
        placeholders: &["product"],
    },
    MessageDef {
        key: SSO_FAILED,
        text: "SSO sign-in failed: {reason}",
        placeholders: &["reason", "product"],
    },
];

const NOT_IN_WORKSPACE: &str = "not_in_workspace";
const METHOD_MISMATCH: &str = "method_mismatch";
const USE_SSO: &str = "use_sso";
const SSO_INFO_FAILED: &str = "sso_info_failed";
const NO_ACCESSIBLE_WORKSPACES: &str = "no_accessible_workspaces";
const INVALID_THUMBPRINT: &str = "invalid_thumbprint";
const CONNECTION_NOT_ENABLED: &str = "connection_not_enabled";
const SSO_FAILED: &str = "sso_failed";

fn def(key: &str) -> Option<&'static MessageDef> {
    KEYS.iter().find(|d| d.key == key)
}

/// `text` with each `{name}` of `args` replaced, in one pass (a value that holds `{product}`,
/// such as an IdP's error text, stays as it is); other braces are left as they are.
fn fill(text: &str, args: &[(&'static str, String)]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value = after.find('}').and_then(|close| {
            let name = &after[..close];
            args.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (v, close))
        });
        match value {
            Some((v, close)) => {
                out.push_str(v);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The documented message `key` with its placeholders filled in (the product's own name).
fn documented(
    status: StatusCode,
    key: &'static str,
    args: Vec<(&'static str, String)>,
) -> UserError {
    let text = def(key).map(|d| d.text).unwrap_or(key);
    let mut all = args.clone();
    all.push(("product", PRODUCT.to_string()));
    UserError::new(status, fill(text, &all)).keyed(key, args)
}

/// ERR-1
pub fn not_in_workspace(email: &str) -> UserError {
    documented(
        StatusCode::FORBIDDEN,
        NOT_IN_WORKSPACE,
        vec![("email", email.to_string())],
    )
}

/// ERR-2. `method` is how this attempt signed in ("a password", "Google").
pub fn method_mismatch(email: &str, method: &str) -> UserError {
    documented(
        StatusCode::FORBIDDEN,
        METHOD_MISMATCH,
        vec![("email", email.to_string()), ("method", method.to_string())],
    )
    .code("identity_provider_mismatch")
}

/// ERR-3 / ERR-7: the workspace requires SSO and another method was used.
pub fn require_sso() -> UserError {
    documented(StatusCode::FORBIDDEN, USE_SSO, Vec::new()).code("require_sso_login")
}

/// ERR-7: the IdP refused the user (not in its access group for the application).
pub fn idp_refused(detail: impl Into<String>) -> UserError {
    documented(StatusCode::FORBIDDEN, USE_SSO, Vec::new())
        .code("access_denied")
        .detail(detail)
}

/// ERR-4
pub fn sso_info_failed() -> UserError {
    documented(StatusCode::BAD_GATEWAY, SSO_INFO_FAILED, Vec::new())
}

/// ERR-5
pub fn no_accessible_workspaces(detail: impl Into<String>) -> UserError {
    documented(StatusCode::FORBIDDEN, NO_ACCESSIBLE_WORKSPACES, Vec::new()).detail(detail)
}

/// ERR-6
pub fn invalid_thumbprint(detail: impl Into<String>) -> UserError {
    documented(StatusCode::FORBIDDEN, INVALID_THUMBPRINT, Vec::new()).detail(detail)
}

/// ERR-8
pub fn connection_not_enabled(detail: impl Into<String>) -> UserError {
    documented(StatusCode::FORBIDDEN, CONNECTION_NOT_ENABLED, Vec::new()).detail(detail)
}

/// Any other SSO failure: the reason itself is the message.
pub fn sso_failed(reason: impl Into<String>) -> UserError {
    documented(
        StatusCode::FORBIDDEN,
        SSO_FAILED,
        vec![("reason", reason.into())],
    )
}

/// The texts of a messages file; empty (the documented texts) without one.
#[derive(Debug, Clone, Default)]
pub struct Messages {
    texts: HashMap<&'static str, String>,
}

impl Messages {
    /// Reads and checks a messages file: every key known, every placeholder the message's own,
    /// every text non-empty; an error names `file:line` and the key.
    pub fn load(path: &Path) -> Result<Self, MessagesError> {
        let text = std::fs::read_to_string(path).map_err(|source| MessagesError::Read {
            file: path.display().to_string(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// As [`Messages::load`], from the file's text (`file` names it in errors).
    pub fn parse(text: &str, file: &str) -> Result<Self, MessagesError> {
        let syntax = |line: usize, message: String| MessagesError::Syntax {
            file: file.to_string(),
            line,
            message,
        };
        let value: serde_yaml_ng::Value = serde_yaml_ng::from_str(text)
            .map_err(|e| syntax(e.location().map(|l| l.line()).unwrap_or(1), e.to_string()))?;
        let mapping = match value {
            // An empty file changes nothing.
            serde_yaml_ng::Value::Null => return Ok(Self::default()),
            serde_yaml_ng::Value::Mapping(m) => m,
            _ => {
                return Err(syntax(
                    1,
                    "a messages file is a mapping of message key to text (`use_sso: ...`)".into(),
                ));
            }
        };
        let mut texts = HashMap::new();
        for (k, v) in mapping {
            let Some(key) = k.as_str() else {
                return Err(syntax(1, format!("a message key must be text, not {k:?}")));
            };
            let line = line_of(text, key);
            let Some(d) = def(key) else {
                let names: Vec<&'static str> = KEYS.iter().map(|d| d.key).collect();
                return Err(MessagesError::UnknownKey {
                    file: file.to_string(),
                    line,
                    key: key.to_string(),
                    suggestion: closest(key, &names),
                    known: names.join(", "),
                });
            };
            let t = match v.as_str() {
                Some(t) if !t.trim().is_empty() => t.to_string(),
                _ => {
                    return Err(MessagesError::NotText {
                        file: file.to_string(),
                        line,
                        key: key.to_string(),
                    });
                }
            };
            if let Some(p) = placeholders(&t).find(|p| !d.placeholders.contains(p)) {
                return Err(MessagesError::UnknownPlaceholder {
                    file: file.to_string(),
                    line,
                    key: key.to_string(),
                    placeholder: p.to_string(),
                    allowed: if d.placeholders.is_empty() {
                        "none".into()
                    } else {
                        d.placeholders
                            .iter()
                            .map(|p| format!("{{{p}}}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    },
                });
            }
            texts.insert(d.key, t);
        }
        Ok(Self { texts })
    }

    /// The text the file gives `e`, placeholders filled in; `None` when `e` keeps its
    /// documented text (no key, or the file replaces neither its text nor the product name).
    pub fn text(&self, e: &UserError) -> Option<String> {
        let key = e.key.as_deref()?;
        let product = self.texts.get("product");
        let template = match (self.texts.get(key.name), product) {
            (Some(t), _) => t.as_str(),
            (None, Some(_)) => Some(def(key.name)?.text).filter(|t| t.contains("{product}"))?,
            (None, None) => return None,
        };
        let mut args = key.args.clone();
        args.push((
            "product",
            product.cloned().unwrap_or_else(|| PRODUCT.to_string()),
        ));
        Some(fill(template, &args))
    }

    /// An error page shown with the documented text, shown again with the file's (same ID and
    /// time); any other response as it is.
    pub fn apply(&self, response: Response) -> Response {
        if self.texts.is_empty() {
            return response;
        }
        let Some(shown) = response.extensions().get::<crate::error::ShownError>() else {
            return response;
        };
        match self.text(&shown.error) {
            Some(text) => shown.render(&text),
            None => response,
        }
    }
}

/// The `{name}`s in a text (`name`: letters, digits, `_`).
fn placeholders(text: &str) -> impl Iterator<Item = &str> {
    text.split('{').skip(1).filter_map(|rest| {
        let name = rest.split('}').next()?;
        (rest.contains('}')
            && !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .then_some(name)
    })
}

/// The 1-based line of a top-level `key:` (bare or quoted); 1 when not found (a flow mapping).
fn line_of(text: &str, key: &str) -> usize {
    let forms = [
        format!("{key}:"),
        format!("\"{key}\":"),
        format!("'{key}':"),
    ];
    text.lines()
        .position(|l| forms.iter().any(|f| l.starts_with(f.as_str())))
        .map(|i| i + 1)
        .unwrap_or(1)
}

/// The known key nearest to `key`, if it is within typo distance (the wire contract's
/// did-you-mean, the same for every name the project checks).
fn closest(key: &str, names: &[&'static str]) -> Option<&'static str> {
    proto::closest(key, names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_texts_are_unchanged() {
        assert_eq!(
            not_in_workspace("a@acme.test").message,
            "Your Identity Provider signed you in as a@acme.test, but that email has not been added to your ChatGPT workspace."
        );
        assert_eq!(
            method_mismatch("a@acme.test", "Google").message,
            "You tried signing in as a@acme.test using Google, which is not the authentication method you used during sign up. Try again using the authentication method you used during sign up. (error=identity_provider_mismatch)"
        );
        assert_eq!(
            require_sso().message,
            "Oops! Please use your organization's SSO to access your account."
        );
        assert_eq!(idp_refused("x").message, require_sso().message);
        assert_eq!(
            sso_info_failed().message,
            "Something went wrong while getting your SSO info"
        );
        assert_eq!(
            no_accessible_workspaces("x").message,
            "No accessible workspaces"
        );
        assert_eq!(invalid_thumbprint("x").message, "Invalid thumbprint");
        assert_eq!(
            connection_not_enabled("x").message,
            "the connection is not enabled"
        );
        assert_eq!(sso_failed("why").message, "SSO sign-in failed: why");
        // An IdP's text is shown as it came, braces and all.
        assert_eq!(
            sso_failed("error={product} {x}").message,
            "SSO sign-in failed: error={product} {x}"
        );
    }

    #[test]
    fn a_file_replaces_its_messages_and_the_product_name_only() {
        let m = Messages::parse(
            "# branding\nproduct: Acme Cloud\n\"use_sso\": Use {product} SSO, please.\n",
            "b.yaml",
        )
        .unwrap();
        assert_eq!(
            m.text(&require_sso()).as_deref(),
            Some("Use Acme Cloud SSO, please.")
        );
        assert_eq!(
            m.text(&not_in_workspace("a@acme.test")).as_deref(),
            Some(
                "Your Identity Provider signed you in as a@acme.test, but that email has not been added to your Acme Cloud workspace."
            )
        );
        assert_eq!(m.text(&invalid_thumbprint("x")), None);
        assert_eq!(m.text(&UserError::new(StatusCode::FORBIDDEN, "x")), None);
        assert!(Messages::parse("", "e.yaml").unwrap().texts.is_empty());
    }

    #[test]
    fn unknown_keys_and_placeholders_name_the_file_and_line() {
        let e = Messages::parse("product: X\n\ninvalid_thumbprnt: Bad key\n", "m.yaml")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(
                "m.yaml:3: unknown message key `invalid_thumbprnt` (did you mean `invalid_thumbprint`?)"
            ),
            "{e}"
        );
        assert!(e.contains("use_sso"), "{e}");
        let e = Messages::parse("sso_failed: Failed for {email}\n", "m.yaml")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "m.yaml:1: message `sso_failed` has no placeholder `{email}`; it has: {reason}, {product}"
        );
        let e = Messages::parse("use_sso: \"\"\n", "m.yaml")
            .unwrap_err()
            .to_string();
        assert_eq!(e, "m.yaml:1: message `use_sso` must be a non-empty text");
        let e = Messages::parse("use_sso: [a\n", "m.yaml")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("m.yaml:"), "{e}");
        let e = Messages::parse("- use_sso\n", "m.yaml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("mapping of message key to text"), "{e}");
    }
}
