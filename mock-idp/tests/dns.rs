#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The embedded DNS server, checked with two independent clients: `dig` and hickory.

use hickory_resolver::Resolver;
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use mock_idp::server::{ServeOptions, serve};
use serde_json::json;
use std::net::SocketAddr;

fn dig(addr: SocketAddr, name: &str, tcp: bool) -> Vec<String> {
    let mut cmd = std::process::Command::new("dig");
    cmd.arg(format!("@{}", addr.ip()))
        .arg("-p")
        .arg(addr.port().to_string())
        .arg("TXT")
        .arg(name)
        .arg("+short")
        .arg("+time=2")
        .arg("+tries=1");
    if tcp {
        cmd.arg("+tcp");
    }
    let out = cmd.output().expect("dig (dnsutils) must be installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim().trim_matches('"').to_string())
        .filter(|l| !l.is_empty())
        .collect();
    lines.sort();
    lines
}

async fn hickory_txt(addr: SocketAddr, name: &str) -> Result<Vec<String>, String> {
    let mut conn = ConnectionConfig::udp();
    conn.port = addr.port();
    let mut tcp = ConnectionConfig::tcp();
    tcp.port = addr.port();
    let ns = NameServerConfig::new(addr.ip(), true, vec![conn, tcp]);
    let config = ResolverConfig::from_parts(None, vec![], vec![ns]);
    let resolver = Resolver::builder_with_config(config, TokioRuntimeProvider::default())
        .build()
        .unwrap();
    let lookup = resolver
        .txt_lookup(format!("{name}."))
        .await
        .map_err(|e| e.to_string())?;
    let mut values: Vec<String> = lookup
        .answers()
        .iter()
        .filter_map(|record| match &record.data {
            hickory_resolver::proto::rr::RData::TXT(txt) => Some(txt),
            _ => None,
        })
        .map(|txt| {
            txt.txt_data
                .iter()
                .map(|part| String::from_utf8_lossy(part).into_owned())
                .collect::<String>()
        })
        .collect();
    values.sort();
    Ok(values)
}

#[tokio::test]
async fn txt_values_are_served_to_dig_and_hickory() {
    let idp = serve(ServeOptions::default()).await.unwrap();
    let base = idp.base_url().as_str().trim_end_matches('/').to_string();
    let c = reqwest::Client::new();
    let addr = idp.dns_addr();
    let reported: serde_json::Value = c
        .get(format!("{base}/_control/dns"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(reported["addr"], addr.to_string());

    let name = "_sso-challenge.acme.test";
    for value in ["key-one", "key-two"] {
        let r = c
            .post(format!("{base}/_control/dns/txt"))
            .json(&json!({"name": name, "value": value}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
    }
    let long = "k".repeat(300);
    c.post(format!("{base}/_control/dns/txt"))
        .json(&json!({"name": "long.acme.test", "value": long}))
        .send()
        .await
        .unwrap();

    let want = vec!["key-one".to_string(), "key-two".to_string()];
    let dig_udp = tokio::task::spawn_blocking(move || dig(addr, "_sso-challenge.acme.test", false))
        .await
        .unwrap();
    assert_eq!(dig_udp, want);
    let dig_tcp = tokio::task::spawn_blocking(move || dig(addr, "_SSO-Challenge.Acme.test", true))
        .await
        .unwrap();
    assert_eq!(dig_tcp, want);
    assert_eq!(hickory_txt(addr, name).await.unwrap(), want);
    assert_eq!(
        hickory_txt(addr, "long.acme.test").await.unwrap(),
        vec![long]
    );

    let r = c
        .delete(format!("{base}/_control/dns/txt"))
        .json(&json!({"name": name, "value": "key-one"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(
        hickory_txt(addr, name).await.unwrap(),
        vec!["key-two".to_string()]
    );
    assert!(hickory_txt(addr, "absent.acme.test").await.is_err());
    let absent = tokio::task::spawn_blocking(move || dig(addr, "absent.acme.test", false))
        .await
        .unwrap();
    assert!(absent.is_empty());

    let r = c
        .post(format!("{base}/_control/dns/txt"))
        .json(&json!({"name": "bad name!", "value": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["path"], "name");
}
