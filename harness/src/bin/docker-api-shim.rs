//! `docker-api-shim`: lets a Docker client that speaks a newer Engine API talk to an older daemon.
//!
//! testcontainers 0.28 (through bollard 0.21) prefixes every request with `/v1.53/` and never
//! negotiates; Debian bookworm's `docker.io` (20.10) answers API 1.41 at most and refuses newer
//! prefixes ("client version 1.53 is too new"). This shim listens on a Unix socket, forwards every
//! connection to the daemon's socket, and lowers a too-new version prefix in each request line to
//! the daemon's own version. Responses are copied byte for byte. The requests the harness makes
//! (create, start, inspect, logs, remove) mean the same in 1.41; newer-only fields are ignored by
//! the daemon.
//!
//! `scripts/setup` compiles this file with plain `rustc` (std only, a few seconds) before any cargo
//! build, and starts it in the background; it is a `[[bin]]` of the harness crate only so that CI
//! formats and lints it with the rest.
//!
//! Usage: `docker-api-shim --listen /var/run/docker.sock --upstream /run/sso-harness/dockerd.sock`
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::Shutdown;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::thread;

/// Longest request head accepted; Docker requests are a few hundred bytes.
const MAX_HEAD: usize = 64 * 1024;

struct Args {
    listen: PathBuf,
    upstream: PathBuf,
}

fn parse_args() -> Result<Args, String> {
    let mut listen = None;
    let mut upstream = None;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--listen" => listen = it.next().map(PathBuf::from),
            "--upstream" => upstream = it.next().map(PathBuf::from),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    match (listen, upstream) {
        (Some(listen), Some(upstream)) => Ok(Args { listen, upstream }),
        _ => Err("usage: docker-api-shim --listen SOCKET --upstream SOCKET".into()),
    }
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("docker-api-shim: {e}");
            return ExitCode::from(2);
        }
    };
    let max_minor = match daemon_api_minor(&args.upstream) {
        Ok(v) => v,
        Err(e) => {
            eprintln!(
                "docker-api-shim: cannot read the API version of the daemon at {}: {e}",
                args.upstream.display()
            );
            return ExitCode::from(1);
        }
    };
    // A socket file left by an earlier shim that is gone would make bind fail.
    if UnixStream::connect(&args.listen).is_err() {
        let _ = std::fs::remove_file(&args.listen);
    }
    let listener = match UnixListener::bind(&args.listen) {
        Ok(l) => l,
        Err(e) => {
            eprintln!(
                "docker-api-shim: cannot listen on {}: {e}",
                args.listen.display()
            );
            return ExitCode::from(1);
        }
    };
    // Same mode as dockerd gives its own socket: root and the docker group.
    let _ = std::fs::set_permissions(&args.listen, std::fs::Permissions::from_mode(0o660));
    eprintln!(
        "docker-api-shim: {} -> {} (requests above API 1.{max_minor} are sent as 1.{max_minor})",
        args.listen.display(),
        args.upstream.display()
    );
    for conn in listener.incoming() {
        let Ok(client) = conn else { continue };
        let upstream = args.upstream.clone();
        thread::spawn(move || {
            if let Err(e) = serve(client, &upstream, max_minor) {
                eprintln!("docker-api-shim: connection ended: {e}");
            }
        });
    }
    ExitCode::SUCCESS
}

/// The daemon's API minor version, from the `API-Version` header of an unversioned `/_ping`.
fn daemon_api_minor(upstream: &Path) -> io::Result<u32> {
    let mut s = UnixStream::connect(upstream)?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))?;
    s.write_all(b"GET /_ping HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n")?;
    // Only the head is needed: a daemon that keeps the connection open must not hold us.
    let head = read_head(&mut BufReader::new(s))?.unwrap_or_default();
    head.lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            if !name.trim().eq_ignore_ascii_case("api-version") {
                return None;
            }
            value.trim().strip_prefix("1.")?.parse().ok()
        })
        .ok_or_else(|| io::Error::other("no API-Version header in the /_ping answer"))
}

fn serve(client: UnixStream, upstream: &Path, max_minor: u32) -> io::Result<()> {
    let daemon = UnixStream::connect(upstream)?;
    let mut to_client = client.try_clone()?;
    let mut from_daemon = daemon.try_clone()?;
    let back = thread::spawn(move || {
        let _ = io::copy(&mut from_daemon, &mut to_client);
        let _ = to_client.shutdown(Shutdown::Write);
    });
    let result = forward_requests(BufReader::new(client), daemon.try_clone()?, max_minor);
    let _ = daemon.shutdown(Shutdown::Write);
    let _ = back.join();
    result
}

