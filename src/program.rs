//! A module loaded once: compiled, checked, its linker built. Executions
//! reuse all of it and create only memory, stores and instances.

use crate::error::{Error, ErrorKind, Result};
use crate::runtime::{hooks, wasi, ThreadData};
use interlace_guest_sdk::abi::{self, SiteTable, JOIN_FUNCTIONS};
use std::sync::Arc;
use std::time::Duration;
use wasmtime::{Config, Engine, ExternType, FuncType, Linker, MemoryType, Module};

/// Wall time per epoch tick; `--timeout` is counted in these.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(100);

/// A checked, compiled guest module.
pub struct Program {
    pub(crate) engine: Engine,
    pub(crate) module: Module,
    pub(crate) linker: Linker<ThreadData>,
    pub(crate) memory_ty: MemoryType,
    pub(crate) sites: Arc<SiteTable>,
    /// Per site: [`ALLOCATOR_SITE`] and [`JOIN_SITE`] bits, looked up once
    /// per step.
    pub(crate) site_flags: Arc<[u8]>,
    /// Tells programs apart (a recycled memory belongs to one, see
    /// `runtime::recycle`).
    pub(crate) id: u64,
    /// The module's memory size is the host's (see
    /// `abi::VIRTUAL_MEMORY_EXPORT`), so executions may reuse a memory.
    pub(crate) virtual_memory: bool,
    sha256: String,
    name: String,
}

/// The next [`Program::id`].
static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Source path fragments of memory allocators.
/// `sbrk.c`: the allocator's `memory.grow` is the allocator's business too.
const ALLOCATOR_PATHS: &[&str] = &["dlmalloc/", "/malloc.c", "/emmalloc.c", "/sbrk.c"];

/// A site in the memory allocator (by its source path).
pub(crate) const ALLOCATOR_SITE: u8 = 1;
/// A site in wasi-libc's pthread_join (by function name).
pub(crate) const JOIN_SITE: u8 = 2;

fn site_flags(sites: &SiteTable) -> Arc<[u8]> {
    allocator_sites(sites)
        .iter()
        .zip(join_sites(sites).iter())
        .map(|(&a, &j)| (a as u8 * ALLOCATOR_SITE) | (j as u8 * JOIN_SITE))
        .collect()
}

fn allocator_sites(sites: &SiteTable) -> Vec<bool> {
    let files: Vec<bool> = sites
        .files
        .iter()
        .map(|f| ALLOCATOR_PATHS.iter().any(|p| f.contains(p)))
        .collect();
    sites
        .sites
        .iter()
        .map(|s| s.library && files.get(s.file as usize) == Some(&true))
        .collect()
}

fn join_sites(sites: &SiteTable) -> Vec<bool> {
    let funcs: Vec<bool> = sites
        .funcs
        .iter()
        .map(|f| JOIN_FUNCTIONS.contains(&f.name.as_str()))
        .collect();
    sites
        .sites
        .iter()
        .map(|s| s.library && funcs.get(s.func as usize) == Some(&true))
        .collect()
}

fn bad(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::BadModule, msg)
}

fn engine_error(e: wasmtime::Error) -> Error {
    Error::new(ErrorKind::Engine, format!("wasmtime: {e}"))
}

impl Program {
    /// Loads `wasm` (normally an instrumented module; see `interlace-instrument`).
    /// `name` becomes the guest's `argv[0]`.
    pub fn new(wasm: &[u8], name: &str) -> Result<Program> {
        Program::new_cached(wasm, name, None)
    }

