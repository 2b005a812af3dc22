//! Fingerprints the instrumenter's sources, so that the cache of instrumented
//! modules (keyed by it) never serves a module rewritten by other code: a
//! version number alone does not change between builds of one version.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths = vec![];
    for dir in ["instrument/src", "guest-sdk/src"] {
        println!("cargo:rerun-if-changed={dir}");
        files(&root.join(dir), &mut paths);
    }
    paths.sort();
    // SipHash with fixed keys: the same sources give the same fingerprint.
    let mut h = std::hash::DefaultHasher::new();
    for p in &paths {
        p.strip_prefix(root).unwrap_or(p).hash(&mut h);
        std::fs::read(p).unwrap_or_default().hash(&mut h);
    }
    println!(
        "cargo:rustc-env=INTERLACE_INSTRUMENT_FINGERPRINT={:016x}",
        h.finish()
    );
}
