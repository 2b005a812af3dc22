//! What the benchmarks share: the example guests, built once, and loading.

#![allow(dead_code)]

use interlace_instrument::{instrument, Config, Granularity};
use interlace_wasm::Program;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Builds the example guests (release, wasm32-wasip1-threads); their folder.
pub fn guests() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target = root.join("target/guests");
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip1-threads",
            "--manifest-path",
        ])
        .arg(root.join("examples/guests/Cargo.toml"))
        .arg("--target-dir")
        .arg(&target)
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building the example guests failed");
    target.join("wasm32-wasip1-threads/release")
}

pub fn load(wasm: &[u8], granularity: Option<Granularity>) -> Program {
    match granularity {
        Some(g) => Program::new(
            &instrument(wasm, &Config { granularity: g }).unwrap().wasm,
            "bench",
        )
        .unwrap(),
        None => Program::new(wasm, "bench").unwrap(),
    }
}
