//! Rewrites a `wasm32-wasip1-threads` module so that the interlace-wasm host
//! decides the interleaving of its threads.
//!
//! Before every atomic instruction and every load/store on shared memory the
//! rewritten module calls the host with a site id and the dynamic address;
//! `memory.atomic.wait*`/`notify` become host calls, so blocking is modelled by
//! the host instead of freezing it.
//!
//! ```
//! use interlace_instrument::{instrument, Config};
//! let wasm = wat::parse_str(r#"
//!   (module
//!     (memory (export "memory") 1 1 shared)
//!     (func (export "get") (result i32) (i32.atomic.load (i32.const 8))))
//! "#).unwrap();
//! let out = instrument(&wasm, &Config::default()).unwrap();
//! assert_eq!(out.sites.sites.len(), 1);
//! assert_eq!(out.count("read"), 1);
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod comments;
mod dwarf;
mod error;
mod hooks;
mod passes;
mod stack_filter;
mod thread_setup;
mod virtual_memory;

pub use error::Error;
pub use interlace_guest_sdk::abi::{AccessKind, Granularity, SiteTable};

use interlace_guest_sdk::abi::{self, FuncInfo};
use std::collections::BTreeMap;

/// How to instrument.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// Which instructions become scheduling points. Default: every shared access.
    pub granularity: Granularity,
}

/// The rewritten module and what was done to it.
#[derive(Clone, Debug)]
pub struct Instrumented {
    /// The rewritten module.
    pub wasm: Vec<u8>,
    /// The sites, also embedded in the module's `interlace.sites` section.
    pub sites: SiteTable,
    /// Functions rewritten.
    pub functions_instrumented: usize,
    /// Functions left alone (memory and TLS initialisation).
    pub functions_skipped: usize,
}

impl Instrumented {
    /// Number of sites of the kind named `name` (see [`AccessKind::name`]).
    pub fn count(&self, name: &str) -> usize {
        self.sites
            .sites
            .iter()
            .filter(|s| s.kind.name() == name)
            .count()
    }

    /// Site counts per kind, in kind order, kinds with no sites omitted.
    pub fn counts(&self) -> BTreeMap<AccessKind, usize> {
        let mut m = BTreeMap::new();
        for s in &self.sites.sites {
            *m.entry(s.kind).or_insert(0) += 1;
        }
        m
    }
}

/// Whether `wasm` already carries an interlace site table.
pub fn is_instrumented(wasm: &[u8]) -> bool {
    abi::find_site_section(wasm).is_some()
}

/// Function names whose accesses are never scheduling points: they run while a
/// thread's instance is created (memory and TLS initialisation), before the
/// thread exists for the scheduler.
pub const SKIPPED_FUNCTIONS: &[&str] = &[
    "__wasm_init_memory",
    "__wasm_init_tls",
    "__wasm_apply_data_relocs",
    "__wasm_apply_global_relocs",
    "__wasm_apply_tls_relocs",
];

