//! `cargo interlace`: the cargo subcommand (`cargo interlace test`, `run`,
//! `explore`, `replay`). The same command line as `interlace-wasm`, entered
//! through cargo.

#[path = "../cli/mod.rs"]
mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