    /// [`Program::new`], taking the compiled module from `cache` (a
    /// directory) when it holds it, and storing it there otherwise.
    pub fn new_cached(wasm: &[u8], name: &str, cache: Option<&std::path::Path>) -> Result<Program> {
        if wasm.len() < 8 || &wasm[0..4] != b"\0asm" {
            return Err(bad("not a WebAssembly module (no \\0asm header); pass a .wasm file built for wasm32-wasip1-threads"));
        }
        let sites = match abi::find_site_section(wasm) {
            Some(bytes) => SiteTable::decode(bytes).map_err(|e| bad(e.to_string()))?,
            None => SiteTable::default(),
        };
        let mut config = Config::new();
        config
            .wasm_threads(true)
            .shared_memory(true)
            .cranelift_nan_canonicalization(true)
            .epoch_interruption(true)
            .with_host_stack(std::sync::Arc::new(
                crate::runtime::stacks::StackPool::default(),
            ));
        let engine = Engine::new(&config).map_err(engine_error)?;
        let sha256 = crate::cache::sha256_hex(wasm);
        let module = match cache.and_then(|dir| crate::cache::load(dir, &engine, &sha256)) {
            Some(module) => module,
            None => {
                let module = Module::new(&engine, wasm)
                    .map_err(|e| bad(format!("malformed WebAssembly module: {e}")))?;
                if let Some(dir) = cache {
                    crate::cache::store(dir, &engine, &sha256, &module);
                }
                module
            }
        };

        let mut memory_ty = None;
        let mut preview1: Vec<(String, FuncType)> = vec![];
        for import in module.imports() {
            let (m, n) = (import.module(), import.name());
            match (m, n, import.ty()) {
                ("env", "memory", ExternType::Memory(ty)) if ty.is_shared() => memory_ty = Some(ty),
                ("env", "memory", ExternType::Memory(_)) => {
                    return Err(bad(
                        "the module imports a memory that is not shared, so it is not a threaded module; build it with --target wasm32-wasip1-threads",
                    ))
                }
                ("wasi", "thread-spawn", ExternType::Func(_)) => {}
                (abi::IMPORT_MODULE, _, ExternType::Func(_)) => {}
                ("wasi_snapshot_preview1", n, ExternType::Func(ty)) if wasi::PREVIEW1_FUNCTIONS.contains(&n) => {
                    preview1.push((n.to_string(), ty))
                }
                _ => {
                    return Err(Error::new(
                        ErrorKind::UnsupportedImport,
                        format!(
                            "the module imports `{m}.{n}`, which interlace-wasm does not provide; it runs wasm32-wasip1-threads programs that import only WASI preview1, wasi.thread-spawn and a shared env.memory"
                        ),
                    ))
                }
            }
        }
        let memory_ty = memory_ty.ok_or_else(|| {
            bad("the module imports no shared memory (env.memory), so it is not a threaded module; build it with --target wasm32-wasip1-threads")
        })?;
        let exports: Vec<&str> = module.exports().map(|e| e.name()).collect();
        if !exports.contains(&"_start") {
            return Err(bad("the module exports no `_start`: interlace-wasm runs command modules (a program with `main`), not libraries"));
        }
        let spawns = module
            .imports()
            .any(|i| i.module() == "wasi" && i.name() == "thread-spawn");
        if spawns && !exports.contains(&"wasi_thread_start") {
            return Err(bad("the module imports wasi.thread-spawn but exports no `wasi_thread_start`; build it with --target wasm32-wasip1-threads"));
        }

        let mut linker = Linker::new(&engine);
        linker.allow_shadowing(true);
        hooks::add_to_linker(&mut linker).map_err(engine_error)?;
        wasi::add_to_linker(&mut linker, &preview1).map_err(engine_error)?;
        start_epoch_ticker(&engine);
        let virtual_memory = exports.contains(&abi::VIRTUAL_MEMORY_EXPORT);
        Ok(Program {
            id: NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            virtual_memory,
            engine,
            module,
            linker,
            memory_ty,
            site_flags: site_flags(&sites),
            sites: Arc::new(sites),
            sha256,
            name: name.to_string(),
        })
    }

    /// The site table (empty for an uninstrumented module).
    pub fn sites(&self) -> &SiteTable {
        &self.sites
    }

    /// SHA-256 of the module bytes, hex; schedule files name their module by it.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// Exported functions that take and return nothing (test entry points),
    /// in export order, whose names start with `prefix`.
    pub fn entry_points(&self, prefix: &str) -> Vec<String> {
        self.module
            .exports()
            .filter(|e| e.name().starts_with(prefix))
            .filter(|e| matches!(e.ty(), ExternType::Func(f) if f.params().len() == 0 && f.results().len() == 0))
            .map(|e| e.name().to_string())
            .collect()
    }

    /// The guest's `argv[0]`.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// Epoch interruption bounds a guest loop that never reaches a scheduling
/// point; the ticker stops when the engine is dropped.
fn start_epoch_ticker(engine: &Engine) {
    let weak = engine.weak();
    std::thread::spawn(move || loop {
        std::thread::sleep(EPOCH_TICK);
        match weak.upgrade() {
            Some(engine) => engine.increment_epoch(),
            None => return,
        }
    });
}
