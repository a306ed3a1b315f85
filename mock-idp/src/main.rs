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
        /// Listen address (default 127.0.0.1:0; 0.0.0.0:0 when --public is given).
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
    },
    /// List every fault with one line of explanation.
    Faults,
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
        Command::Serve {
            listen,
            config,
            public,
            dns_listen,
            tls,
            ca_out,
        } => {
            let tenants = match &config {
                Some(path) => mock_idp::config::load(path)?,
                None => Vec::new(),
            };
            let default_listen = if public.is_some() {
                SocketAddr::from(([0, 0, 0, 0], 0))
            } else {
                SocketAddr::from(([127, 0, 0, 1], 0))
            };
            let options = ServeOptions {
                listen: listen.unwrap_or(default_listen),
                public_url: public,
                tls: tls.then_some(TlsOptions { ca_out }),
                dns_listen,
                tenants,
            };
            runtime()?.block_on(async {
                let idp = mock_idp::server::serve(options).await?;
                let base = idp.base_url().as_str().trim_end_matches('/').to_string();
                println!("mock-idp listening on {base}");
                println!("mock-idp dns on {} (udp+tcp)", idp.dns_addr());
                let _ = tokio::signal::ctrl_c().await;
                idp.shutdown().await;
                Ok(())
            })
        }
    }
}
