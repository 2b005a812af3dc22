//! The on-disk cache of modules: files that carry the SHA-256 of their bytes
//! beside them, checked before they are trusted, and written so that a
//! reader sees a whole entry or none. The compiled-module entries live
//! here (wasmtime's serialization, keyed by the module's SHA-256, the
//! engine's compatibility hash and this tool's version, so a second run of
//! the same module skips Cranelift); the CLI keeps instrumented modules the
//! same way. Anything wrong with an entry means building afresh.

use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use wasmtime::{Engine, Module};

/// SHA-256 of `bytes`, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn sum_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".sha256");
    path.with_file_name(name)
}

/// The bytes of the entry at `path`, if it is whole (its checksum matches).
pub fn read_checked(path: &Path) -> Option<Vec<u8>> {
    let bytes = std::fs::read(path).ok()?;
    let sum = std::fs::read_to_string(sum_path(path)).ok()?;
    (sum.trim() == sha256_hex(&bytes)).then_some(bytes)
}

/// Writes the entry at `path` with its checksum; failures only mean no
/// cache next time. Both files go under temporary names first, then are
/// renamed: a reader sees a whole entry or none (and a mismatching pair
/// fails the checksum).
pub fn write_checked(path: &Path, bytes: &[u8]) {
    let Some(dir) = path.parent() else {
        return;
    };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let sum = sum_path(path);
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let sum_tmp = sum.with_extension(format!("tmp{}", std::process::id()));
    let ok = std::fs::write(&tmp, bytes).is_ok()
        && std::fs::write(&sum_tmp, sha256_hex(bytes)).is_ok()
        && std::fs::rename(&sum_tmp, &sum).is_ok()
        && std::fs::rename(&tmp, path).is_ok();
    if !ok {
        let _ = std::fs::remove_file(&tmp);
        let _ = std::fs::remove_file(&sum_tmp);
    }
}

/// The file of `wasm`'s compiled form for `engine` under `dir`.
fn entry(dir: &Path, engine: &Engine, wasm_sha256: &str) -> PathBuf {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut h);
    env!("CARGO_PKG_VERSION").hash(&mut h);
    dir.join(format!("{wasm_sha256}-{:016x}.cwasm", h.finish()))
}

/// The compiled module from the cache, if a sound entry is there.
pub(crate) fn load(dir: &Path, engine: &Engine, wasm_sha256: &str) -> Option<Module> {
    let bytes = read_checked(&entry(dir, engine, wasm_sha256))?;
    // SAFETY: `deserialize` trusts its input to be wasmtime's own output for
    // a compatible engine (it checks the version and engine settings itself).
    // These bytes are: this module wrote them with `Module::serialize` under
    // a name that includes the engine's compatibility hash, and their SHA-256,
    // written beside them, matches, so they are not truncated or altered.
    unsafe { Module::deserialize(engine, &bytes) }.ok()
}

/// Stores `module`'s compiled form; failures only mean no cache next time.
pub(crate) fn store(dir: &Path, engine: &Engine, wasm_sha256: &str, module: &Module) {
    if let Ok(bytes) = module.serialize() {
        write_checked(&entry(dir, engine, wasm_sha256), &bytes);
    }
}
