//! A small owned XML tree for the forge: parsed with quick-xml, edited in place, written
//! back with quick-xml's writer. Every element keeps its resolved namespace, so a subtree can
//! be moved anywhere (the attacks do little else) and is written with the declarations it
//! needs wherever it lands; exclusive canonicalization (`c14n.rs`) reads the same fields.
//!
//! Comments, CDATA sections and processing instructions are kept as nodes because several
//! attacks are made of them; entity references exist only for attacks that write them.

use super::super::xml::{escape_attr, escape_text};
use crate::error::{Error, Result};
use quick_xml::Reader;
use quick_xml::Writer;
use quick_xml::events::attributes::Attribute;
use quick_xml::events::{BytesCData, BytesDecl, BytesEnd, BytesPI, BytesStart, BytesText, Event};
use quick_xml::name::QName;
use std::borrow::Cow;

pub const NS_XML: &str = "http://www.w3.org/XML/1998/namespace";

#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Element(Element),
    Text(String),
    CData(String),
    /// The comment's text, without `<!--` and `-->`.
    Comment(String),
    /// Target and data of `<?target data?>`.
    Pi(String, String),
    /// `&name;`, written as is (only attacks that declare the entity make these).
    EntityRef(String),
}

/// A namespace declaration on an element; `prefix: None` is the default namespace.
#[derive(Debug, Clone, PartialEq)]
pub struct NsDecl {
    pub prefix: Option<String>,
    pub uri: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Attr {
    pub prefix: Option<String>,
    pub local: String,
    /// Resolved namespace; unprefixed attributes have none.
    pub ns: Option<String>,
    pub value: String,
}

impl Attr {
    pub fn qname(&self) -> String {
        qname(self.prefix.as_deref(), &self.local)
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Element {
    pub prefix: Option<String>,
    pub local: String,
    /// Resolved namespace URI (`None`: no namespace).
    pub ns: Option<String>,
    /// Declarations written on this element (more are added on output where needed).
    pub ns_decls: Vec<NsDecl>,
    pub attrs: Vec<Attr>,
    pub children: Vec<Node>,
}

fn qname(prefix: Option<&str>, local: &str) -> String {
    match prefix {
        Some(p) => format!("{p}:{local}"),
        None => local.to_string(),
    }
}

impl Element {
    /// `<prefix:local>` in namespace `ns`, nothing declared yet.
    pub fn new(prefix: Option<&str>, local: &str, ns: Option<&str>) -> Self {
        Self {
            prefix: prefix.map(str::to_string),
            local: local.to_string(),
            ns: ns.map(str::to_string),
            ..Default::default()
        }
    }

    pub fn qname(&self) -> String {
        qname(self.prefix.as_deref(), &self.local)
    }

    pub fn is(&self, ns: &str, local: &str) -> bool {
        self.local == local && self.ns.as_deref() == Some(ns)
    }

    /// The value of the unprefixed attribute `local`.
    pub fn attr(&self, local: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.prefix.is_none() && a.local == local)
            .map(|a| a.value.as_str())
    }

    /// Sets (or adds) the unprefixed attribute `local`.
    pub fn set_attr(&mut self, local: &str, value: &str) {
        match self
            .attrs
            .iter_mut()
            .find(|a| a.prefix.is_none() && a.local == local)
        {
            Some(a) => a.value = value.to_string(),
            None => self.attrs.push(Attr {
                prefix: None,
                local: local.to_string(),
                ns: None,
                value: value.to_string(),
            }),
        }
    }

    pub fn with_attr(mut self, local: &str, value: &str) -> Self {
        self.set_attr(local, value);
        self
    }

    pub fn with_text(mut self, text: &str) -> Self {
        self.children.push(Node::Text(text.to_string()));
        self
    }

    pub fn with_child(mut self, child: Element) -> Self {
        self.children.push(Node::Element(child));
        self
    }

    pub fn declare(mut self, prefix: Option<&str>, uri: &str) -> Self {
        self.ns_decls.push(NsDecl {
            prefix: prefix.map(str::to_string),
            uri: uri.to_string(),
        });
        self
    }

    /// The text of the direct text and CDATA children, concatenated (what a reader that
    /// honours comments and CDATA sees).
    pub fn text(&self) -> String {
        self.children
            .iter()
            .filter_map(|n| match n {
                Node::Text(t) | Node::CData(t) => Some(t.as_str()),
                _ => None,
            })
            .collect()
    }

    /// Replaces every child with one text node.
    pub fn set_text(&mut self, text: &str) {
        self.children = vec![Node::Text(text.to_string())];
    }

    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            _ => None,
        })
    }

    pub fn elements_mut(&mut self) -> impl Iterator<Item = &mut Element> {
        self.children.iter_mut().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            _ => None,
        })
    }

    /// Index in `children` of the first child element matching `pred`.
    pub fn child_index(&self, pred: impl Fn(&Element) -> bool) -> Option<usize> {
        self.children
            .iter()
            .position(|n| matches!(n, Node::Element(e) if pred(e)))
    }

    pub fn child(&self, ns: &str, local: &str) -> Option<&Element> {
        self.elements().find(|e| e.is(ns, local))
    }

    pub fn child_mut(&mut self, ns: &str, local: &str) -> Option<&mut Element> {
        self.elements_mut().find(|e| e.is(ns, local))
    }

    /// The element at `children[i]`, if that child is one.
    pub fn element_at_mut(&mut self, i: usize) -> Option<&mut Element> {
        match self.children.get_mut(i) {
            Some(Node::Element(e)) => Some(e),
            _ => None,
        }
    }

    /// Depth-first, this element first.
    pub fn find(&self, pred: &impl Fn(&Element) -> bool) -> Option<&Element> {
        if pred(self) {
            return Some(self);
        }
        self.elements().find_map(|e| e.find(pred))
    }

    pub fn find_mut(&mut self, pred: &impl Fn(&Element) -> bool) -> Option<&mut Element> {
        if pred(self) {
            return Some(self);
        }
        self.elements_mut().find_map(|e| e.find_mut(pred))
    }

    /// Calls `f` on this element and every descendant element, parents first.
    pub fn walk(&self, f: &mut impl FnMut(&Element)) {
        f(self);
        for child in self.elements() {
            child.walk(f);
        }
    }

    /// Calls `f` on this element and every descendant element, parents first.
    pub fn walk_mut(&mut self, f: &mut impl FnMut(&mut Element)) {
        f(self);
        for child in self.elements_mut() {
            child.walk_mut(f);
        }
    }

    /// Removes every descendant element (not this one) matching `pred`, at any depth.
    pub fn remove_all(&mut self, pred: &impl Fn(&Element) -> bool) {
        self.children
            .retain(|n| !matches!(n, Node::Element(e) if pred(e)));
        for child in self.elements_mut() {
            child.remove_all(pred);
        }
    }

    /// Inserts `child` right after the first child element named `local` in `ns` (the
    /// place a signature goes: after Issuer), or first when there is none.
    pub fn insert_after_child(&mut self, ns: &str, local: &str, child: Element) {
        let at = self.child_index(|e| e.is(ns, local)).map_or(0, |i| i + 1);
        self.children.insert(at, Node::Element(child));
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Document {
    /// Starts with `<?xml version="1.0" encoding="UTF-8"?>`.
    pub declaration: bool,
    /// The text between `<!DOCTYPE ` and its closing `>`.
    pub doctype: Option<String>,
    /// Top-level nodes: the root element, comments, processing instructions (and a second
    /// root for the one attack that wants one).
    pub nodes: Vec<Node>,
}

impl Document {
    pub fn root(&self) -> Option<&Element> {
        self.nodes.iter().find_map(|n| match n {
            Node::Element(e) => Some(e),
            _ => None,
        })
    }

    pub fn root_mut(&mut self) -> Option<&mut Element> {
        self.nodes.iter_mut().find_map(|n| match n {
            Node::Element(e) => Some(e),
            _ => None,
        })
    }

    pub fn root_or_err(&mut self) -> Result<&mut Element> {
        self.root_mut()
            .ok_or_else(|| Error::Xml("the document has no root element".into()))
    }
}

type Scope = Vec<Vec<(Option<String>, String)>>;

/// The URI bound to `prefix` (`None`: the default namespace) in `scope`; an empty default
/// declaration (`xmlns=""`) means no namespace.
fn lookup(scope: &Scope, prefix: Option<&str>) -> Option<String> {
    if prefix == Some("xml") {
        return Some(NS_XML.to_string());
    }
    for frame in scope.iter().rev() {
        if let Some((_, uri)) = frame.iter().rev().find(|(p, _)| p.as_deref() == prefix) {
            return (!uri.is_empty()).then(|| uri.clone());
        }
    }
    None
}

fn split_qname(name: &str) -> (Option<String>, String) {
    match name.split_once(':') {
        Some((p, l)) => (Some(p.to_string()), l.to_string()),
        None => (None, name.to_string()),
    }
}

fn utf8(bytes: &[u8]) -> Result<&str> {
    std::str::from_utf8(bytes).map_err(|e| Error::Xml(format!("not UTF-8: {e}")))
}

/// XML 1.0 end-of-line handling: CR LF and lone CR become LF before anything else.
fn normalize_eol(s: &str) -> Cow<'_, str> {
    if s.contains('\r') {
        Cow::Owned(s.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        Cow::Borrowed(s)
    }
}

fn unescape(raw: &str) -> Result<String> {
    quick_xml::escape::unescape(raw)
        .map(Cow::into_owned)
        .map_err(|e| Error::Xml(format!("{e}")))
}

/// Attribute-value normalization (XML 1.0 section 3.3.3): literal whitespace becomes a space,
/// character references keep what they name.
fn attr_value(raw: &str) -> Result<String> {
    let spaced: String = normalize_eol(raw)
        .chars()
        .map(|c| if matches!(c, '\t' | '\n') { ' ' } else { c })
        .collect();
    unescape(&spaced)
}

struct Open {
    el: Element,
}

fn start_element(e: &BytesStart<'_>, scope: &mut Scope) -> Result<Element> {
    let name = utf8(e.name().as_ref())?.to_string();
    let (prefix, local) = split_qname(&name);
    let mut decls = Vec::new();
    let mut raw_attrs = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|e| Error::Xml(e.to_string()))?;
        let key = utf8(a.key.as_ref())?.to_string();
        let value = attr_value(utf8(&a.value)?)?;
        if key == "xmlns" {
            decls.push((None, value));
        } else if let Some(p) = key.strip_prefix("xmlns:") {
            decls.push((Some(p.to_string()), value));
        } else {
            raw_attrs.push((key, value));
        }
    }
    scope.push(decls.clone());
    let ns = lookup(scope, prefix.as_deref());
    if prefix.is_some() && ns.is_none() {
        return Err(Error::Xml(format!("element {name}: unbound prefix")));
    }
    let mut attrs = Vec::with_capacity(raw_attrs.len());
    for (key, value) in raw_attrs {
        let (p, l) = split_qname(&key);
        let ans = match &p {
            Some(p) => Some(
                lookup(scope, Some(p))
                    .ok_or_else(|| Error::Xml(format!("attribute {key}: unbound prefix")))?,
            ),
            None => None,
        };
        attrs.push(Attr {
            prefix: p,
            local: l,
            ns: ans,
            value,
        });
    }
    Ok(Element {
        prefix,
        local,
        ns,
        ns_decls: decls
            .into_iter()
            .map(|(prefix, uri)| NsDecl { prefix, uri })
            .collect(),
        attrs,
        children: Vec::new(),
    })
}

