//! An XML writer (quick-xml underneath) that emits exactly the exclusive-canonical form
//! (xml-exc-c14n) of what it writes: attributes in canonical order, canonical escaping,
//! explicit end tags, namespace declarations only where first used. Signing then needs no
//! canonicalizer: the bytes written are the bytes digested.

use quick_xml::Writer;
use quick_xml::events::attributes::Attribute;
use quick_xml::events::{BytesEnd, BytesStart, BytesText, Event};
use quick_xml::name::QName;
use std::borrow::Cow;

pub const NS_SAML: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
pub const NS_SAMLP: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
pub const NS_DS: &str = "http://www.w3.org/2000/09/xmldsig#";
pub const NS_XENC: &str = "http://www.w3.org/2001/04/xmlenc#";
pub const NS_MD: &str = "urn:oasis:names:tc:SAML:2.0:metadata";

/// Characters XML 1.0 cannot carry at all; they are dropped rather than emitted broken.
fn allowed(c: char) -> bool {
    matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Whether `s` is written as it is: printable ASCII with none of `special`. Most values
/// (IDs, URLs, times, emails) are, and then escaping costs a scan instead of a copy.
fn plain(s: &str, special: &[u8]) -> bool {
    s.bytes()
        .all(|b| (0x20..0x7f).contains(&b) && !special.contains(&b))
}

/// Canonical text escaping (c14n section 1.1 "text nodes").
pub fn escape_text(s: &str) -> Cow<'_, str> {
    if plain(s, b"&<>") {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars().filter(|c| allowed(*c)) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Canonical attribute value escaping.
pub fn escape_attr(s: &str) -> Cow<'_, str> {
    if plain(s, b"&<\"") {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars().filter(|c| allowed(*c)) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn bytes(s: Cow<'_, str>) -> Cow<'_, [u8]> {
    match s {
        Cow::Borrowed(b) => Cow::Borrowed(b.as_bytes()),
        Cow::Owned(o) => Cow::Owned(o.into_bytes()),
    }
}

/// `items` in canonical (name) order; callers mostly pass them sorted already, and then no
/// copy is made.
fn sorted<'a>(items: &'a [(&'a str, &'a str)]) -> Cow<'a, [(&'a str, &'a str)]> {
    if items.is_sorted_by_key(|i| i.0) {
        Cow::Borrowed(items)
    } else {
        let mut v = items.to_vec();
        v.sort_by_key(|i| i.0);
        Cow::Owned(v)
    }
}

pub struct CanonWriter {
    w: Writer<Vec<u8>>,
}

impl Default for CanonWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl CanonWriter {
    pub fn new() -> Self {
        Self {
            w: Writer::new(Vec::with_capacity(4096)),
        }
    }

    /// Starts an element. `ns` are the namespace declarations this element must carry
    /// (prefix, URI); `attrs` are unqualified attributes. Both are put in canonical order.
    pub fn start(&mut self, name: &str, ns: &[(&str, &str)], attrs: &[(&str, &str)]) {
        let mut start = BytesStart::new(name);
        for (prefix, uri) in sorted(ns).iter() {
            let key = format!("xmlns:{prefix}");
            start.push_attribute(Attribute {
                key: QName(key.as_bytes()),
                value: bytes(escape_attr(uri)),
            });
        }
        for (key, value) in sorted(attrs).iter() {
            start.push_attribute(Attribute {
                key: QName(key.as_bytes()),
                value: bytes(escape_attr(value)),
            });
        }
        self.event(Event::Start(start));
    }

    pub fn end(&mut self, name: &str) {
        self.event(Event::End(BytesEnd::new(name)));
    }

    pub fn text(&mut self, text: &str) {
        let escaped = escape_text(text);
        self.event(Event::Text(BytesText::from_escaped(escaped)));
    }

    /// `<name attrs>text</name>`
    pub fn leaf(&mut self, name: &str, ns: &[(&str, &str)], attrs: &[(&str, &str)], text: &str) {
        self.start(name, ns, attrs);
        if !text.is_empty() {
            self.text(text);
        }
        self.end(name);
    }

    /// Appends bytes that are already canonical XML (a signed child element).
    pub fn raw(&mut self, xml: &[u8]) {
        self.w.get_mut().extend_from_slice(xml);
    }

    pub fn len(&self) -> usize {
        self.w.get_ref().len()
    }

    pub fn is_empty(&self) -> bool {
        self.w.get_ref().is_empty()
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.w.into_inner()
    }

    fn event(&mut self, event: Event<'_>) {
        // Writing into a Vec cannot fail.
        let _ = self.w.write_event(event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_values_are_borrowed_and_others_escaped() {
        assert!(matches!(escape_text("alice@acme.test"), Cow::Borrowed(_)));
        assert!(matches!(
            escape_attr("https://sp.test/acs?x=1"),
            Cow::Borrowed(_)
        ));
        assert_eq!(escape_text("a>b\u{1}é\r"), "a&gt;bé&#xD;");
        assert_eq!(escape_attr("a\"b\tc\n<&"), "a&quot;b&#x9;c&#xA;&lt;&amp;");
        // '>' needs no escaping in an attribute value.
        assert!(matches!(escape_attr("x>y"), Cow::Borrowed("x>y")));
    }

    #[test]
    fn canonical_order_escaping_and_end_tags() {
        let mut w = CanonWriter::new();
        w.start(
            "saml:A",
            &[("saml", NS_SAML)],
            &[("b", "x\"<&'\n"), ("ID", "1"), ("Version", "2.0")],
        );
        w.leaf("saml:E", &[], &[], "");
        w.text("tom&jerry <x> \"q\" 'a' \r é");
        w.end("saml:A");
        let s = String::from_utf8(w.into_bytes()).unwrap();
        assert_eq!(
            s,
            "<saml:A xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"1\" Version=\"2.0\" \
             b=\"x&quot;&lt;&amp;'&#xA;\"><saml:E></saml:E>tom&amp;jerry &lt;x&gt; \"q\" 'a' &#xD; é</saml:A>"
        );
    }
}
