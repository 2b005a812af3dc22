//! The `interlace-wasm` command line. Exit codes: 0 no failure, 1 failure
//! found, 2 bad input or tool error.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
