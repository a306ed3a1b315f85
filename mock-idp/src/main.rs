use clap::{Parser, Subcommand};
use mock_idp::server::{ServeOptions, TlsOptions};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// A breakable SAML 2.0 IdP and OIDC provider for SSO conformance tests.
#[derive(Parser)]
#[command(name = "mock-idp", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// Parsed once per process: the size difference between variants costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Serve every tenant, the control API and the DNS server.
    Serve {
        /// Listen address (default 127.0.0.1:0; with --public, 0.0.0.0 at the public URL's
        /// port, 80/443 by scheme when it has none).
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Tenants to create at start (YAML: `tenants: [TenantSpec]`).
        #[arg(long)]
        config: Option<PathBuf>,
        /// The URL browsers and SPs reach this server at (tunnel, test host).
        #[arg(long)]
        public: Option<url::Url>,
        /// DNS listen address, UDP and TCP.
        #[arg(long, default_value = "127.0.0.1:0")]
        dns_listen: SocketAddr,
        /// Serve HTTPS with a certificate from a local CA written to --ca-out/ca.pem.
        #[arg(long)]
        tls: bool,
        #[arg(long, default_value = ".")]
        ca_out: PathBuf,
        /// Keep pinned tenants here (DIR/tenants/<id>/) and load them at start.
        #[arg(long)]
        state_dir: Option<PathBuf>,
    },
    /// List every fault with one line of explanation.
    Faults,
    /// The SAML message forge: `--list` prints every attack with its CWE and CVE.
    Forge {
        #[arg(long)]
        list: bool,
    },
    /// The OIDC forge variants: name, target, expected RP verdict, CWE, description, CVEs.
    OidcForge {
        /// Print the catalogue (the only action; also `GET /_control/oidc/forge/catalogue`).
        #[arg(long)]
        list: bool,
        /// As JSON instead of one line per variant.
        #[arg(long)]
        json: bool,
    },
    /// Print one SAML Response (decoded XML) to stdout.
    SamlResponse(SamlResponseArgs),
    /// Measure signing throughput next to the machine's `openssl speed` ceiling.
    Bench {
        #[command(subcommand)]
        what: BenchWhat,
    },
}

#[derive(Subcommand)]
enum BenchWhat {
    /// Complete signed SAML Responses per second (`signed SAML responses/s: N`).
    Saml {
        #[arg(long, default_value_t = 2)]
        threads: usize,
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
    },
    /// Complete RS256 ID tokens per second (`id_tokens/s: N`).
    Oidc {
        #[arg(long, default_value_t = 2)]
        threads: usize,
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
    },
    /// POST /_control/tenants over HTTP against an in-process server (`tenants created/s: N`).
    Tenants {
        #[arg(long, default_value_t = 20)]
        count: usize,
        /// Pause between creations, as a harness does between trials (0: back to back).
        #[arg(long, default_value_t = 0)]
        interval_ms: u64,
    },
}

