use clap::Parser;

/// A breakable SAML 2.0 IdP and OIDC provider for SSO conformance tests.
#[derive(Parser)]
#[command(name = "mock-idp", version)]
struct Cli {}

fn main() {
    let _cli = Cli::parse();
    eprintln!("mock-idp: no commands yet");
    std::process::exit(2);
}
