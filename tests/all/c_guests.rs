//! C pthread guests (examples/c), built with the toolchain that
//! scripts/install-c-toolchain.sh sets up: the right verdict from the
//! default strategy and from DPOR, through the built binary; a failed C
//! `assert` heads the report.

use crate::corpus::c_sysroot;
use crate::guests::{cli, code, scratch, stdout};
use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Compiles examples/c/`name`.c (once per test binary run is not needed:
/// clang takes a fraction of a second).
fn c_guest(name: &str) -> PathBuf {
    let out_dir = workspace().join("target/c-guests");
    std::fs::create_dir_all(&out_dir).unwrap();
    let out = out_dir.join(format!("{name}.wasm"));
    let status = Command::new("bash")
        .arg(workspace().join("scripts/wasm-cc.sh"))
        .arg(c_sysroot())
        .arg(format!("{name}.c"))
        .arg("-o")
        .arg(&out)
        .current_dir(workspace().join("examples/c"))
        .output()
        .expect("bash runs");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    out
}

fn explore(name: &str, extra: &[&str]) -> (i32, String) {
    let module = c_guest(name);
    let dir = scratch(&format!("c-{name}-{}", extra.join("_").replace('-', "")));
    let mut args = vec!["explore", module.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = cli(&dir, &args);
    (code(&out), stdout(&out))
}

#[test]
fn a_c_lost_update_is_found_and_its_assertion_heads_the_report() {
    for extra in [&[][..], &["--strategy", "dpor"]] {
        let (code, out) = explore("lost_update", extra);
        assert_eq!(code, 1, "{out}");
        assert!(
            out.contains("FAILURE: trap in thread main: assertion failed: total == 2 at lost_update.c:20 in main"),
            "{out}"
        );
    }
}

#[test]
fn a_c_lock_order_deadlock_is_found() {
    for extra in [&[][..], &["--strategy", "dpor"]] {
        let (code, out) = explore("lock_order_deadlock", extra);
        assert_eq!(code, 1, "{out}");
        assert!(out.contains("FAILURE: deadlock"), "{out}");
        assert!(out.contains("for the held Mutex"), "{out}");
    }
}

#[test]
fn a_c_condvar_lost_wakeup_is_found() {
    for extra in [&[][..], &["--strategy", "dpor"]] {
        let (code, out) = explore("condvar_lost_wakeup", extra);
        assert_eq!(code, 1, "{out}");
        assert!(out.contains("FAILURE: deadlock"), "{out}");
    }
}

#[test]
fn correct_c_programs_pass_and_dpor_proves_them_in_a_few_dozen_executions() {
    for (name, most) in [("mutex_counter", 300), ("condvar_handoff", 300)] {
        let (code, out) = explore(name, &[]);
        assert_eq!(code, 0, "{name}: {out}");
        let (code, out) = explore(name, &["--strategy", "dpor"]);
        assert_eq!(code, 0, "{name}: {out}");
        assert!(out.contains("every interleaving was covered"), "{out}");
        // "source-DPOR with sleep sets: N executions (...)"
        let n: u64 = out
            .split("sleep sets: ")
            .nth(1)
            .and_then(|r| r.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{out}"));
        assert!(n <= most, "{name}: DPOR took {n} executions");
    }
}
