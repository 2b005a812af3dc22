//! Builds the example guests (examples/guests) once per test run, for
//! wasm32-wasip1-threads, so the suite needs no manual step.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Path of the built example `name` (e.g. `counter_lost_update`).
pub fn guest(name: &str) -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    let dir = BUILT.get_or_init(|| {
        let target = workspace().join("target/guests");
        build_wasm(
            &workspace().join("examples/guests/Cargo.toml"),
            &target,
            &[],
        );
        target.join("wasm32-wasip1-threads/release")
    });
    let path = dir.join(format!("{name}.wasm"));
    assert!(path.exists(), "no example guest {}", path.display());
    path
}

/// Path of the example `name` built in the dev profile (what `cargo test`
/// builds): only the marker examples, which must behave as in release.
pub fn debug_guest(name: &str) -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    let dir = BUILT.get_or_init(|| {
        let target = workspace().join("target/guests");
        let mut args = vec!["--profile", "dev"];
        for bin in DEBUG_GUESTS {
            args.extend(["--bin", bin]);
        }
        build_wasm(
            &workspace().join("examples/guests/Cargo.toml"),
            &target,
            &args,
        );
        target.join("wasm32-wasip1-threads/debug")
    });
    assert!(DEBUG_GUESTS.contains(&name), "{name} is not built in debug");
    dir.join(format!("{name}.wasm"))
}

/// The examples [`debug_guest`] builds.
const DEBUG_GUESTS: [&str; 4] = [
    "bank_account_comments",
    "counter_comments",
    "bank_account_markers",
    "counter_markers",
];

/// Path of the example `name` compiled by plain `rustc -O` (no line tables,
/// opt-level 2, no dependencies): every function is library code to the
/// tool, as std's.
pub fn guest_by_rustc(name: &str) -> PathBuf {
    let src = workspace().join(format!("examples/guests/src/bin/{name}.rs"));
    let dir = workspace().join("target/guests-rustc");
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join(format!("{name}.wasm"));
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let status = Command::new(rustc)
        .args([
            "--target",
            "wasm32-wasip1-threads",
            "-O",
            "--edition",
            "2021",
        ])
        .arg(&src)
        .arg("-o")
        .arg(&out)
        .env_remove("RUSTFLAGS")
        .status()
        .expect("rustc runs");
    assert!(status.success(), "rustc {} failed", src.display());
    out
}

/// Builds the package of `manifest` for wasm32-wasip1-threads (release,
/// unless `extra` names a profile) into `target`, with the user's
/// RUSTFLAGS out of the way.
pub fn build_wasm(manifest: &Path, target: &Path, extra: &[&str]) {
    build_wasm_with(manifest, target, extra, "")
}

/// [`build_wasm`] with `rustflags` as RUSTFLAGS (tokio's
/// `--cfg tokio_unstable`, say).
pub fn build_wasm_with(manifest: &Path, target: &Path, extra: &[&str], rustflags: &str) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let profile: &[&str] = if extra.contains(&"--profile") {
        &[]
    } else {
        &["--release"]
    };
    let mut cmd = Command::new(cargo);
    // Empty: the user's RUSTFLAGS out of the way, the config's in force.
    if rustflags.is_empty() {
        cmd.env_remove("RUSTFLAGS");
    } else {
        cmd.env("RUSTFLAGS", rustflags);
    }
    let out = cmd
        .arg("build")
        .args(profile)
        .args(["--target", "wasm32-wasip1-threads"])
        .args(extra)
        .arg("--manifest-path")
        .arg(manifest)
        .arg("--target-dir")
        .arg(target)
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "building {} failed (is the wasm32-wasip1-threads target installed?):\n{}",
        manifest.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The example guest `name`, instrumented (all accesses) and loaded.
pub fn load_guest(name: &str) -> interlace_wasm::Program {
    let bytes = std::fs::read(guest(name)).unwrap();
    let wasm = interlace_instrument::instrument(&bytes, &Default::default())
        .unwrap()
        .wasm;
    interlace_wasm::Program::new(&wasm, name).unwrap()
}

/// Runs the `interlace-wasm` binary with `args` in `dir`.
pub fn cli(dir: &Path, args: &[&str]) -> Output {
    cli_with_cache(
        dir,
        args,
        &workspace().join("target/test-scratch/module-cache"),
    )
}

/// [`cli`] with the module cache in `cache`.
pub fn cli_with_cache(dir: &Path, args: &[&str], cache: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_interlace-wasm"))
        .current_dir(dir)
        .env("INTERLACE_CACHE_DIR", cache)
        .args(args)
        .output()
        .expect("binary runs")
}

/// A fresh scratch directory for one test.
pub fn scratch(test: &str) -> PathBuf {
    // Unique per call: two tests that explore one guest run in parallel,
    // and one must not delete the other's directory under it.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = CALLS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let dir = workspace()
        .join("target/test-scratch")
        .join(format!("{test}-{n}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Exit code, asserting that the tool did not crash.
pub fn code(o: &Output) -> i32 {
    let err = stderr(o);
    assert!(!err.contains("panicked"), "interlace-wasm panicked:\n{err}");
    o.status.code().expect("exited normally")
}