fn push_node(stack: &mut [Open], top: &mut Vec<Node>, node: Node) -> Result<()> {
    match stack.last_mut() {
        Some(open) => {
            // Adjacent text from one run of character data stays one node.
            if let (Node::Text(t), Some(Node::Text(prev))) = (&node, open.el.children.last_mut()) {
                prev.push_str(t);
            } else {
                open.el.children.push(node);
            }
            Ok(())
        }
        None => match node {
            Node::Text(t) if t.trim().is_empty() => Ok(()),
            Node::Text(t) | Node::CData(t) => Err(Error::Xml(format!(
                "text outside the root element: {:?}",
                t.chars().take(40).collect::<String>()
            ))),
            other => {
                top.push(other);
                Ok(())
            }
        },
    }
}

/// Parses nodes with `scope` as the namespaces in force around them.
fn parse_nodes(xml: &str, mut scope: Scope, doc: &mut Document) -> Result<()> {
    let mut reader = Reader::from_str(xml);
    let mut stack: Vec<Open> = Vec::new();
    let mut top = Vec::new();
    loop {
        let event = reader
            .read_event()
            .map_err(|e| Error::Xml(format!("at byte {}: {e}", reader.buffer_position())))?;
        match event {
            Event::Start(e) => {
                let el = start_element(&e, &mut scope)?;
                stack.push(Open { el });
            }
            Event::Empty(e) => {
                let el = start_element(&e, &mut scope)?;
                scope.pop();
                push_node(&mut stack, &mut top, Node::Element(el))?;
            }
            Event::End(_) => {
                let open = stack
                    .pop()
                    .ok_or_else(|| Error::Xml("end tag without a start".into()))?;
                scope.pop();
                push_node(&mut stack, &mut top, Node::Element(open.el))?;
            }
            Event::Text(t) => {
                let raw = utf8(&t)?;
                let text = unescape(&normalize_eol(raw))?;
                push_node(&mut stack, &mut top, Node::Text(text))?;
            }
            Event::CData(c) => {
                let text = normalize_eol(utf8(&c)?).into_owned();
                push_node(&mut stack, &mut top, Node::CData(text))?;
            }
            Event::Comment(c) => {
                let text = utf8(&c)?.to_string();
                push_node(&mut stack, &mut top, Node::Comment(text))?;
            }
            Event::PI(pi) => {
                let target = utf8(pi.target())?.to_string();
                let data = utf8(pi.content())?.trim_start().to_string();
                push_node(&mut stack, &mut top, Node::Pi(target, data))?;
            }
            Event::Decl(_) => doc.declaration = true,
            Event::DocType(d) => doc.doctype = Some(utf8(&d)?.trim().to_string()),
            Event::Eof => break,
        }
    }
    if let Some(open) = stack.last() {
        return Err(Error::Xml(format!("<{}> is never closed", open.el.qname())));
    }
    doc.nodes = top;
    Ok(())
}

