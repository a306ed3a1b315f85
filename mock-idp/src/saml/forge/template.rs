//! Hand-written Response templates: the caller's XML text with `{{name}}` placeholders for
//! what only the IdP knows at answer time. Values are XML-escaped, so a placeholder can sit
//! in text or in an attribute value.

use super::dom;
use time::{Duration, OffsetDateTime};

/// Every placeholder, with what it stands for (listed in errors and the README).
pub const PLACEHOLDERS: &[(&str, &str)] = &[
    ("issuer", "the tenant's entity ID"),
    ("destination", "the SP's ACS URL"),
    ("acs_url", "the SP's ACS URL"),
    (
        "acs_url_upper_path",
        "the SP's ACS URL with its path in upper case (differs only in letter case)",
    ),
    (
        "acs_url_upper_host",
        "the SP's ACS URL with its scheme and host in upper case",
    ),
    ("recipient", "the SP's ACS URL"),
    ("audience", "the SP's entity ID"),
    ("nameid", "the signed-in user's email"),
    ("email", "the signed-in user's email"),
    ("nameid_format", "the profile's NameID format"),
    ("uid", "the user's stable id"),
    ("given_name", "the user's given name"),
    ("family_name", "the user's family name"),
    ("forged_identity", "the spec's forged_identity"),
    ("response_id", "a fresh Response ID"),
    ("assertion_id", "a fresh Assertion ID"),
    ("session_index", "a fresh SessionIndex"),
    (
        "in_response_to",
        "the AuthnRequest's ID (empty when unsolicited)",
    ),
    (
        "now",
        "the tenant's now; now+N / now-N are N seconds later / earlier",
    ),
    ("not_before", "now - 5 minutes"),
    ("not_on_or_after", "now + 5 minutes"),
];

/// What a template's placeholders are replaced with.
pub struct Values<'a> {
    pub lookup: &'a dyn Fn(&str) -> Option<String>,
    pub now: OffsetDateTime,
}

fn time_value(name: &str, now: OffsetDateTime) -> Option<Result<String, String>> {
    let rest = name.strip_prefix("now")?;
    if rest.is_empty() {
        return Some(Ok(crate::clock::rfc3339(now)));
    }
    let (sign, digits) = match rest.split_at(1) {
        ("+", d) => (1i64, d),
        ("-", d) => (-1i64, d),
        _ => return None,
    };
    Some(match digits.parse::<i64>() {
        Ok(n) if n <= proto::idp::MAX_CLOCK_OFFSET_SECONDS => {
            Ok(crate::clock::rfc3339(now + Duration::seconds(sign * n)))
        }
        _ => Err(format!(
            "{{{{{name}}}}}: the offset is whole seconds within +-100 years"
        )),
    })
}

/// The template with every placeholder replaced.
pub fn render(template: &str, values: &Values<'_>) -> Result<String, String> {
    render_with(template, values, true)
}

/// An edit's `value` with every placeholder replaced, not escaped: the edit sets it as text
/// or an attribute value, and the writer escapes it then.
pub fn render_value(template: &str, values: &Values<'_>) -> Result<String, String> {
    render_with(template, values, false)
}

fn render_with(template: &str, values: &Values<'_>, escape: bool) -> Result<String, String> {
    let mut out = String::with_capacity(template.len() + 512);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or("a '{{' without its closing '}}'")?;
        let name = after[..end].trim();
        let value = match time_value(name, values.now) {
            Some(v) => v?,
            None => (values.lookup)(name).ok_or_else(|| {
                let known: Vec<&str> = PLACEHOLDERS.iter().map(|(n, _)| *n).collect();
                format!(
                    "unknown placeholder {{{{{name}}}}}; known: {}, now+N, now-N",
                    known.join(", ")
                )
            })?,
        };
        if escape {
            out.push_str(&quick_xml::escape::escape(value.as_str()));
        } else {
            out.push_str(&value);
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Renders with stand-in values and parses the result: unknown placeholders and XML that is
/// not well-formed are found when the spec is given, not at sign-in.
pub fn check(template: &str) -> Result<(), String> {
    let lookup = |name: &str| {
        PLACEHOLDERS
            .iter()
            .any(|(n, _)| *n == name)
            .then(|| format!("_check-{name}"))
    };
    let xml = render(
        template,
        &Values {
            lookup: &lookup,
            now: OffsetDateTime::UNIX_EPOCH,
        },
    )?;
    let doc = dom::parse(&xml).map_err(|e| format!("not well-formed XML: {e}"))?;
    if doc
        .nodes
        .iter()
        .filter(|n| matches!(n, dom::Node::Element(_)))
        .count()
        != 1
    {
        return Err("a template has exactly one root element".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_replaced_and_escaped() {
        let lookup = |n: &str| match n {
            "nameid" => Some("a&b\"c".to_string()),
            _ => None,
        };
        let v = Values {
            lookup: &lookup,
            now: OffsetDateTime::UNIX_EPOCH,
        };
        let out = render("<x a=\"{{ nameid }}\" t=\"{{now+60}}\">{{now-60}}</x>", &v).unwrap();
        assert_eq!(
            out,
            "<x a=\"a&amp;b&quot;c\" t=\"1970-01-01T00:01:00.000Z\">1969-12-31T23:59:00.000Z</x>"
        );
        assert!(
            render("{{nope}}", &v)
                .unwrap_err()
                .contains("unknown placeholder {{nope}}")
        );
        assert!(render("{{now+x}}", &v).is_err());
        assert!(render("{{nameid", &v).is_err());
    }

    #[test]
    fn check_finds_bad_xml_and_unknown_names() {
        assert!(check("<r a=\"{{issuer}}\">{{now+5}}</r>").is_ok());
        assert!(check("<r>{{issuer</r>").is_err());
        assert!(check("<r><x></r>").is_err());
        assert!(check("<r>{{who}}</r>").is_err());
    }
}
