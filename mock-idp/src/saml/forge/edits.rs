//! Layer 1: edits addressed by a simple path, applied to the unsigned Response before it is
//! signed.
//!
//! A path is `/`-separated steps from `Response` (the root) or `Assertion` (short for
//! `Response/Assertion`), each a local name (`*` for any) with an optional predicate:
//! `[2]` (the second match, 1-based as in XPath) or `[@Name='value']`; a final `@Attr`
//! names an attribute. Examples: `Response/@Destination`, `Assertion/Subject/NameID`,
//! `Response/Status/StatusCode/StatusCode`,
//! `Assertion/AttributeStatement/Attribute[@Name='uid']/AttributeValue`.
//! A path addresses every element it matches; matching none is an error.

use super::dom::{self, Element, Node, NsDecl};
use proto::forge::{Edit, EditOp, Position};

#[derive(Debug, Clone, PartialEq)]
pub enum Pred {
    All,
    /// 1-based.
    Index(usize),
    AttrEq(String, String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// Local name (a prefix, if written, is ignored) or `*`.
    pub name: String,
    pub pred: Pred,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    pub steps: Vec<Step>,
    /// The final `@Attr`, as written (`Destination`, `xsi:type`).
    pub attr: Option<String>,
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
        && !s.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '.')
}

/// Splits on `/` outside brackets and quotes (predicate values are often URIs).
fn split_steps(path: &str) -> Result<Vec<&str>, String> {
    let mut out = Vec::new();
    let (mut depth, mut quote, mut start) = (0i32, None::<char>, 0usize);
    for (i, c) in path.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '[') => depth += 1,
            (None, ']') => depth -= 1,
            (None, '/') if depth == 0 => {
                out.push(&path[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        if depth < 0 {
            return Err("unbalanced ']'".into());
        }
    }
    if quote.is_some() || depth != 0 {
        return Err("unclosed '[' or quote".into());
    }
    out.push(&path[start..]);
    Ok(out)
}

fn parse_step(s: &str) -> Result<Step, String> {
    let (name, pred) = match s.find('[') {
        Some(i) => {
            let inner = s[i + 1..]
                .strip_suffix(']')
                .ok_or_else(|| format!("step '{s}': expected ']' at the end"))?;
            (
                &s[..i],
                parse_pred(inner).map_err(|e| format!("step '{s}': {e}"))?,
            )
        }
        None => (s, Pred::All),
    };
    if name != "*" && !is_name(name) {
        return Err(format!("'{name}' is not an element name"));
    }
    Ok(Step {
        name: name.rsplit(':').next().unwrap_or(name).to_string(),
        pred,
    })
}

fn parse_pred(inner: &str) -> Result<Pred, String> {
    if let Ok(n) = inner.trim().parse::<usize>() {
        return if n == 0 {
            Err("positions start at 1".into())
        } else {
            Ok(Pred::Index(n))
        };
    }
    let rest = inner
        .trim()
        .strip_prefix('@')
        .ok_or("a predicate is [N] or [@Attr='value']")?;
    let (name, value) = rest
        .split_once('=')
        .ok_or("a predicate is [N] or [@Attr='value']")?;
    let value = value.trim();
    let unquoted = value
        .strip_prefix('\'')
        .and_then(|v| v.strip_suffix('\''))
        .or_else(|| value.strip_prefix('"').and_then(|v| v.strip_suffix('"')))
        .ok_or("the value in [@Attr='value'] must be quoted")?;
    let name = name.trim();
    if !is_name(name) {
        return Err(format!("'{name}' is not an attribute name"));
    }
    Ok(Pred::AttrEq(name.to_string(), unquoted.to_string()))
}

impl Path {
    pub fn parse(text: &str) -> Result<Path, String> {
        let parts = split_steps(text.trim())?;
        let mut steps = Vec::new();
        let mut attr = None;
        for (i, part) in parts.iter().enumerate() {
            if part.is_empty() {
                return Err("empty step (two '/' in a row, or a leading or trailing '/')".into());
            }
            if let Some(a) = part.strip_prefix('@') {
                if i + 1 != parts.len() {
                    return Err("an @attribute can only be the last step".into());
                }
                if !is_name(a) || a.starts_with("xmlns") {
                    return Err(format!("'{a}' is not an attribute name"));
                }
                attr = Some(a.to_string());
            } else {
                steps.push(parse_step(part)?);
            }
        }
        match steps.first().map(|s| (s.name.as_str(), &s.pred)) {
            Some(("Response", Pred::All)) => {}
            Some(("Assertion", _)) => steps.insert(
                0,
                Step {
                    name: "Response".into(),
                    pred: Pred::All,
                },
            ),
            _ => return Err("a path starts with Response or Assertion".into()),
        }
        Ok(Path { steps, attr })
    }

    /// The same path without its last element step (the parent of a node to insert).
    fn parent(&self) -> Option<(Path, &Step)> {
        let (last, init) = self.steps.split_last()?;
        if init.is_empty() {
            return None;
        }
        Some((
            Path {
                steps: init.to_vec(),
                attr: None,
            },
            last,
        ))
    }
}

impl std::fmt::Display for Path {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let steps: Vec<String> = self.steps.iter().map(|s| s.name.clone()).collect();
        write!(f, "{}", steps.join("/"))?;
        if let Some(a) = &self.attr {
            write!(f, "/@{a}")?;
        }
        Ok(())
    }
}

