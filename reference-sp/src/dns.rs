//! A small DNS client: one TXT question over UDP to the configured server, asked again over
//! TCP when the UDP answer is truncated (RFC 1035 4.2). Domain verification must read what is
//! really published, so this asks a real server.
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

#[derive(Debug, thiserror::Error)]
pub enum DnsError {
    #[error("DNS name {0:?} is not valid")]
    BadName(String),
    #[error("DNS query to {server} failed: {source}")]
    Io {
        server: SocketAddr,
        source: std::io::Error,
    },
    #[error("DNS server {0} did not answer within 3 s")]
    Timeout(SocketAddr),
    #[error("DNS answer from {server} is malformed: {what}")]
    Malformed {
        server: SocketAddr,
        what: &'static str,
    },
    #[error("DNS server {server} answered with error code {rcode}")]
    Rcode { server: SocketAddr, rcode: u8 },
}

const TYPE_TXT: u16 = 16;
const CLASS_IN: u16 = 1;

/// All TXT strings published at `name` (each record's character-strings joined). An empty
/// list means the name exists without TXT records or does not exist (NXDOMAIN).
pub async fn lookup_txt(server: SocketAddr, name: &str) -> Result<Vec<String>, DnsError> {
    let id: u16 = rand::random();
    let query = build_query(id, name)?;
    let bind: SocketAddr = match server {
        SocketAddr::V4(v4) if v4.ip().is_loopback() => SocketAddr::from(([127, 0, 0, 1], 0)),
        SocketAddr::V4(_) => SocketAddr::from(([0, 0, 0, 0], 0)),
        SocketAddr::V6(_) => SocketAddr::from(([0u16; 8], 0)),
    };
    let io = |source| DnsError::Io { server, source };
    let socket = UdpSocket::bind(bind).await.map_err(io)?;
    socket.connect(server).await.map_err(io)?;
    socket.send(&query).await.map_err(io)?;
    let mut buf = vec![0u8; 4096];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
    loop {
        let n = tokio::time::timeout_at(deadline, socket.recv(&mut buf))
            .await
            .map_err(|_| DnsError::Timeout(server))?
            .map_err(io)?;
        let answer = &buf[..n];
        // A datagram with another ID is a stray answer to an earlier question: keep waiting.
        if answer.len() >= 2 && u16::from_be_bytes([answer[0], answer[1]]) != id {
            continue;
        }
        // Many values under one name do not fit a 512-byte datagram: the server sets TC and
        // the full answer is only available over TCP.
        if answer.len() >= 3 && answer[2] & 0x02 != 0 {
            return lookup_txt_tcp(server, &query, deadline).await;
        }
        return parse_answer(answer).map_err(|what| classify(server, what));
    }
}

fn classify(server: SocketAddr, what: ParseError) -> DnsError {
    match what {
        ParseError::Rcode(rcode) => DnsError::Rcode { server, rcode },
        ParseError::Malformed(what) => DnsError::Malformed { server, what },
    }
}

/// The same question over TCP: each message is preceded by its length in two bytes.
async fn lookup_txt_tcp(
    server: SocketAddr,
    query: &[u8],
    deadline: tokio::time::Instant,
) -> Result<Vec<String>, DnsError> {
    let io = |source| DnsError::Io { server, source };
    let exchange = async {
        let mut stream = TcpStream::connect(server).await.map_err(io)?;
        let len = u16::try_from(query.len()).map_err(|_| DnsError::Malformed {
            server,
            what: "query too long",
        })?;
        let mut framed = len.to_be_bytes().to_vec();
        framed.extend_from_slice(query);
        stream.write_all(&framed).await.map_err(io)?;
        let mut len = [0u8; 2];
        stream.read_exact(&mut len).await.map_err(io)?;
        let mut answer = vec![0u8; usize::from(u16::from_be_bytes(len))];
        stream.read_exact(&mut answer).await.map_err(io)?;
        parse_answer(&answer).map_err(|what| classify(server, what))
    };
    tokio::time::timeout_at(deadline, exchange)
        .await
        .map_err(|_| DnsError::Timeout(server))?
}

