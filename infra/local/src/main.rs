//! `switchyard`: the embedded runtime and the operator CLI.

use clap::Parser;

fn main() -> anyhow::Result<()> {
    switchyard::cli::Cli::parse().run()
}