/// Parses a complete document.
pub fn parse(xml: &str) -> Result<Document> {
    let mut doc = Document::default();
    parse_nodes(xml, Vec::new(), &mut doc)?;
    if doc.root().is_none() {
        return Err(Error::Xml("no root element".into()));
    }
    Ok(doc)
}

/// Parses a fragment (one or more nodes) whose prefixes are resolved against `in_scope`.
pub fn parse_fragment(xml: &str, in_scope: &[NsDecl]) -> Result<Vec<Node>> {
    let frame = in_scope
        .iter()
        .map(|d| (d.prefix.clone(), d.uri.clone()))
        .collect();
    let mut doc = Document::default();
    parse_nodes(xml, vec![frame], &mut doc)?;
    if doc.doctype.is_some() {
        return Err(Error::Xml("a fragment cannot carry a DOCTYPE".into()));
    }
    Ok(doc.nodes)
}

/// Writes with quick-xml. Explicit end tags everywhere, the same escaping as the canonical
/// writer, and namespace declarations added wherever a moved element would lose its binding.
struct Out {
    w: Writer<Vec<u8>>,
    scope: Scope,
}

impl Out {
    fn new() -> Self {
        Self {
            w: Writer::new(Vec::with_capacity(8192)),
            scope: Vec::new(),
        }
    }