fn build_query(id: u16, name: &str) -> Result<Vec<u8>, DnsError> {
    let mut q = Vec::with_capacity(64);
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&0x0100u16.to_be_bytes()); // standard query, recursion desired
    q.extend_from_slice(&1u16.to_be_bytes()); // one question
    q.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    let trimmed = name.trim_end_matches('.');
    if trimmed.is_empty() || trimmed.len() > 253 {
        return Err(DnsError::BadName(name.to_string()));
    }
    for label in trimmed.split('.') {
        if label.is_empty() || label.len() > 63 {
            return Err(DnsError::BadName(name.to_string()));
        }
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.push(0);
    q.extend_from_slice(&TYPE_TXT.to_be_bytes());
    q.extend_from_slice(&CLASS_IN.to_be_bytes());
    Ok(q)
}

enum ParseError {
    Rcode(u8),
    Malformed(&'static str),
}

fn parse_answer(msg: &[u8]) -> Result<Vec<String>, ParseError> {
    let short = ParseError::Malformed("message ends early");
    if msg.len() < 12 {
        return Err(short);
    }
    let rcode = msg[3] & 0x0f;
    // NXDOMAIN: nothing published under that name, which is an ordinary "not found".
    if rcode == 3 {
        return Ok(Vec::new());
    }
    if rcode != 0 {
        return Err(ParseError::Rcode(rcode));
    }
    let qd = u16::from_be_bytes([msg[4], msg[5]]);
    let an = u16::from_be_bytes([msg[6], msg[7]]);
    let mut pos = 12;
    for _ in 0..qd {
        pos = skip_name(msg, pos)?;
        pos += 4;
    }
    let mut out = Vec::new();
    for _ in 0..an {
        pos = skip_name(msg, pos)?;
        let header = msg
            .get(pos..pos + 10)
            .ok_or(ParseError::Malformed("record header"))?;
        let rtype = u16::from_be_bytes([header[0], header[1]]);
        let rdlen = usize::from(u16::from_be_bytes([header[8], header[9]]));
        pos += 10;
        let rdata = msg
            .get(pos..pos + rdlen)
            .ok_or(ParseError::Malformed("record data"))?;
        pos += rdlen;
        if rtype != TYPE_TXT {
            continue;
        }
        let mut text = Vec::new();
        let mut i = 0;
        while i < rdata.len() {
            let len = usize::from(rdata[i]);
            let part = rdata
                .get(i + 1..i + 1 + len)
                .ok_or(ParseError::Malformed("TXT string"))?;
            text.extend_from_slice(part);
            i += 1 + len;
        }
        out.push(String::from_utf8_lossy(&text).into_owned());
    }
    Ok(out)
}

fn skip_name(msg: &[u8], mut pos: usize) -> Result<usize, ParseError> {
    loop {
        let len = *msg.get(pos).ok_or(ParseError::Malformed("name"))?;
        if len & 0xc0 == 0xc0 {
            return Ok(pos + 2); // compression pointer ends the name
        }
        if len == 0 {
            return Ok(pos + 1);
        }
        pos += 1 + usize::from(len);
    }
}

/// The first `nameserver` of /etc/resolv.conf, for a run without `--dns`.
pub fn system_server() -> Option<SocketAddr> {
    let conf = std::fs::read_to_string("/etc/resolv.conf").ok()?;
    conf.lines().find_map(|line| {
        let rest = line.trim().strip_prefix("nameserver")?;
        let ip: std::net::IpAddr = rest.trim().parse().ok()?;
        Some(SocketAddr::new(ip, 53))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_encodes_labels() {
        let q = build_query(7, "_x.acme.test").unwrap();
        assert_eq!(&q[12..], b"\x02_x\x04acme\x04test\x00\x00\x10\x00\x01");
        assert!(build_query(1, "a..b").is_err());
    }

    #[test]
    fn parses_txt_answer_with_compressed_name() {
        let mut m = build_query(9, "acme.test").unwrap();
        m[2] = 0x81;
        m[3] = 0x80;
        m[7] = 1; // one answer
        m.extend_from_slice(&[
            0xc0, 12, 0, 16, 0, 1, 0, 0, 0, 60, 0, 6, 2, b'a', b'b', 2, b'c', b'd',
        ]);
        let txt = parse_answer(&m).ok().unwrap();
        assert_eq!(txt, vec!["abcd".to_string()]);
    }
}
