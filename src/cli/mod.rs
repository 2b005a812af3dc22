//! Subcommands, one file each; this file holds what they share.

mod cargo;
mod cc;
mod explore;
mod instrument;
mod json;
mod merge;
mod replay;
mod report;
mod run;
mod test;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use interlace_instrument::Granularity;
use interlace_wasm::{cache, Program, RunConfig};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Deterministic concurrency testing for multithreaded WebAssembly
/// (wasm32-wasip1-threads): find the interleaving that fails, replay it exactly.
#[derive(Parser)]
#[command(name = "interlace-wasm", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run many interleavings; report and save the first that fails.
    Explore(explore::ExploreCmd),
    /// Replay a saved schedule exactly, with its trace.
    Replay(replay::ReplayCmd),
    /// Run once, deterministically (round-robin), like `wasmtime run` but reproducible.
    Run(run::RunCmd),
    /// Write the instrumented module and print what was instrumented.
    Instrument(instrument::InstrumentCmd),
    /// Explore every exported test function (by name prefix), like `cargo test`.
    Test(test::TestCmd),
    /// Add up the JSON reports of `explore --shard k/N --json` runs.
    Merge(merge::MergeCmd),
    /// Compile C for wasm32-wasip1-threads (clang with the target, sysroot,
    /// -pthread, -g and the memory flags; usable as CC).
    Cc(cc::CcCmd),
}

impl Cli {
    /// Runs the chosen subcommand.
    pub fn execute(self) -> Result<ExitCode> {
        match self.command {
            Command::Explore(c) => c.execute(),
            Command::Replay(c) => c.execute(),
            Command::Run(c) => c.execute(),
            Command::Instrument(c) => c.execute(),
            Command::Test(c) => c.execute(),
            Command::Merge(c) => c.execute(),
            Command::Cc(c) => c.execute(),
        }
    }
}

