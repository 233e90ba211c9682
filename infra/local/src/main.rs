//! `switchyard`: the embedded runtime and the operator CLI.

use clap::Parser;

/// mimalloc rather than glibc's malloc, whose `malloc`/`free` were ~9 % of the server's CPU
/// in a native profile of the delivery path: less CPU and 11 % fewer instructions per
/// delivery, for ~13 MiB more peak RSS in the bench (40–44 against 29 MiB; docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    switchyard::cli::Cli::parse().run()
}
