//! Embedded DNS server answering TXT queries from a multi-valued store, for domain
//! verification. It answers only what it holds (authoritative, no recursion): a name with
//! TXT values gets them, a name without any gets NXDOMAIN.
//!
//! Hand-written rather than a DNS server crate: the whole job is one question type, and
//! owning the wire format keeps the dependency tree and the start-up cost small.

use crate::error::{Error, Result};
use proto::idp::{DNS_MESSAGE_BYTES, TXT_CHARACTER_STRING_BYTES};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::task::JoinHandle;

const TYPE_TXT: u16 = 16;
const TYPE_ANY: u16 = 255;
const CLASS_IN: u16 = 1;
const RCODE_FORMERR: u8 = 1;
const RCODE_SERVFAIL: u8 = 2;
const RCODE_NXDOMAIN: u8 = 3;
const RCODE_NOTIMP: u8 = 4;
const UDP_LIMIT: usize = 512;

/// TXT records: lower-cased name without trailing dot -> values, in insertion order.
#[derive(Clone, Default)]
pub struct TxtStore(Arc<RwLock<BTreeMap<String, Vec<String>>>>);

pub fn normalize(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// Bytes of a TXT record's RDATA for `value`: the text split into character-strings of at
/// most 255 bytes, each preceded by its length (an empty value is one empty string).
fn rdata_len(value: &str) -> usize {
    let n = value.len();
    n + n.div_ceil(TXT_CHARACTER_STRING_BYTES).max(1)
}

/// Bytes of the complete answer to a TXT question for `name` holding `values`: header,
/// the question echoed, and one record per value (a 2-byte pointer to the question name,
/// type, class, TTL, RDLENGTH, RDATA).
fn answer_len(name: &str, values: &[String]) -> usize {
    let question: usize = name.split('.').map(|l| 1 + l.len()).sum::<usize>() + 1 + 4;
    12 + question + values.iter().map(|v| 12 + rdata_len(v)).sum::<usize>()
}

impl TxtStore {
    /// Adds one value. Refused (400 on `value`) when the name's values would no longer fit
    /// one DNS message (65,535 bytes over TCP): the server could never answer that name.
    pub fn add(&self, name: &str, value: &str) -> Result<()> {
        let key = normalize(name);
        let mut map = self.0.write().unwrap_or_else(|p| p.into_inner());
        let values = map.entry(key.clone()).or_default();
        if values.iter().any(|v| v == value) {
            return Ok(());
        }
        values.push(value.to_string());
        let size = answer_len(&key, values);
        if size > DNS_MESSAGE_BYTES {
            values.pop();
            if values.is_empty() {
                map.remove(&key);
            }
            return Err(Error::bad_input(
                "value",
                format!(
                    "with this value of {} bytes the TXT answer for '{key}' would be {size} bytes, \
                     more than a DNS message holds ({DNS_MESSAGE_BYTES} bytes over TCP); \
                     values are served as {TXT_CHARACTER_STRING_BYTES}-byte character-strings, \
                     each record adds 12 bytes",
                    value.len()
                ),
            ));
        }
        Ok(())
    }

    /// Removes one value; returns whether it was there.
    pub fn remove(&self, name: &str, value: &str) -> bool {
        let mut map = self.0.write().unwrap_or_else(|p| p.into_inner());
        let key = normalize(name);
        let Some(values) = map.get_mut(&key) else {
            return false;
        };
        let before = values.len();
        values.retain(|v| v != value);
        let removed = values.len() != before;
        if values.is_empty() {
            map.remove(&key);
        }
        removed
    }

    pub fn get(&self, name: &str) -> Vec<String> {
        let map = self.0.read().unwrap_or_else(|p| p.into_inner());
        map.get(&normalize(name)).cloned().unwrap_or_default()
    }
}

/// Checks a record name from the control API.
pub fn validate_name(name: &str) -> Result<()> {
    let n = normalize(name);
    let ok = !n.is_empty()
        && n.len() <= 253
        && n.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    if ok {
        Ok(())
    } else {
        Err(Error::bad_input(
            "name",
            format!("'{name}' is not a DNS name"),
        ))
    }
}

struct Question {
    name: String,
    qtype: u16,
    qclass: u16,
    /// The question section as received, echoed back.
    raw: Vec<u8>,
}

fn parse_question(msg: &[u8]) -> Option<Question> {
    let mut pos = 12;
    let mut labels = Vec::new();
    loop {
        let len = *msg.get(pos)? as usize;
        pos += 1;
        if len == 0 {
            break;
        }
        // Queries never compress the question name; a pointer here is malformed.
        if len & 0xC0 != 0 {
            return None;
        }
        let label = msg.get(pos..pos + len)?;
        labels.push(String::from_utf8_lossy(label).to_ascii_lowercase());
        pos += len;
    }
    let qtype = u16::from_be_bytes([*msg.get(pos)?, *msg.get(pos + 1)?]);
    let qclass = u16::from_be_bytes([*msg.get(pos + 2)?, *msg.get(pos + 3)?]);
    Some(Question {
        name: labels.join("."),
        qtype,
        qclass,
        raw: msg.get(12..pos + 4)?.to_vec(),
    })
}

fn header(query: &[u8], rcode: u8, qd: u16, an: u16, truncated: bool) -> Vec<u8> {
    let id = [query[0], query[1]];
    let opcode = query[2] & 0x78;
    let rd = query[2] & 0x01;
    // QR=1, AA=1, TC as told, RD copied; RA=0 (no recursion offered).
    let flags1 = 0x80 | opcode | 0x04 | if truncated { 0x02 } else { 0 } | rd;
    let mut h = Vec::with_capacity(12);
    h.extend_from_slice(&id);
    h.push(flags1);
    h.push(rcode & 0x0F);
    h.extend_from_slice(&qd.to_be_bytes());
    h.extend_from_slice(&an.to_be_bytes());
    h.extend_from_slice(&[0, 0, 0, 0]);
    h
}

fn txt_rdata(value: &str) -> Vec<u8> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 255 + 1);
    if bytes.is_empty() {
        out.push(0);
    }
    for chunk in bytes.chunks(TXT_CHARACTER_STRING_BYTES) {
        out.push(chunk.len() as u8);
        out.extend_from_slice(chunk);
    }
    out
}

