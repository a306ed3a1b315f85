//! `reference-sp`: the documented SSO product, executable.
use clap::Parser;
use reference_sp::{Options, Secret, SocialOptions};
use std::net::SocketAddr;
use std::path::PathBuf;

/// The reference SP: an executable model of the documented SSO product (SAML + OIDC SSO,
/// domain verification, enforce SSO, Tile URLs), the oracle the scenario pack is proven against.
#[derive(Parser)]
#[command(name = "reference-sp", version)]
struct Cli {
    /// Address to listen on (port 0 picks a free port; the first stdout line says which).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// SQLite database file (created and migrated at start; state survives restarts).
    #[arg(long = "db", default_value = "reference-sp.sqlite")]
    db: PathBuf,
    /// DNS server (UDP) asked for domain-verification TXT records, e.g. the mock IdP's
    /// `127.0.0.1:PORT`. Default: the first nameserver of /etc/resolv.conf.
    #[arg(long)]
    dns: Option<SocketAddr>,
    /// Bearer token of the admin API (`Authorization: Bearer TOKEN`). Without it the admin
    /// API refuses every call. Also read from REFERENCE_SP_ADMIN_TOKEN.
    #[arg(long, env = "REFERENCE_SP_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// The URL browsers use to reach this SP (default: http://{bound address}/).
    #[arg(long)]
    public_url: Option<url::Url>,
    /// Enable /api/admin/test/* (clock offset, blocking the SSO look-up, password-reset outbox).
    #[arg(long)]
    test_mode: bool,
    /// Social sign-in ("Continue with Google"): the OIDC discovery URL of a Google-like
    /// provider, e.g. a mock IdP tenant with the google profile.
    #[arg(long, requires_all = ["social_google_client_id", "social_google_client_secret"])]
    social_google_discovery: Option<String>,
    /// Client ID registered at the social provider.
    #[arg(long)]
    social_google_client_id: Option<String>,
    /// Client secret registered at the social provider. Also read from
    /// REFERENCE_SP_SOCIAL_GOOGLE_CLIENT_SECRET.
    #[arg(
        long,
        env = "REFERENCE_SP_SOCIAL_GOOGLE_CLIENT_SECRET",
        hide_env_values = true
    )]
    social_google_client_secret: Option<String>,
    /// A messages file: YAML mapping of message key (e.g. `use_sso`, `not_in_workspace`,
    /// `product`) to the text shown instead of the documented one. An unknown key stops the
    /// start with its file:line.
    #[arg(long, value_name = "FILE")]
    messages: Option<PathBuf>,
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let social = match (
        cli.social_google_discovery,
        cli.social_google_client_id,
        cli.social_google_client_secret,
    ) {
        (Some(discovery_url), Some(client_id), Some(secret)) => Some(SocialOptions {
            discovery_url,
            client_id,
            client_secret: Secret::new(secret),
        }),
        _ => None,
    };
    let options = Options {
        listen: cli.listen,
        db_path: cli.db,
        dns_server: cli.dns,
        admin_token: cli.admin_token.map(Secret::new),
        public_url: cli.public_url,
        test_mode: cli.test_mode,
        social,
        messages: cli.messages,
    };
    let sp = match reference_sp::serve(options).await {
        Ok(sp) => sp,
        Err(e) => {
            eprintln!("reference-sp: {e}");
            std::process::exit(1);
        }
    };
    let addr = sp.local_addr();
    println!("reference-sp listening on http://{addr}");
    if tokio::signal::ctrl_c().await.is_err() {
        eprintln!("reference-sp: cannot wait for Ctrl-C; stopping");
    }
    sp.shutdown().await;
}