    fn event(&mut self, event: Event<'_>) {
        // Writing into a Vec cannot fail.
        let _ = self.w.write_event(event);
    }

    fn node(&mut self, node: &Node) {
        match node {
            Node::Element(e) => self.element(e),
            Node::Text(t) => self.event(Event::Text(BytesText::from_escaped(escape_text(t)))),
            Node::CData(t) => {
                // "]]>" cannot sit inside one section: split it across two.
                let parts: Vec<&str> = t.split("]]>").collect();
                for (i, part) in parts.iter().enumerate() {
                    let mut piece = String::new();
                    if i > 0 {
                        piece.push('>');
                    }
                    piece.push_str(part);
                    if i + 1 < parts.len() {
                        piece.push_str("]]");
                    }
                    self.event(Event::CData(BytesCData::new(piece)));
                }
            }
            Node::Comment(t) => {
                // "--" may not occur inside a comment.
                let mut safe = t.replace("--", "- -");
                if safe.ends_with('-') {
                    safe.push(' ');
                }
                self.event(Event::Comment(BytesText::from_escaped(safe)));
            }
            Node::Pi(target, data) => {
                let content = if data.is_empty() {
                    target.clone()
                } else {
                    format!("{target} {data}")
                };
                self.event(Event::PI(BytesPI::new(content)));
            }
            Node::EntityRef(name) => {
                self.event(Event::Text(BytesText::from_escaped(format!("&{name};"))))
            }
        }
    }