fn step_matches(step: &Step, e: &Element) -> bool {
    (step.name == "*" || e.local == step.name)
        && match &step.pred {
            Pred::AttrEq(name, value) => attr_by_name(e, name) == Some(value.as_str()),
            _ => true,
        }
}

fn attr_by_name<'a>(e: &'a Element, name: &str) -> Option<&'a str> {
    e.attrs
        .iter()
        .find(|a| a.qname() == name || (a.prefix.is_none() && a.local == name))
        .map(|a| a.value.as_str())
}

/// Index paths (positions in `children`, from the root) of the elements `path` addresses.
pub fn resolve(root: &Element, path: &Path) -> Vec<Vec<usize>> {
    let Some((first, rest)) = path.steps.split_first() else {
        return Vec::new();
    };
    if !(root.local == first.name || first.name == "*") {
        return Vec::new();
    }
    let mut current: Vec<(Vec<usize>, &Element)> = vec![(Vec::new(), root)];
    for step in rest {
        let mut next = Vec::new();
        for (at, el) in &current {
            let matched: Vec<(Vec<usize>, &Element)> = el
                .children
                .iter()
                .enumerate()
                .filter_map(|(i, n)| match n {
                    Node::Element(e) if step_matches(step, e) => {
                        let mut p = at.clone();
                        p.push(i);
                        Some((p, e))
                    }
                    _ => None,
                })
                .collect();
            match step.pred {
                Pred::Index(n) => next.extend(matched.into_iter().nth(n - 1)),
                _ => next.extend(matched),
            }
        }
        current = next;
    }
    current.into_iter().map(|(p, _)| p).collect()
}

pub fn at_mut<'a>(root: &'a mut Element, path: &[usize]) -> Option<&'a mut Element> {
    let mut el = root;
    for &i in path {
        el = el.element_at_mut(i)?;
    }
    Some(el)
}

/// The namespaces in force inside the element at `path` (for parsing an inserted fragment).
fn in_scope(root: &Element, path: &[usize]) -> Vec<NsDecl> {
    let mut out: Vec<NsDecl> = Vec::new();
    let add = |el: &Element, out: &mut Vec<NsDecl>| {
        let mut bind = |prefix: &Option<String>, uri: &Option<String>| {
            if let Some(uri) = uri {
                out.retain(|d| &d.prefix != prefix);
                out.push(NsDecl {
                    prefix: prefix.clone(),
                    uri: uri.clone(),
                });
            }
        };
        for d in &el.ns_decls {
            bind(&d.prefix, &Some(d.uri.clone()));
        }
        bind(&el.prefix, &el.ns);
    };
    let mut el = root;
    add(el, &mut out);
    for &i in path {
        match el.children.get(i) {
            Some(Node::Element(e)) => {
                el = e;
                add(el, &mut out);
            }
            _ => break,
        }
    }
    out
}

