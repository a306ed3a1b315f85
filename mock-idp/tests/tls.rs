#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `serve --tls`: HTTPS with a certificate from a local CA written out as ca.pem.

use mock_idp::server::{ServeOptions, TlsOptions, serve};

#[tokio::test]
async fn https_is_trusted_through_the_written_ca_only() {
    let dir = tempfile::tempdir().unwrap();
    let idp = serve(ServeOptions {
        tls: Some(TlsOptions {
            ca_out: dir.path().to_path_buf(),
        }),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(idp.base_url().scheme(), "https");
    let ca = std::fs::read(dir.path().join("ca.pem")).unwrap();
    let trusting = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap())
        .build()
        .unwrap();
    let url = format!("{}_control/faults", idp.base_url());
    let r = trusting.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let localhost = url.replace("127.0.0.1", "localhost");
    assert_eq!(trusting.get(&localhost).send().await.unwrap().status(), 200);
    // Without the CA the certificate is not trusted.
    let plain = reqwest::Client::new();
    assert!(plain.get(&url).send().await.is_err());
}
