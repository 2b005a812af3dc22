//! Building a package's targets for `wasm32-wasip1-threads` with cargo, and
//! finding the `.wasm` files it wrote.

use anyhow::{bail, Context, Result};
use clap::Args;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The target every guest is built for.
pub const TARGET: &str = "wasm32-wasip1-threads";

/// Which package, features and profile to build, as cargo's own options.
#[derive(Args, Clone, Default)]
pub struct CargoArgs {
    /// Package to build (see `cargo help pkgid`); repeatable.
    #[arg(short = 'p', long = "package", value_name = "SPEC")]
    pub package: Vec<String>,
    /// Every package of the workspace.
    #[arg(long)]
    pub workspace: bool,
    /// Build in release mode (line tables and overflow checks stay on).
    #[arg(long)]
    pub release: bool,
    /// Optimisation level of the build, whatever the profile says. Default:
    /// 1 for a debug build (std's atomics are then inlined into your lines,
    /// so the trace names them), the profile's own for `--release`.
    #[arg(long, value_name = "N")]
    pub opt_level: Option<String>,
    /// Features to activate (comma or space separated).
    #[arg(short = 'F', long, value_name = "FEATURES")]
    pub features: Vec<String>,
    /// Activate every feature.
    #[arg(long)]
    pub all_features: bool,
    /// Do not activate the `default` feature.
    #[arg(long)]
    pub no_default_features: bool,
    /// Path to Cargo.toml.
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,
}

/// A `.wasm` file cargo built.
#[derive(Clone, Debug)]
pub struct Artifact {
    /// The target's kind as cargo says it: `lib`, `bin`, `test`, `example`, ...
    pub kind: String,
    /// The target's name (`mycrate`, `lock_order`).
    pub name: String,
    /// Its root source file.
    pub src: PathBuf,
    /// The built module.
    pub wasm: PathBuf,
}

impl Artifact {
    /// What cargo test prints after `Running`: `unittests src/lib.rs` or `tests/x.rs`.
    pub fn label(&self) -> String {
        let cwd = std::env::current_dir().unwrap_or_default();
        let src = self.src.strip_prefix(&cwd).unwrap_or(&self.src).display();
        match self.kind.as_str() {
            "test" | "bench" | "example" => src.to_string(),
            _ => format!("unittests {src}"),
        }
    }

    /// Whether it is the library's unit-test harness.
    pub fn is_lib(&self) -> bool {
        matches!(
            self.kind.as_str(),
            "lib" | "rlib" | "cdylib" | "staticlib" | "dylib" | "proc-macro"
        )
    }

    /// The cargo option that selects this target again (`--lib`, `--test x`).
    pub fn selector(&self) -> String {
        if self.is_lib() {
            "--lib".into()
        } else {
            format!("--{} {}", self.kind, self.name)
        }
    }
}

/// What `cargo` to run: the one that called us (`$CARGO`), else `cargo`.
fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Makes sure the active toolchain has the wasm target, installing it with
/// rustup (and saying so) when it is missing.
pub fn ensure_target() -> Result<()> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = Command::new(&rustc)
        .args(["--print", "target-libdir", "--target", TARGET])
        .output()
        .context("cannot run rustc; install Rust with rustup (https://rustup.rs)")?;
    let libdir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    if out.status.success() && has_std(&libdir) {
        return Ok(());
    }
    eprintln!("cargo interlace: the {TARGET} target is not installed; installing it: rustup target add {TARGET}");
    let status = Command::new("rustup")
        .args(["target", "add", TARGET])
        .status()
        .context("cannot run rustup")?;
    if !status.success() {
        bail!("could not install the {TARGET} target; run `rustup target add {TARGET}` (Rust 1.78 or later; a toolchain without it: `rustup toolchain install 1.95.0 -t {TARGET}`)");
    }
    Ok(())
}

