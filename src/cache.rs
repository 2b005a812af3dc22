//! The on-disk cache of compiled modules: wasmtime's serialization of a
//! compiled module, keyed by the module's SHA-256, the engine's compatibility
//! hash and this tool's version, so a second run of the same module skips
//! Cranelift. Every entry carries the SHA-256 of its bytes, checked before
//! they are trusted; anything wrong with an entry means compiling afresh.

use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use wasmtime::{Engine, Module};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
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
    let path = entry(dir, engine, wasm_sha256);
    let bytes = std::fs::read(&path).ok()?;
    let sum = std::fs::read_to_string(path.with_extension("sha256")).ok()?;
    if sum.trim() != hex(&Sha256::digest(&bytes)) {
        return None;
    }
    // SAFETY: `deserialize` trusts its input to be wasmtime's own output for
    // a compatible engine (it checks the version and engine settings itself).
    // These bytes are: this module wrote them with `Module::serialize` under
    // a name that includes the engine's compatibility hash, and their SHA-256,
    // written beside them, matches, so they are not truncated or altered.
    unsafe { Module::deserialize(engine, &bytes) }.ok()
}

/// Stores `module`'s compiled form; failures only mean no cache next time.
pub(crate) fn store(dir: &Path, engine: &Engine, wasm_sha256: &str, module: &Module) {
    let Ok(bytes) = module.serialize() else {
        return;
    };
    let path = entry(dir, engine, wasm_sha256);
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    // Write both files under temporary names, then rename: a reader sees a
    // whole entry or none (and a mismatching pair fails the checksum).
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let sum_tmp = path.with_extension(format!("sha256.tmp{}", std::process::id()));
    let ok = std::fs::write(&tmp, &bytes).is_ok()
        && std::fs::write(&sum_tmp, hex(&Sha256::digest(&bytes))).is_ok()
        && std::fs::rename(&sum_tmp, path.with_extension("sha256")).is_ok()
        && std::fs::rename(&tmp, &path).is_ok();
    if !ok {
        let _ = std::fs::remove_file(&tmp);
        let _ = std::fs::remove_file(&sum_tmp);
    }
}
