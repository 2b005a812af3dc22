//! `cargo interlace ...`: the cargo subcommand (binary `cargo-interlace`).
//! Cargo runs `cargo-interlace interlace ARGS`; the first `interlace` is
//! dropped in [`crate::cli::main`].

mod bins;
mod build;
mod replay;
mod test;

use anyhow::Result;
use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Deterministic concurrency testing of a Rust package's own tests and
/// binaries, built for wasm32-wasip1-threads.
#[derive(Parser)]
#[command(name = "cargo-interlace", bin_name = "cargo interlace", version, about)]
pub struct CargoCli {
    #[command(subcommand)]
    command: CargoCommand,
}

#[derive(Subcommand)]
enum CargoCommand {
    /// Explore every #[test] of the package, each as its own program, and
    /// report in cargo test's shape.
    Test(test::TestCmd),
    /// Replay a schedule saved by `cargo interlace test` (it names its module and test).
    Replay(replay::CargoReplayCmd),
    /// Build a binary or example and run it once, deterministically.
    Run(bins::CargoRunCmd),
    /// Build a binary or example and explore its interleavings.
    Explore(bins::CargoExploreCmd),
}

impl CargoCli {
    /// Runs the chosen subcommand.
    pub fn execute(self) -> Result<ExitCode> {
        match self.command {
            CargoCommand::Test(c) => c.execute(),
            CargoCommand::Replay(c) => c.execute(),
            CargoCommand::Run(c) => c.execute(),
            CargoCommand::Explore(c) => c.execute(),
        }
    }
}