/// Copies requests from the client to the daemon, one at a time (keep-alive), rewriting each
/// request line; after a connection upgrade (attach, exec) the rest is copied raw.
fn forward_requests(
    mut client: BufReader<UnixStream>,
    mut daemon: UnixStream,
    max_minor: u32,
) -> io::Result<()> {
    loop {
        let Some(head) = read_head(&mut client)? else {
            return Ok(());
        };
        let head = rewrite_head(&head, max_minor);
        daemon.write_all(head.as_bytes())?;
        let framing = body_framing(&head);
        match framing {
            Framing::None => {}
            Framing::Length(n) => {
                let copied = io::copy(&mut (&mut client).take(n), &mut daemon)?;
                if copied < n {
                    return Ok(());
                }
            }
            Framing::Chunked => copy_chunked(&mut client, &mut daemon)?,
        }
        if is_upgrade(&head) {
            io::copy(&mut client, &mut daemon)?;
            return Ok(());
        }
    }
}

/// Reads one request head (through the empty line); `None` at a clean end of stream.
fn read_head(r: &mut impl BufRead) -> io::Result<Option<String>> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        let n = r.read_line(&mut line)?;
        if n == 0 {
            return if head.is_empty() {
                Ok(None)
            } else {
                Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "request head cut short",
                ))
            };
        }
        // Tolerate blank lines between requests (RFC 9112 section 2.2).
        if head.is_empty() && (line == "\r\n" || line == "\n") {
            continue;
        }
        head.push_str(&line);
        if head.len() > MAX_HEAD {
            return Err(io::Error::other("request head too long"));
        }
        if line == "\r\n" || line == "\n" {
            return Ok(Some(head));
        }
    }
}

/// Lowers `/v1.NN/` in the request line to `/v1.<max_minor>/` when NN is newer than the daemon.
fn rewrite_head(head: &str, max_minor: u32) -> String {
    let Some((first, rest)) = head.split_once('\n') else {
        return head.to_string();
    };
    let mut parts = first.splitn(3, ' ');
    let (Some(method), Some(target), Some(proto)) = (parts.next(), parts.next(), parts.next())
    else {
        return head.to_string();
    };
    let target = match target.strip_prefix("/v1.").and_then(|t| {
        let end = t.find('/')?;
        let minor: u32 = t[..end].parse().ok()?;
        Some((minor, &t[end..]))
    }) {
        Some((minor, tail)) if minor > max_minor => format!("/v1.{max_minor}{tail}"),
        _ => target.to_string(),
    };
    format!("{method} {target} {proto}\n{rest}")
}

enum Framing {
    None,
    Length(u64),
    Chunked,
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then_some(v.trim())
    })
}

fn body_framing(head: &str) -> Framing {
    if header(head, "transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
    {
        return Framing::Chunked;
    }
    match header(head, "content-length").and_then(|v| v.parse().ok()) {
        Some(n) if n > 0 => Framing::Length(n),
        _ => Framing::None,
    }
}

fn is_upgrade(head: &str) -> bool {
    header(head, "upgrade").is_some()
        || header(head, "connection").is_some_and(|v| v.to_ascii_lowercase().contains("upgrade"))
}

/// Copies a chunked body through its last chunk and trailer section.
fn copy_chunked(r: &mut BufReader<UnixStream>, w: &mut UnixStream) -> io::Result<()> {
    loop {
        let mut size_line = String::new();
        if r.read_line(&mut size_line)? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "chunked body cut short",
            ));
        }
        w.write_all(size_line.as_bytes())?;
        let hex = size_line.trim().split(';').next().unwrap_or("");
        let size = u64::from_str_radix(hex, 16)
            .map_err(|_| io::Error::other(format!("bad chunk size {hex:?}")))?;
        if size == 0 {
            // Trailer fields, then the empty line that ends the body.
            loop {
                let mut line = String::new();
                if r.read_line(&mut line)? == 0 {
                    return Ok(());
                }
                w.write_all(line.as_bytes())?;
                if line == "\r\n" || line == "\n" {
                    return Ok(());
                }
            }
        }
        // The chunk's data and its closing CRLF.
        let copied = io::copy(&mut r.take(size + 2), w)?;
        if copied < size + 2 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "chunk cut short",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowers_only_newer_versions() {
        let h = "GET /v1.53/containers/json HTTP/1.1\r\nHost: d\r\n\r\n";
        assert!(rewrite_head(h, 41).starts_with("GET /v1.41/containers/json HTTP/1.1\r\n"));
        let h = "GET /v1.40/info HTTP/1.1\r\n\r\n";
        assert_eq!(rewrite_head(h, 41), h);
        let h = "GET /_ping HTTP/1.1\r\n\r\n";
        assert_eq!(rewrite_head(h, 41), h);
    }

    #[test]
    fn framing_from_headers() {
        let h = "POST /x HTTP/1.1\r\nContent-Length: 12\r\n\r\n";
        assert!(matches!(body_framing(h), Framing::Length(12)));
        let h = "POST /x HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n";
        assert!(matches!(body_framing(h), Framing::Chunked));
        let h = "POST /x HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n";
        assert!(is_upgrade(h));
    }
}