    fn element(&mut self, el: &Element) {
        let mut decls: Vec<(Option<String>, String)> = el
            .ns_decls
            .iter()
            .map(|d| (d.prefix.clone(), d.uri.clone()))
            .collect();
        self.scope.push(decls.clone());
        let mut need = |scope: &mut Scope, prefix: Option<&str>, uri: Option<&str>| {
            if prefix == Some("xml") {
                return;
            }
            if lookup(scope, prefix).as_deref() != uri {
                let entry = (prefix.map(str::to_string), uri.unwrap_or("").to_string());
                decls.retain(|(p, _)| p.as_deref() != prefix);
                decls.push(entry.clone());
                if let Some(frame) = scope.last_mut() {
                    frame.retain(|(p, _)| p.as_deref() != prefix);
                    frame.push(entry);
                }
            }
        };
        need(&mut self.scope, el.prefix.as_deref(), el.ns.as_deref());
        for a in &el.attrs {
            if a.prefix.is_some() {
                need(&mut self.scope, a.prefix.as_deref(), a.ns.as_deref());
            }
        }
        let name = el.qname();
        let mut start = BytesStart::new(name.as_str());
        for (prefix, uri) in &decls {
            let key = match prefix {
                Some(p) => format!("xmlns:{p}"),
                None => "xmlns".to_string(),
            };
            start.push_attribute(Attribute {
                key: QName(key.as_bytes()),
                value: Cow::Owned(escape_attr(uri).into_owned().into_bytes()),
            });
        }
        for a in &el.attrs {
            let key = a.qname();
            start.push_attribute(Attribute {
                key: QName(key.as_bytes()),
                value: Cow::Owned(escape_attr(&a.value).into_owned().into_bytes()),
            });
        }
        self.event(Event::Start(start));
        for child in &el.children {
            self.node(child);
        }
        self.event(Event::End(BytesEnd::new(name.as_str())));
        self.scope.pop();
    }