#[derive(clap::Args)]
struct SamlResponseArgs {
    #[arg(long, default_value = "generic")]
    profile: String,
    #[arg(long)]
    email: String,
    #[arg(long, default_value = "")]
    given_name: String,
    #[arg(long, default_value = "")]
    family_name: String,
    /// The SP's ACS URL (Destination, Recipient).
    #[arg(long)]
    acs: String,
    /// The SP's entity ID (Audience).
    #[arg(long)]
    audience: String,
    /// A fault to apply; repeat for several.
    #[arg(long = "fault")]
    faults: Vec<String>,
    /// InResponseTo (omitted: an unsolicited response).
    #[arg(long)]
    in_response_to: Option<String>,
    /// What is signed: assertion, response or both.
    #[arg(long, default_value = "assertion")]
    sign: String,
    /// The SP certificate (PEM) to encrypt to, for the encrypted_assertion faults.
    #[arg(long)]
    sp_cert: Option<PathBuf>,
    /// Write the signing certificate (PEM) here.
    #[arg(long)]
    cert_out: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mock-idp: {e}");
            ExitCode::FAILURE
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, mock_idp::Error> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

fn run(cli: Cli) -> Result<(), mock_idp::Error> {
    match cli.command {
        Command::Faults => {
            print!("{}", mock_idp::fault::listing());
            Ok(())
        }
        Command::Forge { list } => {
            if !list {
                return Err(mock_idp::Error::Config(
                    "forge: nothing to do; `mock-idp forge --list` prints the attacks (forged \
                     responses are made through the control API, see mock-idp/README.md)"
                        .into(),
                ));
            }
            print!("{}", mock_idp::saml::forge::attack::listing());
            Ok(())
        }
        Command::SamlResponse(args) => saml_response(args),
        Command::OidcForge { list, json } => {
            if !list && !json {
                return Err(mock_idp::Error::bad_input(
                    "oidc-forge",
                    "nothing to do: pass --list (or --json)",
                ));
            }
            if json {
                let infos = mock_idp::oidc::forge::catalogue::infos();
                let text = serde_json::to_string_pretty(&infos)
                    .map_err(|e| mock_idp::Error::Config(e.to_string()))?;
                println!("{text}");
            } else {
                print!("{}", mock_idp::oidc::forge::catalogue::listing());
            }
            Ok(())
        }
        Command::Bench {
            what: BenchWhat::Saml { threads, seconds },
        } => {
            // The ceiling is measured before and after: on a shared machine the load moves.
            let ceiling = || {
                mock_idp::oidc::bench::openssl_ceiling()
                    .map_err(|e| mock_idp::Error::Config(format!("bench saml: {e}")))
            };
            let before = ceiling()?;
            let (per_sec, per_cpu_sec) = mock_idp::saml::bench::measure(threads, seconds)?;
            let after = ceiling()?;
            print!(
                "{}",
                mock_idp::saml::bench::report(per_sec, per_cpu_sec, (before, after), threads)
            );
            Ok(())
        }
        Command::Bench {
            what: BenchWhat::Oidc { threads, seconds },
        } => {
            let figures = mock_idp::oidc::bench::run(threads, seconds)
                .map_err(|e| mock_idp::Error::Config(format!("bench oidc: {e}")))?;
            print!("{}", mock_idp::oidc::bench::report(&figures, threads));
            Ok(())
        }
        Command::Bench {
            what: BenchWhat::Tenants { count, interval_ms },
        } => bench_tenants(count, interval_ms),
        Command::Serve {
            listen,
            config,
            public,
            dns_listen,
            tls,
            ca_out,
            state_dir,
        } => {
            let tenants = match &config {
                Some(path) => mock_idp::config::load(path)?,
                None => Vec::new(),
            };
            let public_url = public.clone();
            // `--public` alone binds the advertised port on every interface, so the URL
            // every tenant is configured with is where the server answers.
            let mut options = match public {
                Some(url) => ServeOptions::public(url)?,
                None => ServeOptions::default(),
            };
            if let Some(listen) = listen {
                options.listen = listen;
            }
            options.tls = tls.then_some(TlsOptions { ca_out });
            options.dns_listen = dns_listen;
            options.tenants = tenants;
            options.state_dir = state_dir;
            runtime()?.block_on(async {
                // Checks beyond the YAML's shape (a bad email, a duplicate user) name the file
                // and the path of the field.
                let idp =
                    mock_idp::server::serve(options)
                        .await
                        .map_err(|e| match (&config, e) {
                            (
                                Some(path),
                                mock_idp::Error::BadInput {
                                    path: field,
                                    message,
                                },
                            ) => mock_idp::Error::Config(format!(
                                "{}: {field}: {message}",
                                path.display()
                            )),
                            (_, e) => e,
                        })?;
                // The bound address first (what a local client connects to), then DNS, then
                // the advertised URL when it differs.
                let scheme = if tls { "https" } else { "http" };
                println!("mock-idp listening on {scheme}://{}", idp.addr());
                println!("mock-idp dns on {} (udp+tcp)", idp.dns_addr());
                if public_url.is_some() {
                    println!(
                        "mock-idp public url {} (bound {scheme}://{}, advertised in every tenant URL)",
                        idp.base_url(),
                        idp.addr()
                    );
                }
                let _ = tokio::signal::ctrl_c().await;
                idp.shutdown().await;
                Ok(())
            })
        }
    }
}

/// Reads a CLI value through the same serde names the control API uses.
fn wire<T: serde::de::DeserializeOwned>(flag: &str, value: &str) -> Result<T, mock_idp::Error> {
    serde_json::from_value(serde_json::Value::String(value.to_string()))
        .map_err(|e| mock_idp::Error::bad_input(flag, e.to_string()))
}

fn saml_response(args: SamlResponseArgs) -> Result<(), mock_idp::Error> {
    use mock_idp::saml::issue;
    use mock_idp::tenant::{PendingAuthn, SamlOptions, SpSpec, Tenant, TenantSpec, User};
    let faults = args
        .faults
        .iter()
        // The contract's parser: an unknown name comes back with "did you mean ...?".
        .map(|f| {
            f.parse::<mock_idp::fault::Fault>()
                .map_err(|e| mock_idp::Error::bad_input("--fault", e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let certificate_pem = match &args.sp_cert {
        Some(p) => Some(
            std::fs::read_to_string(p)
                .map_err(|e| mock_idp::Error::Config(format!("{}: {e}", p.display())))?,
        ),
        None => None,
    };
    let spec = TenantSpec {
        id: Some("cli".into()),
        profile: args.profile.parse().map_err(|e: proto::UnknownName| {
            mock_idp::Error::bad_input("--profile", e.to_string())
        })?,
        users: vec![User {
            email: args.email.clone(),
            given_name: args.given_name.clone(),
            family_name: args.family_name.clone(),
            ..Default::default()
        }],
        sp: Some(SpSpec {
            entity_id: Some(args.audience.clone()),
            acs_url: Some(args.acs.clone()),
            metadata_url: None,
            certificate_pem,
            ..Default::default()
        }),
        saml: SamlOptions {
            sign: wire("--sign", &args.sign)?,
            ..Default::default()
        },
        ..Default::default()
    };
    let tenant = Tenant::from_spec(spec)?;
    let view = issue::IdpView::of(&tenant, "http://127.0.0.1");
    let user = tenant
        .users
        .first()
        .ok_or_else(|| mock_idp::Error::UnknownUser(args.email.clone()))?;
    let request = args.in_response_to.map(|id| PendingAuthn {
        request_id: Some(id),
        acs_url: None,
        sp_issuer: None,
        relay_state: None,
    });
    let issued = issue::issue(&view, user, request.as_ref(), &faults)?;
    if let Some(path) = &args.cert_out {
        std::fs::write(path, &tenant.keys.primary.cert_pem)?;
    }
    println!("{}", issued.xml);
    Ok(())
}

/// One `POST /_control/tenants` on a fresh connection, as curl or a harness would send it;
/// answers the status code.
async fn post_tenant(addr: SocketAddr, body: &str) -> Result<u16, mock_idp::Error> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let request = format!(
        "POST /_control/tenants HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await?;
    let head = String::from_utf8_lossy(&answer[..answer.len().min(64)]).into_owned();
    head.split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| {
            mock_idp::Error::Config(format!("bench tenants: no HTTP status in {head:?}"))
        })
}

fn bench_tenants(count: usize, interval_ms: u64) -> Result<(), mock_idp::Error> {
    use std::time::{Duration, Instant};
    let count = count.max(1);
    runtime()?.block_on(async {
        let idp = mock_idp::server::serve(ServeOptions::default()).await?;
        let addr = idp.addr();
        // A harness starts the server well before its first trial: measure with the key pool
        // warm, as it would be (bounded, so a starved machine still gets a figure).
        let pool = mock_idp::keys::KeyPool::global();
        let warming = Instant::now();
        while pool.ready() < mock_idp::keys::POOL_CAPACITY
            && warming.elapsed() < Duration::from_secs(30)
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        println!(
            "key pool: {}/{} keys ready after {:.1} s",
            pool.ready(),
            mock_idp::keys::POOL_CAPACITY,
            warming.elapsed().as_secs_f64()
        );
        let mut latencies = Vec::with_capacity(count);
        for i in 0..count {
            let body = format!(
                r#"{{"id":"bench-{i}","profile":"okta","users":[{{"email":"alice@acme.test"}}],"sp":{{"entity_id":"urn:bench:sp","acs_url":"http://127.0.0.1:9/acs"}}}}"#
            );
            let started = Instant::now();
            let status = post_tenant(addr, &body).await?;
            latencies.push(started.elapsed());
            if status != 201 {
                return Err(mock_idp::Error::Config(format!(
                    "bench tenants: POST /_control/tenants answered {status}"
                )));
            }
            if interval_ms > 0 {
                tokio::time::sleep(Duration::from_millis(interval_ms)).await;
            }
        }
        idp.shutdown().await;
        // Sequential requests: the sum of latencies is the time spent creating, pauses excluded.
        let busy: Duration = latencies.iter().sum();
        latencies.sort();
        let at = |q: f64| {
            let i = ((latencies.len() as f64 * q).ceil() as usize).clamp(1, latencies.len()) - 1;
            latencies[i].as_secs_f64() * 1000.0
        };
        println!(
            "tenants created/s: {:.1}",
            count as f64 / busy.as_secs_f64().max(f64::EPSILON)
        );
        println!(
            "POST /_control/tenants latency: median {:.1} ms, p95 {:.1} ms, max {:.1} ms ({count} tenants, {interval_ms} ms apart)",
            at(0.5),
            at(0.95),
            at(1.0)
        );
        Ok(())
    })
}
