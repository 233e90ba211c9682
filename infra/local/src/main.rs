//! `switchyard`: the embedded runtime and the operator CLI.

use clap::Parser;

/// mimalloc rather than glibc's malloc, whose `malloc`/`free` were ~9 % of the server's CPU
/// in a native profile of the delivery path: 12–20 % less CPU per delivery, for ~14 MiB more
/// peak RSS in the bench (43 against 29 MiB; docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    switchyard::cli::Cli::parse().run()
}
