//! The corpus of real bugs nobody here wrote (corpus/): each buggy release
//! of a public crate, and its fixed twin, and public C benchmark programs.
//! The default `explore`, within its default budget, must find every bug
//! (of the expected kind) and report no failure on any correct program.

use crate::guests::{build_wasm, cli, code, scratch, stdout};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[derive(serde::Deserialize)]
struct Entry {
    name: String,
    #[serde(default)]
    package: Option<String>,
    bug: bool,
    #[serde(default)]
    kind: Option<String>,
}

fn entries(list: &str) -> Vec<Entry> {
    let text = std::fs::read_to_string(workspace().join(list)).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Builds every crate of corpus/crates once; the directory of the modules.
fn crates_built() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let target = workspace().join("target/corpus");
        for e in entries("corpus/crates/corpus.json") {
            let manifest = workspace()
                .join("corpus/crates")
                .join(&e.name)
                .join("Cargo.toml");
            build_wasm(&manifest, &target, &["--locked"]);
        }
        target.join("wasm32-wasip1-threads/release")
    })
}

/// The C sysroot: `$INTERLACE_WASI_SYSROOT`, else target/wasi-sysroot,
/// installed by scripts/install-c-toolchain.sh when missing.
pub fn c_sysroot() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::var_os("INTERLACE_WASI_SYSROOT")
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace().join("target/wasi-sysroot"));
        if !dir.join("lib/wasm32-wasip1-threads/libc.a").exists() {
            let out = Command::new("bash")
                .arg(workspace().join("scripts/install-c-toolchain.sh"))
                .arg(&dir)
                .output()
                .expect("bash runs");
            assert!(
                out.status.success(),
                "installing the C toolchain failed (scripts/install-c-toolchain.sh needs root and Debian's packages):\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        dir
    })
}

/// Builds every program of corpus/c once; the directory of the modules.
fn c_built() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let out_dir = workspace().join("target/corpus-c");
        let out = Command::new("bash")
            .arg(workspace().join("corpus/c/build.sh"))
            .arg(c_sysroot())
            .arg(&out_dir)
            .output()
            .expect("bash runs");
        assert!(
            out.status.success(),
            "building the C corpus failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out_dir
    })
}

/// Explores `module` with the default strategy and budget; checks the
/// verdict. Returns a line for the failure message when it is wrong.
fn check(module: &Path, e: &Entry) -> Option<String> {
    let dir = scratch(&format!("corpus-{}", e.name));
    let out = cli(&dir, &["explore", module.to_str().unwrap()]);
    let text = stdout(&out);
    let got = code(&out);
    let head: String = text.lines().take(6).collect::<Vec<_>>().join(" | ");
    match (e.bug, got) {
        (true, 1) => {
            let kind = e.kind.as_deref().unwrap_or("");
            (!text.contains(&format!("FAILURE: {kind}")))
                .then(|| format!("{}: found, but not a {kind}: {head}", e.name))
        }
        (false, 0) => None,
        (true, _) => Some(format!("{}: bug MISSED (exit {got}): {head}", e.name)),
        (false, _) => Some(format!("{}: FALSE ALARM (exit {got}): {head}", e.name)),
    }
}

fn check_all(list: &str, module: impl Fn(&Entry) -> PathBuf, bugs: bool) {
    let wrong: Vec<String> = entries(list)
        .into_iter()
        .filter(|e| e.bug == bugs)
        .filter_map(|e| {
            let m = module(&e);
            assert!(m.exists(), "no module {}", m.display());
            check(&m, &e)
        })
        .collect();
    assert!(wrong.is_empty(), "wrong verdicts:\n{}", wrong.join("\n"));
}

fn crate_module(e: &Entry) -> PathBuf {
    crates_built().join(format!("{}.wasm", e.package.as_deref().unwrap()))
}

fn c_module(e: &Entry) -> PathBuf {
    c_built().join(format!("{}.wasm", e.name))
}

#[test]
fn every_crate_bug_is_found_by_the_default() {
    check_all("corpus/crates/corpus.json", crate_module, true);
}

#[test]
fn no_fixed_crate_release_is_reported() {
    check_all("corpus/crates/corpus.json", crate_module, false);
}

#[test]
fn every_c_benchmark_bug_is_found_by_the_default() {
    check_all("corpus/c/corpus.json", c_module, true);
}

#[test]
fn no_correct_c_benchmark_is_reported() {
    check_all("corpus/c/corpus.json", c_module, false);
}

#[test]
fn dpor_sees_a_free_racing_with_another_threads_use() {
    // The allocator's plain writes (free's list links) used to be taken as
    // independent of everything: DPOR then claimed "every interleaving was
    // covered" for oneshot 0.1.11 after 8 executions, missing the use after
    // free that random and pos find.
    let e = entries("corpus/crates/corpus.json")
        .into_iter()
        .find(|e| e.name == "oneshot-0.1.11")
        .unwrap();
    let module = crate_module(&e);
    let dir = scratch("corpus-dpor-oneshot");
    let out = cli(
        &dir,
        &["explore", module.to_str().unwrap(), "--strategy", "dpor"],
    );
    let text = stdout(&out);
    assert_eq!(code(&out), 1, "{text}");
    assert!(text.contains("FAILURE: trap"), "{text}");
}