/// Both binaries' `main`: `interlace-wasm ARGS`, or `cargo-interlace
/// [interlace] ARGS` (cargo passes the subcommand's name first). Exit codes:
/// 0 no failure, 1 failure found, 2 bad input or tool error.
pub fn main() -> ExitCode {
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let as_cargo = args
        .first()
        .and_then(|a| Path::new(a).file_stem())
        .is_some_and(|s| s == "cargo-interlace");
    let result = if as_cargo {
        if args.get(1).is_some_and(|a| a == "interlace") {
            args.remove(1);
        }
        cargo::CargoCli::parse_from(args).execute()
    } else {
        Cli::parse_from(args).execute()
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Which instructions are scheduling points.
#[derive(Clone, Copy, Debug, ValueEnum, Default)]
pub enum GranularityArg {
    /// Every load/store on shared memory and every atomic.
    #[default]
    All,
    /// Atomics, fences and wait/notify only: faster, blind to plain data races.
    Atomics,
}

impl From<GranularityArg> for Granularity {
    fn from(g: GranularityArg) -> Granularity {
        match g {
            GranularityArg::All => Granularity::All,
            GranularityArg::Atomics => Granularity::AtomicsOnly,
        }
    }
}

/// Options every subcommand that runs the guest takes.
#[derive(Args, Clone)]
pub struct ModuleArgs {
    /// The module (.wasm built for wasm32-wasip1-threads, or already instrumented).
    pub module: PathBuf,
    #[command(flatten)]
    pub run: RunArgs,
    /// Arguments for the guest (after `--`).
    #[arg(last = true)]
    pub guest_args: Vec<String>,
}

/// How to instrument and run a guest: every subcommand that runs one,
/// `cargo interlace` included, takes these.
#[derive(Args, Clone)]
pub struct RunArgs {
    /// Which instructions are scheduling points.
    #[arg(long, value_enum, default_value_t = GranularityArg::All)]
    pub granularity: GranularityArg,
    /// Cut an execution after this many scheduling points and report it as not terminating.
    #[arg(long, default_value_t = interlace_wasm::runtime::DEFAULT_MAX_STEPS)]
    pub max_steps: u64,
    /// Threads an execution may create, main included; a program that needs
    /// more is stopped with the tool's error (exit 2), not a verdict.
    #[arg(long, default_value_t = interlace_wasm::runtime::DEFAULT_MAX_THREADS)]
    pub max_threads: u32,
    /// Wall-time limit per execution in seconds (stops loops that never reach a scheduling point).
    #[arg(long, default_value_t = interlace_wasm::runtime::DEFAULT_TIMEOUT_SECS)]
    pub timeout: u64,
    /// Seed of the guest's random_get (and so of HashMap seeds).
    #[arg(long, default_value_t = 0)]
    pub guest_seed: u64,
    /// Environment variable for the guest (KEY=VALUE, repeatable).
    #[arg(long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// The exported function the main thread runs.
    #[arg(long, default_value = "_start")]
    pub entry: String,
    /// Detect data races: two accesses to the same bytes, one a plain write
    /// or read against a write, not ordered by happens-before (atomics,
    /// spawn, join, wait/notify). A race is a failure of its own kind.
    #[arg(long)]
    pub races: bool,
    /// Make every plain load and store in library code (std, wasi-libc) a
    /// scheduling point, with any strategy. By default the sampling
    /// strategies (portfolio, random, pct, pos), which never preempt there,
    /// leave them out: executions are faster, and traces show the program's
    /// steps and the library's atomics.
    #[arg(long)]
    pub library_points: bool,
    /// Run the module as given, without instrumenting it (for differential checks).
    #[arg(long, hide = true)]
    pub uninstrumented: bool,
    /// Do not read or write the cache of instrumented and compiled modules
    /// ($INTERLACE_CACHE_DIR, else $XDG_CACHE_HOME/interlace-wasm, else
    /// ~/.cache/interlace-wasm).
    #[arg(long)]
    pub no_cache: bool,
}

impl ModuleArgs {
    /// Reads, instruments and compiles the module.
    pub fn load(&self) -> Result<Program> {
        self.run.load(&self.module)
    }

    /// The module's file name without extension, for default output names.
    pub fn stem(&self) -> String {
        self.module
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// The per-execution configuration.
    pub fn run_config(&self) -> Result<RunConfig> {
        self.run.run_config(&self.guest_args)
    }
}

impl RunArgs {
    /// Reads, instruments and compiles `module`.
    pub fn load(&self, module: &Path) -> Result<Program> {
        let bytes = read_module(module)?;
        let cache = if self.no_cache { None } else { cache_dir() };
        let wasm = if self.uninstrumented || interlace_instrument::is_instrumented(&bytes) {
            bytes
        } else {
            let config = interlace_instrument::Config {
                granularity: self.granularity.into(),
            };
            let key = format!(
                "{}-{:?}-{}-{}-{}",
                cache::sha256_hex(&bytes),
                self.granularity,
                env!("CARGO_PKG_VERSION"),
                interlace_guest_sdk::abi::SITE_TABLE_FORMAT,
                env!("INTERLACE_INSTRUMENT_FINGERPRINT")
            );
            let entry = cache.as_deref().map(|d| d.join(format!("{key}.wasm")));
            match entry.as_deref().and_then(cache::read_checked) {
                Some(wasm) => wasm,
                None => {
                    let wasm = interlace_instrument::instrument(&bytes, &config)
                        .with_context(|| format!("cannot instrument {}", module.display()))?
                        .wasm;
                    if let Some(entry) = &entry {
                        cache::write_checked(entry, &wasm);
                    }
                    wasm
                }
            }
        };
        let name = module
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Program::new_cached(&wasm, &name, cache.as_deref())
            .with_context(|| format!("cannot load {}", module.display()))
    }

    /// The per-execution configuration, with `args` after `argv[0]`.
    pub fn run_config(&self, args: &[String]) -> Result<RunConfig> {
        for e in &self.env {
            if !e.contains('=') {
                anyhow::bail!("--env takes KEY=VALUE, got `{e}`");
            }
        }
        Ok(RunConfig {
            max_steps: self.max_steps,
            timeout_secs: self.timeout.max(1),
            args: args.to_vec(),
            env: self.env.clone(),
            guest_seed: self.guest_seed,
            entry: self.entry.clone(),
            races: self.races,
            max_threads: self.max_threads.max(1),
            library_points: self.library_points.then_some(true),
            ..RunConfig::default()
        })
    }
}

/// Where instrumented and compiled modules are cached: `$INTERLACE_CACHE_DIR`,
/// else `$XDG_CACHE_HOME/interlace-wasm`, else `~/.cache/interlace-wasm`.
fn cache_dir() -> Option<PathBuf> {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    env("INTERLACE_CACHE_DIR")
        .or_else(|| env("XDG_CACHE_HOME").map(|d| d.join("interlace-wasm")))
        .or_else(|| env("HOME").map(|d| d.join(".cache/interlace-wasm")))
}

/// Writes `text` to stdout. A closed pipe (`| head`) is not an error: the
/// verdict is in the exit code.
pub fn emit(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
}

/// Reads a module file, with an error that names it; a C or C++ source
/// (`.c`, `.cc`, `.cpp`, `.cxx`) is compiled first (see [`cc::compile`]).
pub fn read_module(path: &Path) -> Result<Vec<u8>> {
    if cc::is_source(path) {
        return cc::compile(path);
    }
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}
