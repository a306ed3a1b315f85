use clap::Parser;

/// Runs SSO conformance scenarios against a target SP.
#[derive(Parser)]
#[command(name = "sso-harness", version)]
struct Cli {}

fn main() {
    let _cli = Cli::parse();
    eprintln!("sso-harness: no commands yet");
    std::process::exit(2);
}