fn remove_at(root: &mut Element, path: &[usize]) -> Result<(), String> {
    let (last, parent) = path
        .split_last()
        .ok_or("the root element cannot be removed")?;
    let parent = at_mut(root, parent).ok_or("path moved while editing")?;
    parent.children.remove(*last);
    Ok(())
}

fn insert_sibling(
    root: &mut Element,
    path: &[usize],
    after: bool,
    nodes: Vec<Node>,
) -> Result<(), String> {
    let (last, parent) = path
        .split_last()
        .ok_or("nothing can be inserted beside the root element")?;
    let parent = at_mut(root, parent).ok_or("path moved while editing")?;
    let at = if after { last + 1 } else { *last };
    for (k, n) in nodes.into_iter().enumerate() {
        parent.children.insert(at + k, n);
    }
    Ok(())
}

fn set_attr_named(
    el: &mut Element,
    name: &str,
    value: &str,
    scope: &[NsDecl],
) -> Result<(), String> {
    if let Some(a) = el
        .attrs
        .iter_mut()
        .find(|a| a.qname() == name || (a.prefix.is_none() && a.local == name))
    {
        a.value = value.to_string();
        return Ok(());
    }
    match name.split_once(':') {
        None => el.set_attr(name, value),
        Some((p, l)) => {
            let ns = scope
                .iter()
                .rev()
                .find(|d| d.prefix.as_deref() == Some(p))
                .map(|d| d.uri.clone())
                .ok_or_else(|| format!("prefix '{p}' is not bound here"))?;
            el.attrs.push(dom::Attr {
                prefix: Some(p.to_string()),
                local: l.to_string(),
                ns: Some(ns),
                value: value.to_string(),
            });
        }
    }
    Ok(())
}

fn matches_attr(a: &dom::Attr, name: &str) -> bool {
    a.qname() == name || (a.prefix.is_none() && a.local == name)
}