/// Builds the answer to one query; `limit` is the transport's size limit.
pub fn answer(store: &TxtStore, query: &[u8], limit: usize) -> Option<Vec<u8>> {
    if query.len() < 12 {
        return None;
    }
    // Only plain queries (QR=0, opcode QUERY) get an answer.
    if query[2] & 0x80 != 0 {
        return None;
    }
    if query[2] & 0x78 != 0 {
        return Some(header(query, RCODE_NOTIMP, 0, 0, false));
    }
    let qdcount = u16::from_be_bytes([query[4], query[5]]);
    let Some(q) = (qdcount == 1).then(|| parse_question(query)).flatten() else {
        return Some(header(query, RCODE_FORMERR, 0, 0, false));
    };
    let values = store.get(&q.name);
    if values.is_empty() {
        let mut out = header(query, RCODE_NXDOMAIN, 1, 0, false);
        out.extend_from_slice(&q.raw);
        return Some(out);
    }
    let wanted = (q.qtype == TYPE_TXT || q.qtype == TYPE_ANY) && q.qclass == CLASS_IN;
    let mut records = Vec::new();
    let mut count: u16 = 0;
    if wanted {
        for value in &values {
            let rdata = txt_rdata(value);
            // `TxtStore::add` keeps every record set answerable; should one not be, the
            // answer is SERVFAIL rather than a length that wrapped around.
            let Ok(rdlength) = u16::try_from(rdata.len()) else {
                let mut out = header(query, RCODE_SERVFAIL, 1, 0, false);
                out.extend_from_slice(&q.raw);
                return Some(out);
            };
            // Name: pointer to the question name at offset 12.
            records.extend_from_slice(&[0xC0, 0x0C]);
            records.extend_from_slice(&TYPE_TXT.to_be_bytes());
            records.extend_from_slice(&CLASS_IN.to_be_bytes());
            records.extend_from_slice(&0u32.to_be_bytes());
            records.extend_from_slice(&rdlength.to_be_bytes());
            records.extend_from_slice(&rdata);
            count = count.saturating_add(1);
        }
    }
    let full = 12 + q.raw.len() + records.len();
    if full > limit {
        let mut out = header(query, 0, 1, 0, true);
        out.extend_from_slice(&q.raw);
        return Some(out);
    }
    let mut out = header(query, 0, 1, count, false);
    out.extend_from_slice(&q.raw);
    out.extend_from_slice(&records);
    Some(out)
}

