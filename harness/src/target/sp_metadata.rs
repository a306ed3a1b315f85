//! Reading an SP's SAML metadata the way an IdP administrator imports it: the certificate
//! the SP publishes is what an IdP encrypts assertions to.

use base64::Engine as _;

/// The first `X509Certificate` in the metadata (prefer `use="encryption"` key descriptors),
/// as a PEM block. `None` when the document holds no certificate.
pub fn certificate_pem(metadata: &str) -> Option<String> {
    let encryption_first = metadata
        .find("use=\"encryption\"")
        .map(|at| &metadata[at..])
        .and_then(first_certificate);
    let der_b64 = encryption_first.or_else(|| first_certificate(metadata))?;
    let compact: String = der_b64.chars().filter(|c| !c.is_whitespace()).collect();
    // Only well-formed base64 becomes a PEM block; anything else is not a certificate.
    base64::engine::general_purpose::STANDARD
        .decode(&compact)
        .ok()?;
    let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in compact.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).ok()?);
        pem.push('\n');
    }
    pem.push_str("-----END CERTIFICATE-----\n");
    Some(pem)
}

/// Text of the first element whose local name is `X509Certificate`, whatever its prefix.
fn first_certificate(xml: &str) -> Option<&str> {
    let mut rest = xml;
    loop {
        let open = rest.find("X509Certificate")?;
        let before = &rest[..open];
        let after = &rest[open + "X509Certificate".len()..];
        // An opening tag: `<X509Certificate>` or `<ds:X509Certificate ...>`, not `</...`.
        let tag_start = before.rfind('<')?;
        let is_open = !before[tag_start..].starts_with("</")
            && before[tag_start + 1..]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == ':' || c == '_' || c == '-');
        if is_open {
            let body_start = after.find('>')? + 1;
            let body = &after[body_start..];
            let end = body.find('<')?;
            return Some(body[..end].trim());
        }
        rest = after;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DER_B64: &str = "MIIBszCCAVmgAwIBAgIUYQ==";

    #[test]
    fn reads_a_prefixed_certificate_and_prefers_encryption() {
        let xml = format!(
            r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"><md:SPSSODescriptor>
<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>QUJD</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
<md:KeyDescriptor use="encryption"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>
{DER_B64}
</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor></md:SPSSODescriptor></md:EntityDescriptor>"#
        );
        let pem = certificate_pem(&xml).unwrap();
        assert_eq!(
            pem,
            format!("-----BEGIN CERTIFICATE-----\n{DER_B64}\n-----END CERTIFICATE-----\n")
        );
    }

    #[test]
    fn falls_back_to_any_certificate_and_refuses_garbage() {
        let xml = "<EntityDescriptor><X509Certificate>QUJD</X509Certificate></EntityDescriptor>";
        assert!(certificate_pem(xml).unwrap().contains("\nQUJD\n"));
        assert_eq!(certificate_pem("<EntityDescriptor/>"), None);
        assert_eq!(
            certificate_pem("<X509Certificate>not base64!</X509Certificate>"),
            None
        );
    }
}
