//! Exclusive XML canonicalization without comments (xml-exc-c14n, no InclusiveNamespaces
//! prefix list) of one element of a [`dom`](super::dom) tree: what a same-document
//! reference `URI="#id"` digests. Comments are left out (a bare-name reference removes them),
//! CDATA sections become escaped text, a namespace declaration is written on the first
//! output element that visibly uses its prefix, attributes are sorted by namespace URI then
//! local name. The genuine path never needs this (its writer already emits canonical
//! bytes); the forge does because it edits, moves and signs parsed trees and templates.

use super::dom::{Element, Node};
use crate::saml::xml::{escape_attr, escape_text};

/// The canonical bytes of `el`, leaving out the element `exclude` (an enveloped signature)
/// wherever it sits below `el`.
pub fn exc_c14n(el: &Element, exclude: Option<&Element>) -> Vec<u8> {
    let mut out = Vec::with_capacity(4096);
    let mut rendered: Vec<Vec<(Option<String>, String)>> = Vec::new();
    element(el, exclude, &mut rendered, &mut out);
    out
}

/// The namespace a prefix was last rendered with by an output ancestor.
fn rendered_as<'a>(
    rendered: &'a [Vec<(Option<String>, String)>],
    prefix: Option<&str>,
) -> Option<&'a str> {
    rendered.iter().rev().find_map(|frame| {
        frame
            .iter()
            .find(|(p, _)| p.as_deref() == prefix)
            .map(|(_, u)| u.as_str())
    })
}

fn element(
    el: &Element,
    exclude: Option<&Element>,
    rendered: &mut Vec<Vec<(Option<String>, String)>>,
    out: &mut Vec<u8>,
) {
    // Visibly utilized: the element's own prefix (or the default namespace) and the
    // prefixes of its attributes; xml: is never declared.
    let mut used: Vec<(Option<String>, String)> = Vec::new();
    if el.prefix.as_deref() != Some("xml") {
        used.push((el.prefix.clone(), el.ns.clone().unwrap_or_default()));
    }
    for a in &el.attrs {
        if let (Some(p), Some(ns)) = (&a.prefix, &a.ns)
            && p != "xml"
            && !used.iter().any(|(u, _)| u.as_deref() == Some(p.as_str()))
        {
            used.push((Some(p.clone()), ns.clone()));
        }
    }
    let mut frame = Vec::new();
    for (prefix, uri) in used {
        let before = rendered_as(rendered, prefix.as_deref());
        let render = match prefix {
            // An empty default is only written to undo a non-empty one above.
            None => before.unwrap_or("") != uri,
            Some(_) => before != Some(uri.as_str()),
        };
        if render {
            frame.push((prefix, uri));
        }
    }
    frame.sort_by(|a, b| a.0.cmp(&b.0));

    let mut attrs: Vec<&super::dom::Attr> = el.attrs.iter().collect();
    attrs.sort_by(|a, b| {
        (a.ns.as_deref().unwrap_or(""), a.local.as_str())
            .cmp(&(b.ns.as_deref().unwrap_or(""), b.local.as_str()))
    });

    let name = el.qname();
    out.push(b'<');
    out.extend_from_slice(name.as_bytes());
    for (prefix, uri) in &frame {
        match prefix {
            Some(p) => {
                out.extend_from_slice(b" xmlns:");
                out.extend_from_slice(p.as_bytes());
            }
            None => out.extend_from_slice(b" xmlns"),
        }
        out.extend_from_slice(b"=\"");
        out.extend_from_slice(escape_attr(uri).as_bytes());
        out.push(b'"');
    }
    for a in attrs {
        out.push(b' ');
        out.extend_from_slice(a.qname().as_bytes());
        out.extend_from_slice(b"=\"");
        out.extend_from_slice(escape_attr(&a.value).as_bytes());
        out.push(b'"');
    }
    out.push(b'>');
    rendered.push(frame);
    for child in &el.children {
        match child {
            Node::Element(e) => {
                if exclude.is_some_and(|x| std::ptr::eq(x, e)) {
                    continue;
                }
                element(e, exclude, rendered, out);
            }
            Node::Text(t) | Node::CData(t) => out.extend_from_slice(escape_text(t).as_bytes()),
            Node::Comment(_) => {}
            Node::Pi(target, data) => {
                out.extend_from_slice(b"<?");
                out.extend_from_slice(target.as_bytes());
                if !data.is_empty() {
                    out.push(b' ');
                    out.extend_from_slice(data.as_bytes());
                }
                out.extend_from_slice(b"?>");
            }
            // Never signed by the forge (attacks add these after signing); kept visible.
            Node::EntityRef(name) => {
                out.extend_from_slice(escape_text(&format!("&{name};")).as_bytes())
            }
        }
    }
    rendered.pop();
    out.extend_from_slice(b"</");
    out.extend_from_slice(name.as_bytes());
    out.push(b'>');
}

#[cfg(test)]
mod tests {
    use super::super::dom::parse;
    use super::*;

    fn c14n_of_root(xml: &str) -> String {
        let doc = parse(xml).unwrap();
        String::from_utf8(exc_c14n(doc.root().unwrap(), None)).unwrap()
    }

    #[test]
    fn unused_namespaces_go_and_used_ones_move_to_first_use() {
        let got = c14n_of_root(
            "<r xmlns:a=\"urn:a\" xmlns:b=\"urn:b\"   z=\"1\"  a:y=\"2\"><b:c/><!-- gone --><![CDATA[<&>]]></r>",
        );
        assert_eq!(
            got,
            "<r xmlns:a=\"urn:a\" z=\"1\" a:y=\"2\"><b:c xmlns:b=\"urn:b\"></b:c>&lt;&amp;&gt;</r>"
        );
    }

    #[test]
    fn default_namespace_is_rendered_and_undone() {
        let got = c14n_of_root("<r xmlns=\"urn:d\"><x xmlns=\"\"><y/></x></r>");
        assert_eq!(got, "<r xmlns=\"urn:d\"><x xmlns=\"\"><y></y></x></r>");
    }

    #[test]
    fn nested_element_is_canonical_on_its_own() {
        let doc = parse(
            "<p:r xmlns:p=\"urn:p\" xmlns:s=\"urn:s\"><s:a ID=\"x\"><s:b>t</s:b></s:a></p:r>",
        )
        .unwrap();
        let a = doc.root().unwrap().find(&|e| e.local == "a").unwrap();
        assert_eq!(
            String::from_utf8(exc_c14n(a, None)).unwrap(),
            "<s:a xmlns:s=\"urn:s\" ID=\"x\"><s:b>t</s:b></s:a>"
        );
    }

    #[test]
    fn excluded_element_is_left_out() {
        let doc = parse("<r><a/><s/><b/></r>").unwrap();
        let root = doc.root().unwrap();
        let s = root.find(&|e| e.local == "s").unwrap();
        assert_eq!(
            String::from_utf8(exc_c14n(root, Some(s))).unwrap(),
            "<r><a></a><b></b></r>"
        );
    }

    #[test]
    fn the_genuine_writer_output_is_a_fixed_point() {
        // The canonical writer's bytes are exclusive-canonical already.
        let mut w = crate::saml::xml::CanonWriter::new();
        w.start(
            "saml:Assertion",
            &[("saml", crate::saml::xml::NS_SAML)],
            &[("ID", "_a"), ("Version", "2.0")],
        );
        w.leaf("saml:NameID", &[], &[("Format", "f")], "a&b <c>");
        w.end("saml:Assertion");
        let bytes = w.into_bytes();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert_eq!(c14n_of_root(&text).into_bytes(), bytes);
    }
}