/// Applies one edit; the error says why (the caller adds the JSON path).
pub fn apply(root: &mut Element, edit: &Edit) -> Result<(), String> {
    let path = Path::parse(&edit.path)?;
    if edit.op == EditOp::Insert && edit.xml.is_none() {
        return insert_new(root, &path, edit);
    }
    let mut targets = resolve(root, &path);
    if targets.is_empty() {
        return Err(format!("'{}' matches nothing in this response", edit.path));
    }
    // Last match first, so edits never shift the positions of the ones still to come.
    targets.sort();
    targets.reverse();
    for target in targets {
        let scope = in_scope(root, &target);
        if let Some(name) = &path.attr {
            let el = at_mut(root, &target).ok_or("path moved while editing")?;
            apply_attr(el, name, edit, &scope)?;
            continue;
        }
        match edit.op {
            EditOp::Remove => remove_at(root, &target)?,
            EditOp::Empty => {
                at_mut(root, &target)
                    .ok_or("path moved while editing")?
                    .children
                    .clear();
            }
            EditOp::Set => {
                let value = edit.value.as_deref().unwrap_or_default();
                at_mut(root, &target)
                    .ok_or("path moved while editing")?
                    .set_text(value);
            }
            EditOp::Duplicate => {
                let mut copy = at_mut(root, &target)
                    .ok_or("path moved while editing")?
                    .clone();
                if let Some(v) = &edit.value {
                    copy.set_text(v);
                }
                insert_sibling(root, &target, true, vec![Node::Element(copy)])?;
            }
            EditOp::Insert => {
                let xml = edit.xml.as_deref().unwrap_or_default();
                let position = edit.position.unwrap_or(Position::Last);
                let scope = match position {
                    Position::First | Position::Last => scope,
                    Position::Before | Position::After => {
                        in_scope(root, &target[..target.len().saturating_sub(1)])
                    }
                };
                let nodes = dom::parse_fragment(xml, &scope).map_err(|e| format!("xml: {e}"))?;
                match position {
                    Position::Before => insert_sibling(root, &target, false, nodes)?,
                    Position::After => insert_sibling(root, &target, true, nodes)?,
                    Position::First | Position::Last => {
                        let el = at_mut(root, &target).ok_or("path moved while editing")?;
                        let at = if position == Position::First {
                            0
                        } else {
                            el.children.len()
                        };
                        for (k, n) in nodes.into_iter().enumerate() {
                            el.children.insert(at + k, n);
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

fn apply_attr(el: &mut Element, name: &str, edit: &Edit, scope: &[NsDecl]) -> Result<(), String> {
    let exists = el.attrs.iter().any(|a| matches_attr(a, name));
    match edit.op {
        EditOp::Remove => {
            if !exists {
                return Err(format!("<{}> has no attribute {name}", el.qname()));
            }
            el.attrs.retain(|a| !matches_attr(a, name));
        }
        EditOp::Empty => {
            if !exists {
                return Err(format!("<{}> has no attribute {name}", el.qname()));
            }
            set_attr_named(el, name, "", scope)?;
        }
        EditOp::Set | EditOp::Insert => {
            set_attr_named(el, name, edit.value.as_deref().unwrap_or_default(), scope)?
        }
        EditOp::Duplicate => {
            // A second attribute of the same name: the document is no longer well-formed,
            // which is the point (parsers disagree on which one wins, or refuse).
            let mut copy = el
                .attrs
                .iter()
                .find(|a| matches_attr(a, name))
                .cloned()
                .ok_or_else(|| format!("<{}> has no attribute {name}", el.qname()))?;
            if let Some(v) = &edit.value {
                copy.value = v.clone();
            }
            el.attrs.push(copy);
        }
    }
    Ok(())
}

/// `insert` without `xml`: the path names the new node, `value` is its text.
fn insert_new(root: &mut Element, path: &Path, edit: &Edit) -> Result<(), String> {
    let value = edit.value.as_deref().unwrap_or_default();
    if let Some(name) = &path.attr {
        let targets = resolve(root, path);
        if targets.is_empty() {
            return Err(format!("'{}' matches nothing in this response", edit.path));
        }
        for target in targets {
            let scope = in_scope(root, &target);
            let el = at_mut(root, &target).ok_or("path moved while editing")?;
            set_attr_named(el, name, value, &scope)?;
        }
        return Ok(());
    }
    let (parent_path, last) = path
        .parent()
        .ok_or("insert names the new element after its parent, e.g. Assertion/Subject/NameID")?;
    if last.name == "*" || last.pred != Pred::All {
        return Err("the new element's step is a plain name, without [..]".into());
    }
    let written = edit
        .path
        .rsplit('/')
        .next()
        .unwrap_or(last.name.as_str())
        .to_string();
    let mut targets = resolve(root, &parent_path);
    if targets.is_empty() {
        return Err(format!(
            "the parent '{parent_path}' matches nothing in this response"
        ));
    }
    targets.sort();
    targets.reverse();
    for target in targets {
        let scope = in_scope(root, &target);
        let parent = at_mut(root, &target).ok_or("path moved while editing")?;
        let (prefix, ns) = match written.split_once(':') {
            Some((p, _)) => (
                Some(p.to_string()),
                Some(
                    scope
                        .iter()
                        .rev()
                        .find(|d| d.prefix.as_deref() == Some(p))
                        .map(|d| d.uri.clone())
                        .ok_or_else(|| format!("prefix '{p}' is not bound here"))?,
                ),
            ),
            // Unprefixed: the parent's namespace, as one writes Assertion/Subject/NameID.
            None => (parent.prefix.clone(), parent.ns.clone()),
        };
        let mut el = Element::new(prefix.as_deref(), &last.name, ns.as_deref());
        if !value.is_empty() {
            el.set_text(value);
        }
        match edit.position.unwrap_or(Position::Last) {
            Position::First => parent.children.insert(0, Node::Element(el)),
            Position::Last => parent.children.push(Node::Element(el)),
            Position::Before | Position::After => {
                return Err(
                    "before/after need an anchor: give `xml` and the anchor element's path".into(),
                );
            }
        }
    }
    Ok(())
}

/// Sets the attribute a `times` path names on every element it matches.
pub fn set_time(root: &mut Element, path: &Path, value: &str) -> Result<(), String> {
    let name = path
        .attr
        .as_deref()
        .ok_or("a times path ends with the @attribute that holds the time")?;
    let targets = resolve(root, path);
    if targets.is_empty() {
        return Err(format!("'{path}' matches nothing in this response"));
    }
    for target in targets {
        let scope = in_scope(root, &target);
        let el = at_mut(root, &target).ok_or("path moved while editing")?;
        set_attr_named(el, name, value, &scope)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::dom::parse;
    use super::*;

    const DOC: &str = "<samlp:Response xmlns:samlp=\"urn:p\" ID=\"r\" Destination=\"d\"><saml:Issuer xmlns:saml=\"urn:s\">i</saml:Issuer><samlp:Status><samlp:StatusCode Value=\"ok\"></samlp:StatusCode></samlp:Status><saml:Assertion xmlns:saml=\"urn:s\" ID=\"a\"><saml:Subject><saml:NameID>alice</saml:NameID></saml:Subject><saml:AttributeStatement><saml:Attribute Name=\"http://x/y\"><saml:AttributeValue>1</saml:AttributeValue></saml:Attribute><saml:Attribute Name=\"uid\"><saml:AttributeValue>2</saml:AttributeValue></saml:Attribute></saml:AttributeStatement></saml:Assertion></samlp:Response>";

    fn edit(op: EditOp, path: &str, value: Option<&str>) -> Edit {
        Edit {
            op,
            path: path.into(),
            value: value.map(String::from),
            xml: None,
            position: None,
        }
    }

    fn run(e: Edit) -> String {
        let mut doc = parse(DOC).unwrap();
        apply(doc.root_mut().unwrap(), &e).unwrap();
        dom::write(&doc)
    }

    #[test]
    fn paths_parse_and_reject_bad_syntax() {
        let p = Path::parse("Assertion/AttributeStatement/Attribute[@Name='http://x/y']/@Name")
            .unwrap();
        assert_eq!(p.steps.len(), 4);
        assert_eq!(
            p.steps[3].pred,
            Pred::AttrEq("Name".into(), "http://x/y".into())
        );
        assert_eq!(p.attr.as_deref(), Some("Name"));
        for bad in [
            "",
            "Foo/Bar",
            "Response//X",
            "Response/@a/b",
            "Response/X[0]",
            "Response/X[@a=b]",
            "Response/1x",
            "Response/X[",
        ] {
            assert!(Path::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn set_remove_empty_duplicate_elements_and_attributes() {
        assert!(
            run(edit(EditOp::Set, "Assertion/Subject/NameID", Some("bob")))
                .contains(">bob</saml:NameID>")
        );
        assert!(!run(edit(EditOp::Remove, "Assertion/Subject/NameID", None)).contains("NameID"));
        assert!(
            run(edit(EditOp::Empty, "Assertion/Subject", None))
                .contains("<saml:Subject></saml:Subject>")
        );
        let dup = run(edit(
            EditOp::Duplicate,
            "Assertion/Subject/NameID",
            Some("eve"),
        ));
        assert!(
            dup.contains("<saml:NameID>alice</saml:NameID><saml:NameID>eve</saml:NameID>"),
            "{dup}"
        );
        assert!(
            run(edit(EditOp::Set, "Response/@Destination", Some("x")))
                .contains("Destination=\"x\"")
        );
        assert!(!run(edit(EditOp::Remove, "Response/@Destination", None)).contains("Destination"));
        assert!(
            run(edit(EditOp::Empty, "Response/@Destination", None)).contains("Destination=\"\"")
        );
        let twice = run(edit(EditOp::Duplicate, "Response/@Destination", Some("y")));
        assert!(
            twice.contains("Destination=\"d\" Destination=\"y\""),
            "{twice}"
        );
    }

    #[test]
    fn predicates_pick_one_element() {
        let out = run(edit(
            EditOp::Set,
            "Assertion/AttributeStatement/Attribute[@Name='uid']/AttributeValue",
            Some("9"),
        ));
        assert!(out.contains("<saml:AttributeValue>1</saml:AttributeValue>"));
        assert!(out.contains("<saml:AttributeValue>9</saml:AttributeValue>"));
        let out = run(edit(
            EditOp::Remove,
            "Assertion/AttributeStatement/Attribute[1]",
            None,
        ));
        assert!(!out.contains("http://x/y") && out.contains("uid"), "{out}");
        // Without a predicate every match is edited.
        let out = run(edit(
            EditOp::Set,
            "Assertion/AttributeStatement/Attribute/AttributeValue",
            Some("z"),
        ));
        assert_eq!(out.matches(">z<").count(), 2);
    }

    #[test]
    fn insert_new_element_in_parent_namespace_or_a_fragment() {
        let out = run(edit(
            EditOp::Insert,
            "Assertion/Subject/NameID",
            Some("second"),
        ));
        assert!(
            out.contains("<saml:NameID>alice</saml:NameID><saml:NameID>second</saml:NameID>"),
            "{out}"
        );
        let mut e = edit(EditOp::Insert, "Assertion/Subject", None);
        e.xml = Some("<saml:Extra a=\"1\">x</saml:Extra>".into());
        e.position = Some(Position::First);
        let out = run(e);
        assert!(
            out.contains("<saml:Subject><saml:Extra a=\"1\">x</saml:Extra><saml:NameID>"),
            "{out}"
        );
        let mut e = edit(EditOp::Insert, "Response/Status", None);
        e.xml = Some("<samlp:Extensions></samlp:Extensions>".into());
        e.position = Some(Position::Before);
        assert!(
            run(e).contains("</saml:Issuer><samlp:Extensions></samlp:Extensions><samlp:Status>")
        );
        assert!(
            run(edit(EditOp::Insert, "Response/@Consent", Some("c"))).contains("Consent=\"c\"")
        );
    }

    #[test]
    fn nothing_matched_and_root_removal_are_errors() {
        let mut doc = parse(DOC).unwrap();
        let root = doc.root_mut().unwrap();
        let e = apply(root, &edit(EditOp::Set, "Assertion/Conditions", Some("x"))).unwrap_err();
        assert!(e.contains("matches nothing"), "{e}");
        assert!(apply(root, &edit(EditOp::Remove, "Response", None)).is_err());
        assert!(apply(root, &edit(EditOp::Remove, "Response/@Nope", None)).is_err());
        let mut e = edit(EditOp::Insert, "Assertion/Subject", None);
        e.xml = Some("<undeclared:x/>".into());
        assert!(apply(root, &e).is_err());
    }

    #[test]
    fn times_set_attributes() {
        let mut doc = parse(DOC).unwrap();
        let p = Path::parse("Assertion/@IssueInstant").unwrap();
        set_time(doc.root_mut().unwrap(), &p, "2030-01-01T00:00:00.000Z").unwrap();
        assert!(dom::write(&doc).contains("ID=\"a\" IssueInstant=\"2030-01-01T00:00:00.000Z\""));
        assert!(
            set_time(
                doc.root_mut().unwrap(),
                &Path::parse("Assertion/Subject").unwrap(),
                "x"
            )
            .is_err()
        );
    }
}