/// Whether a target libdir holds a std.
fn has_std(libdir: &Path) -> bool {
    std::fs::read_dir(libdir).is_ok_and(|entries| {
        entries.flatten().any(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.starts_with("libstd-") && name.ends_with(".rlib")
        })
    })
}

/// What to build.
pub enum Build<'a> {
    /// Test harnesses: `cargo test --no-run` with these target selectors.
    Tests(&'a [String]),
    /// One binary or example: `cargo build --bin x` / `--example x`.
    Binary(&'a [String]),
}

/// Builds for the wasm target and returns the modules cargo wrote, with
/// line tables and overflow checks on whatever the profile says.
pub fn build(args: &CargoArgs, what: Build) -> Result<Vec<Artifact>> {
    ensure_target()?;
    let mut cmd = cargo();
    let selectors = match what {
        Build::Tests(s) => {
            cmd.args(["test", "--no-run"]);
            s
        }
        Build::Binary(s) => {
            cmd.arg("build");
            s
        }
    };
    cmd.args([
        "--target",
        TARGET,
        "--message-format=json-render-diagnostics",
    ]);
    cmd.args(selectors);
    for p in &args.package {
        cmd.args(["--package", p]);
    }
    if args.workspace {
        cmd.arg("--workspace");
    }
    if args.release {
        cmd.arg("--release");
    }
    for f in &args.features {
        cmd.args(["--features", f]);
    }
    if args.all_features {
        cmd.arg("--all-features");
    }
    if args.no_default_features {
        cmd.arg("--no-default-features");
    }
    if let Some(m) = &args.manifest_path {
        cmd.arg("--manifest-path").arg(m);
    }
    let profiles: &[&str] = if args.release {
        &["RELEASE", "BENCH"]
    } else {
        &["DEV", "TEST"]
    };
    let opt_level = match (&args.opt_level, args.release) {
        (Some(level), _) => Some(level.as_str()),
        (None, false) => Some("1"),
        (None, true) => None,
    };
    for p in profiles {
        cmd.env(format!("CARGO_PROFILE_{p}_DEBUG"), "line-tables-only");
        cmd.env(format!("CARGO_PROFILE_{p}_OVERFLOW_CHECKS"), "true");
        if let Some(level) = opt_level {
            cmd.env(format!("CARGO_PROFILE_{p}_OPT_LEVEL"), level);
        }
    }
    cmd.stdout(Stdio::piped()).stderr(Stdio::inherit());
    let out = cmd
        .output()
        .context("cannot run cargo; is it on PATH (or $CARGO set)?")?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!("cargo could not build the package for {TARGET} (its errors are above); fix them, or check that the code builds for {TARGET} (no sockets, files or processes)");
    }
    let want_tests = matches!(what, Build::Tests(_));
    let mut artifacts = vec![];
    for line in text.lines() {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if v["reason"] != "compiler-artifact" {
            continue;
        }
        let Some(wasm) = v["executable"].as_str() else {
            continue;
        };
        if v["profile"]["test"].as_bool() != Some(want_tests) {
            continue;
        }
        let target = &v["target"];
        artifacts.push(Artifact {
            kind: target["kind"][0].as_str().unwrap_or("lib").to_string(),
            name: target["name"].as_str().unwrap_or("?").to_string(),
            src: PathBuf::from(target["src_path"].as_str().unwrap_or("?")),
            wasm: PathBuf::from(wasm),
        });
    }
    Ok(artifacts)
}

/// `target/` of the build that wrote `wasm`
/// (`<target-dir>/wasm32-wasip1-threads/<profile>/deps/x.wasm`).
pub fn target_dir(wasm: &Path) -> PathBuf {
    let mut dir = wasm.parent().unwrap_or(Path::new("."));
    while let Some(parent) = dir.parent() {
        if dir.file_name().is_some_and(|n| n == TARGET) {
            return parent.to_path_buf();
        }
        dir = parent;
    }
    PathBuf::from("target")
}