/// Rewrites `wasm`. Fails on a malformed module, one without shared memory, or
/// one that is already instrumented.
pub fn instrument(wasm: &[u8], config: &Config) -> Result<Instrumented, Error> {
    if wasm.len() < 4 || &wasm[0..4] != b"\0asm" {
        return Err(Error::NotWasm);
    }
    if is_instrumented(wasm) {
        return Err(Error::AlreadyInstrumented);
    }
    let mut module = walrus::ModuleConfig::new()
        .generate_producers_section(false)
        .parse(wasm)
        .map_err(|e| Error::Parse(format!("{e:#}")))?;

    let shared: Vec<walrus::MemoryId> = module
        .memories
        .iter()
        .filter(|m| m.shared)
        .map(|m| m.id())
        .collect();
    match shared.len() {
        0 => return Err(Error::NoSharedMemory),
        1 => {}
        n => return Err(Error::MultipleSharedMemories(n)),
    }
    let shared = shared[0];

    let targets: Vec<walrus::FunctionId> = module.funcs.iter_local().map(|(id, _)| id).collect();
    let mut hooks = hooks::Hooks::add(&mut module);
    if config.granularity == Granularity::All {
        hooks.add_stack_filter(&mut module, shared);
    }

    let sections = abi::sections(wasm);
    let (found, marker_names) = comments::find(&sections);
    let marker_lines = comments::MarkerLines::new(found, &marker_names);
    if !marker_lines.is_empty() {
        // guest-sdk's gate, when linked: a comment marker inside a task is
        // then a task switch (see `abi::MARKER_GATE_EXPORT`).
        let gate = module.exports.iter().find_map(|e| match e.item {
            walrus::ExportItem::Function(f) if e.name == abi::MARKER_GATE_EXPORT => {
                let ty = module.types.get(module.funcs.get(f).ty());
                (ty.params() == [walrus::ValType::I32] && ty.results().is_empty()).then_some(f)
            }
            _ => None,
        });
        let ty = module.types.add(&[walrus::ValType::I32], &[]);
        hooks.marker_id = Some(gate.unwrap_or_else(|| {
            module
                .add_import_func(abi::IMPORT_MODULE, abi::MARKER_ID, ty)
                .0
        }));
    }
    use walrus::ValType::I32;
    if let Some(id) = find_function(&module, passes::is_lock_contended, &[I32], &[]) {
        hooks.add_lock(&mut module, id);
    }
    for model in passes::MODELS {
        if let Some(id) = find_function(&module, |n| model.names(n), &[I32], &[I32]) {
            hooks.add_pthread_model(&mut module, model, id);
        }
    }
    // Left alone like the named one (see SKIPPED_FUNCTIONS).
    let init_tls = thread_setup::init_tls_by_shape(&module);
    let locator = dwarf::Locator::new(&sections);
    let code_start = sections
        .iter()
        .find(|s| s.id == 10)
        .map_or(0, |s| s.payload_offset as u32);

    let sync_words = passes::sync_words(&module, shared, config.granularity);
    let mut placed = std::collections::HashSet::new();
    let mut table = SiteTable {
        granularity: config.granularity,
        funcs: Vec::new(),
        files: Vec::new(),
        sites: Vec::new(),
        markers: marker_names,
        bookkeeping: locator.bookkeeping(),
    };
    let mut instrumented = 0;
    let mut skipped = 0;
    for id in targets {
        let func = module.funcs.get(id);
        let name = func.name.clone().unwrap_or_default();
        if Some(id) == module.start
            || Some(id) == init_tls
            || SKIPPED_FUNCTIONS.contains(&name.as_str())
        {
            skipped += 1;
            continue;
        }
        let func_index = table.funcs.len() as u32;
        let before = table.sites.len();
        if let Some((lock, _)) = hooks.lock.filter(|&(_, target)| target == id) {
            passes::replace_lock_contended(
                &mut module,
                id,
                lock,
                shared,
                func_index,
                &mut table.sites,
            );
        } else {
            passes::rewrite_function(
                &mut module,
                id,
                shared,
                &mut passes::Markers {
                    lines: &marker_lines,
                    locator: &locator,
                    code_start,
                    placed: &mut placed,
                    sync_words: &sync_words,
                },
                &hooks,
                if abi::JOIN_FUNCTIONS.contains(&name.as_str()) {
                    Granularity::All
                } else {
                    config.granularity
                },
                func_index,
                &mut table.sites,
            );
            if let Some(shape) = passes::allocation_shape(&name) {
                let ty = module.types.get(module.funcs.get(id).ty());
                let want: &[walrus::ValType] = match shape {
                    passes::Shape::Malloc => &[I32],
                    _ => &[I32, I32],
                };
                if ty.params() == want && ty.results() == [I32] {
                    let hook = hooks.allocated(&mut module);
                    passes::announce_allocation(&mut module, id, shape, hook);
                    if let passes::Shape::Realloc = shape {
                        let hook = hooks.freed(&mut module);
                        passes::announce_free(&mut module, id, hook);
                    }
                }
            }
            if name == "free" {
                let ty = module.types.get(module.funcs.get(id).ty());
                if ty.params() == [I32] && ty.results().is_empty() {
                    let hook = hooks.freed(&mut module);
                    passes::announce_free(&mut module, id, hook);
                }
            }
            let model = hooks
                .pthread_models
                .iter()
                .find(|&&(_, _, target)| target == id)
                .map(|&(model, import, _)| (model, import));
            if let Some((model, import)) = model {
                passes::model_pthread(
                    &mut module,
                    id,
                    model,
                    import,
                    shared,
                    func_index,
                    &mut table.sites,
                );
            }
        }
        if table.sites.len() > before {
            table.funcs.push(FuncInfo {
                index: id.index() as u32,
                name,
            });
        }
        instrumented += 1;
    }
    marker_lines.check_placed(&placed)?;
    // Code offsets relative to the code section payload, as DWARF has them.
    // Code without line info in a module that has some is prebuilt library
    // code (wasi-libc's assembly, say).
    let mut files: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
    for site in &mut table.sites {
        site.code_offset = site.code_offset.wrapping_sub(code_start);
        let loc = locator.locate(u64::from(site.code_offset));
        site.library = locator.is_library(loc.as_ref());
        if let Some(loc) = loc {
            let next = table.files.len() as u32;
            site.file = *files.entry(loc.file).or_insert_with_key(|f| {
                table.files.push(f.clone());
                next
            });
            site.line = loc.line;
            site.column = loc.column;
        }
    }
    if let Some(filter) = &hooks.stack {
        stack_filter::track_thread_start(&mut module, filter);
    }
    thread_setup::export(&mut module, init_tls);
    virtual_memory::virtualise(&mut module, shared);
    module.customs.add(walrus::RawCustomSection {
        name: abi::SITES_SECTION.to_string(),
        data: table.encode(),
    });
    Ok(Instrumented {
        wasm: module.emit_wasm(),
        sites: table,
        functions_instrumented: instrumented,
        functions_skipped: skipped,
    })
}

/// The local function whose name satisfies `named`, with this signature.
fn find_function(
    module: &walrus::Module,
    named: impl Fn(&str) -> bool,
    params: &[walrus::ValType],
    results: &[walrus::ValType],
) -> Option<walrus::FunctionId> {
    module.funcs.iter_local().find_map(|(id, f)| {
        let name = module.funcs.get(id).name.as_deref()?;
        let ty = module.types.get(f.ty());
        (named(name) && ty.params() == params && ty.results() == results).then_some(id)
    })
}
