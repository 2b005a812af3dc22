//! Bad input: a one-line error that says what is wrong and what to do, exit
//! code 2, never a panic.

use crate::guests::{cli, code, guest, scratch, stderr};
use crate::wat_guests::module;
use std::path::Path;

fn error_of(dir: &Path, args: &[&str]) -> String {
    let out = cli(dir, args);
    assert_eq!(
        code(&out),
        2,
        "expected exit 2 for {args:?}, stderr:\n{}",
        stderr(&out)
    );
    let err = stderr(&out);
    assert!(err.starts_with("error: "), "{err}");
    err
}

fn write_wat(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), wat::parse_str(text).unwrap()).unwrap();
}

#[test]
fn not_wasm_missing_or_malformed() {
    let dir = scratch("bad-files");
    std::fs::write(dir.join("text.wasm"), "hello world").unwrap();
    std::fs::write(dir.join("broken.wasm"), b"\0asm\x01\0\0\0\x01\xff\xff").unwrap();
    assert!(error_of(&dir, &["explore", "text.wasm"]).contains("not a WebAssembly module"));
    assert!(error_of(&dir, &["run", "missing.wasm"]).contains("cannot read missing.wasm"));
    assert!(error_of(&dir, &["explore", "broken.wasm"]).contains("malformed WebAssembly module"));
}

#[test]
fn non_threaded_module() {
    let dir = scratch("bad-unshared");
    write_wat(
        &dir,
        "plain.wasm",
        r#"(module (memory (export "memory") 1) (func (export "_start")))"#,
    );
    let err = error_of(&dir, &["explore", "plain.wasm"]);
    assert!(
        err.contains("no shared memory") && err.contains("wasm32-wasip1-threads"),
        "{err}"
    );
}

#[test]
fn missing_start_and_unknown_imports() {
    let dir = scratch("bad-exports");
    std::fs::write(dir.join("nostart.wasm"), module("")).unwrap();
    let err = error_of(&dir, &["explore", "nostart.wasm"]);
    assert!(err.contains("exports no `_start`"), "{err}");
    std::fs::write(
        dir.join("import.wasm"),
        module(r#"(import "env" "mystery" (func)) (func (export "_start"))"#),
    )
    .unwrap();
    let err = error_of(&dir, &["explore", "import.wasm"]);
    assert!(
        err.contains("imports `env.mystery`") && err.contains("does not provide"),
        "{err}"
    );
}

#[test]
fn bad_schedules() {
    let dir = scratch("bad-schedules");
    let counter = guest("counter_lost_update");
    let c = counter.to_str().unwrap();
    let other = guest("bank_account");
    std::fs::write(dir.join("junk.json"), "{ not json").unwrap();
    assert!(error_of(&dir, &["replay", c, "junk.json"])
        .contains("not a valid interlace-wasm schedule file"));

    let explored = cli(&dir, &["explore", c, "--save", "s.json"]);
    assert_eq!(code(&explored), 1);
    let err = error_of(&dir, &["replay", other.to_str().unwrap(), "s.json"]);
    assert!(err.contains("recorded on another module"), "{err}");

    let text = std::fs::read_to_string(dir.join("s.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut v2 = v.clone();
    v2["decisions"] = serde_json::Value::String("7*3".into());
    std::fs::write(dir.join("unknown-thread.json"), v2.to_string()).unwrap();
    let err = error_of(&dir, &["replay", c, "unknown-thread.json"]);
    assert!(err.contains("names thread t7, which cannot run"), "{err}");

    let mut v3 = v.clone();
    v3["decisions"] = serde_json::Value::String("0*2".into());
    std::fs::write(dir.join("short.json"), v3.to_string()).unwrap();
    let err = error_of(&dir, &["replay", c, "short.json"]);
    assert!(
        err.contains("the schedule does not match this execution"),
        "{err}"
    );

    let mut v4 = v;
    v4["decisions"] = serde_json::Value::String("x*2".into());
    std::fs::write(dir.join("garbled.json"), v4.to_string()).unwrap();
    assert!(error_of(&dir, &["replay", c, "garbled.json"]).contains("bad thread id `x`"));
}

#[test]
fn bad_flags() {
    let dir = scratch("bad-flags");
    let m = guest("hello");
    assert!(
        error_of(&dir, &["run", m.to_str().unwrap(), "--env", "NOEQUALS"])
            .contains("--env takes KEY=VALUE")
    );
    // clap's own usage errors exit 2 as well.
    let out = cli(&dir, &["explore"]);
    assert_eq!(code(&out), 2);
}
