use clap::Parser;

/// The reference SP: the documented SSO product, executable.
#[derive(Parser)]
#[command(name = "reference-sp", version)]
struct Cli {}

fn main() {
    let _cli = Cli::parse();
    eprintln!("reference-sp: not built yet");
    std::process::exit(2);
}