/// The running DNS server; dropping it stops both listeners.
pub struct DnsServer {
    addr: SocketAddr,
    store: TxtStore,
    tasks: Vec<JoinHandle<()>>,
}

impl DnsServer {
    /// Binds UDP and TCP on the same port of `ip` (port 0: the first free port both take).
    pub async fn start(listen: SocketAddr, store: TxtStore) -> Result<DnsServer> {
        let (udp, tcp) = bind_pair(listen).await?;
        let addr = udp.local_addr()?;
        let udp = Arc::new(udp);
        let udp_store = store.clone();
        let kept = store.clone();
        let udp_task = tokio::spawn(async move {
            let mut buf = vec![0u8; 4096];
            loop {
                let Ok((n, peer)) = udp.recv_from(&mut buf).await else {
                    continue;
                };
                if let Some(reply) = answer(&udp_store, &buf[..n], UDP_LIMIT) {
                    let _ = udp.send_to(&reply, peer).await;
                }
            }
        });
        let tcp_task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = tcp.accept().await else {
                    continue;
                };
                let store = store.clone();
                tokio::spawn(serve_tcp(stream, store));
            }
        });
        Ok(DnsServer {
            addr,
            store: kept,
            tasks: vec![udp_task, tcp_task],
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops both listeners and waits until their sockets are closed.
    pub async fn stop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
        for t in self.tasks.drain(..) {
            let _ = t.await;
        }
    }

    /// The store this server answers from.
    pub fn store(&self) -> TxtStore {
        self.store.clone()
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

async fn bind_pair(listen: SocketAddr) -> Result<(UdpSocket, TcpListener)> {
    let mut last_err = None;
    // With port 0 the UDP port the OS picks may be taken on TCP: try a few times.
    for _ in 0..20 {
        let udp = UdpSocket::bind(listen).await?;
        let addr = udp.local_addr()?;
        match TcpListener::bind(addr).await {
            Ok(tcp) => return Ok((udp, tcp)),
            Err(e) if listen.port() == 0 => last_err = Some(e),
            Err(e) => return Err(e.into()),
        }
    }
    Err(last_err
        .map(Error::from)
        .unwrap_or_else(|| Error::Config("could not bind DNS port".into())))
}

async fn serve_tcp(mut stream: TcpStream, store: TxtStore) {
    loop {
        let mut len = [0u8; 2];
        if stream.read_exact(&mut len).await.is_err() {
            return;
        }
        let mut msg = vec![0u8; u16::from_be_bytes(len) as usize];
        if stream.read_exact(&mut msg).await.is_err() {
            return;
        }
        let Some(reply) = answer(&store, &msg, DNS_MESSAGE_BYTES) else {
            return;
        };
        // `answer` keeps within the limit; a reply that did not would be unframeable.
        let Ok(len) = u16::try_from(reply.len()) else {
            return;
        };
        let mut framed = len.to_be_bytes().to_vec();
        framed.extend_from_slice(&reply);
        if stream.write_all(&framed).await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(name: &str, qtype: u16) -> Vec<u8> {
        let mut q = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        for label in name.split('.') {
            q.push(label.len() as u8);
            q.extend_from_slice(label.as_bytes());
        }
        q.push(0);
        q.extend_from_slice(&qtype.to_be_bytes());
        q.extend_from_slice(&CLASS_IN.to_be_bytes());
        q
    }

    #[test]
    fn answers_every_value_and_nxdomain_otherwise() {
        let store = TxtStore::default();
        store.add("_v.Acme.test.", "one").unwrap();
        store.add("_v.acme.test", "two").unwrap();
        let r = answer(&store, &query("_v.acme.test", TYPE_TXT), 512).unwrap();
        assert_eq!(&r[0..2], &[0x12, 0x34]);
        assert_eq!(r[3] & 0x0F, 0);
        assert_eq!(u16::from_be_bytes([r[6], r[7]]), 2);
        let r = answer(&store, &query("other.acme.test", TYPE_TXT), 512).unwrap();
        assert_eq!(r[3] & 0x0F, RCODE_NXDOMAIN);
        assert!(store.remove("_v.acme.test", "one"));
        assert_eq!(store.get("_v.acme.test"), vec!["two".to_string()]);
    }

    #[test]
    fn garbage_never_panics() {
        let store = TxtStore::default();
        store.add("a", "b").unwrap();
        for len in 0..40 {
            let msg: Vec<u8> = (0..len).map(|i| (i * 37 % 256) as u8).collect();
            let _ = answer(&store, &msg, 512);
        }
        let mut q = query("a", TYPE_TXT);
        q.truncate(q.len() - 3);
        let r = answer(&store, &q, 512).unwrap();
        assert_eq!(r[3] & 0x0F, RCODE_FORMERR);
    }

    #[test]
    fn long_values_are_split_into_character_strings() {
        let v = "x".repeat(300);
        let rdata = txt_rdata(&v);
        assert_eq!(rdata[0], 255);
        assert_eq!(rdata[256], 45);
        assert_eq!(rdata.len(), rdata_len(&v));
        assert_eq!(rdata_len(""), txt_rdata("").len());
        assert_eq!(rdata_len(&"y".repeat(255)), 256);
    }

    #[test]
    fn the_computed_size_is_the_size_served() {
        let store = TxtStore::default();
        let values = ["a".repeat(10), "b".repeat(600), String::new()];
        for v in &values {
            store.add("_v.acme.test", v).unwrap();
        }
        let r = answer(&store, &query("_v.acme.test", TYPE_TXT), DNS_MESSAGE_BYTES).unwrap();
        assert_eq!(
            r.len(),
            answer_len("_v.acme.test", &store.get("_v.acme.test"))
        );
    }

    #[test]
    fn values_that_no_message_can_hold_are_refused() {
        let store = TxtStore::default();
        // One value too large on its own: refused, and the name stays unpublished.
        let e = store
            .add("big.test", &"x".repeat(DNS_MESSAGE_BYTES))
            .unwrap_err();
        assert!(
            matches!(e, Error::BadInput { ref path, .. } if path == "value"),
            "{e}"
        );
        assert!(store.get("big.test").is_empty());
        // Values that fit one by one until their sum would not: the last one is refused,
        // the others stay and are still served whole over TCP.
        let chunk = "y".repeat(20_000);
        for i in 0..3 {
            store.add("many.test", &format!("{i}{chunk}")).unwrap();
        }
        assert!(store.add("many.test", &format!("3{chunk}")).is_err());
        assert_eq!(store.get("many.test").len(), 3);
        let r = answer(&store, &query("many.test", TYPE_TXT), DNS_MESSAGE_BYTES).unwrap();
        assert_eq!(u16::from_be_bytes([r[6], r[7]]), 3);
        assert_eq!(r[2] & 0x02, 0, "not truncated");
        // Adding a value already there changes nothing and is fine.
        store.add("many.test", &format!("0{chunk}")).unwrap();
    }
}