    fn into_string(self) -> String {
        // Every part was written from &str, so the bytes are UTF-8.
        String::from_utf8_lossy(&self.w.into_inner()).into_owned()
    }
}

/// The document as text.
pub fn write(doc: &Document) -> String {
    let mut out = Out::new();
    if doc.declaration {
        out.event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)));
        out.event(Event::Text(BytesText::from_escaped("\n")));
    }
    if let Some(dt) = &doc.doctype {
        out.event(Event::DocType(BytesText::from_escaped(dt.as_str())));
        out.event(Event::Text(BytesText::from_escaped("\n")));
    }
    for node in &doc.nodes {
        out.node(node);
    }
    out.into_string()
}

/// One element as a document of its own, with every namespace it uses declared on it.
pub fn write_element(el: &Element) -> String {
    let mut out = Out::new();
    out.element(el);
    out.into_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NS_A: &str = "urn:a";

    #[test]
    fn round_trips_namespaces_text_comments_cdata_and_pis() {
        let xml = "<a:r xmlns:a=\"urn:a\" ID=\"1\"><a:x b=\"1 &amp; 2\">t&lt;1<!-- c --><![CDATA[<raw>]]><?pi data?></a:x></a:r>";
        let doc = parse(xml).unwrap();
        let root = doc.root().unwrap();
        assert!(root.is(NS_A, "r"));
        let x = root.child(NS_A, "x").unwrap();
        assert_eq!(x.attr("b"), Some("1 & 2"));
        assert_eq!(x.text(), "t<1<raw>");
        assert_eq!(write(&doc), xml);
    }

    #[test]
    fn moved_element_declares_what_it_needs() {
        let doc = parse("<a:r xmlns:a=\"urn:a\"><a:x><a:y>v</a:y></a:x></a:r>").unwrap();
        let y = doc
            .root()
            .unwrap()
            .find(&|e| e.local == "y")
            .unwrap()
            .clone();
        assert_eq!(write_element(&y), "<a:y xmlns:a=\"urn:a\">v</a:y>");
        let other = Element::new(Some("a"), "z", Some("urn:other"))
            .declare(Some("a"), "urn:other")
            .with_child(y);
        assert_eq!(
            write_element(&other),
            "<a:z xmlns:a=\"urn:other\"><a:y xmlns:a=\"urn:a\">v</a:y></a:z>"
        );
    }

    #[test]
    fn unbound_prefixes_and_unclosed_elements_are_errors() {
        assert!(parse("<a:r></a:r>").is_err());
        assert!(parse("<r><x></r>").is_err());
        assert!(parse("text").is_err());
        assert!(parse_fragment("<a:x/>", &[]).is_err());
        let frag = parse_fragment(
            "<a:x/>",
            &[NsDecl {
                prefix: Some("a".into()),
                uri: NS_A.into(),
            }],
        )
        .unwrap();
        assert!(matches!(&frag[0], Node::Element(e) if e.is(NS_A, "x")));
    }

    #[test]
    fn attribute_values_are_normalized_and_line_ends_unified() {
        let doc = parse("<r a=\"x\ny\tz\" b=\"&#10;\">1\r\n2</r>").unwrap();
        let r = doc.root().unwrap();
        assert_eq!(r.attr("a"), Some("x y z"));
        assert_eq!(r.attr("b"), Some("\n"));
        assert_eq!(r.text(), "1\n2");
    }

    #[test]
    fn comment_and_cdata_content_is_kept_writable() {
        let r = Element::new(None, "r", None).with_child(Element::new(None, "x", None));
        let mut doc = Document {
            nodes: vec![Node::Element(r)],
            ..Default::default()
        };
        let root = doc.root_mut().unwrap();
        root.children.push(Node::Comment("a--b-".into()));
        root.children.push(Node::CData("x]]>y".into()));
        let text = write(&doc);
        let back = parse(&text).unwrap();
        assert_eq!(back.root().unwrap().text(), "x]]>y", "{text}");
    }
}
