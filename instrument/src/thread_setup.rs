//! What the host needs to start a thread that wasm does not export by
//! default: the stack pointer, a TLS initialiser (for guest-sdk
//! lightweight threads), and what `_start` runs before `main`.

use interlace_guest_sdk::abi;
use walrus::ir::{self, Instr};
use walrus::{DataKind, FunctionBuilder, ValType};

/// The linker's `__wasm_init_tls(mem)` when the name section does not name
/// it (a Rust release build): the function of type `(i32) -> ()` that sets
/// the `__tls_base` global and copies the TLS image with `memory.init`.
pub(crate) fn init_tls_by_shape(module: &walrus::Module) -> Option<walrus::FunctionId> {
    let tls_base = module
        .globals
        .iter()
        .find(|g| g.name.as_deref() == Some("__tls_base"))?
        .id();
    module.funcs.iter_local().find_map(|(id, f)| {
        let ty = module.types.get(f.ty());
        if ty.params() != [walrus::ValType::I32] || !ty.results().is_empty() {
            return None;
        }
        let body = &f.block(f.entry_block()).instrs;
        let sets = body
            .iter()
            .any(|(i, _)| matches!(i, Instr::GlobalSet(g) if g.global == tls_base));
        let inits = body.iter().any(|(i, _)| matches!(i, Instr::MemoryInit(_)));
        (sets && inits).then_some(id)
    })
}

/// Exports what the host needs and wasm does not export by default: the
/// stack pointer global and the TLS initialiser (to start a guest-sdk
/// lightweight thread), and what `_start` runs before `main` (to run a test
/// function instead of `_start`). `init_tls`: [`init_tls_by_shape`]'s
/// answer, found before the rewrite.
pub(crate) fn export(module: &mut walrus::Module, init_tls: Option<walrus::FunctionId>) {
    let sp = module
        .globals
        .iter()
        .find(|g| g.name.as_deref() == Some("__stack_pointer"))
        .map(|g| g.id());
    if let Some(sp) = sp {
        module.exports.add(abi::STACK_POINTER_EXPORT, sp);
    }
    let funcs = abi::INIT_EXPORTS
        .into_iter()
        .chain([("__wasm_init_tls", abi::INIT_TLS_EXPORT)]);
    for (name, export) in funcs {
        // By the name section, or by an export of that name (the linker
        // exports `__wasm_init_tls` of a threads module, and a release build
        // may have no name for it).
        let f = module
            .funcs
            .iter()
            .find(|f| f.name.as_deref() == Some(name))
            .map(|f| f.id())
            .or_else(|| {
                module.exports.iter().find_map(|e| match e.item {
                    walrus::ExportItem::Function(f) if e.name == name => Some(f),
                    _ => None,
                })
            });
        let f = f.or_else(|| {
            (name == "__wasm_init_tls").then(|| init_tls.or_else(|| synthesize_init_tls(module)))?
        });
        if let Some(f) = f {
            module.exports.add(export, f);
        }
    }
}

/// A TLS initialiser when the linker made none (a program that never calls
/// `pthread_create` has no `__wasm_init_tls`; its `.tdata` is copied once,
/// for the main thread, by `__wasm_init_memory`, which then drops the
/// segment): a copy of `.tdata` as a passive segment of its own, and
/// `(mem) { __tls_base = mem; memory.init(mem, copy) }`. The `.tbss` after
/// it is the zeroed memory the thread's TLS block starts as.
fn synthesize_init_tls(module: &mut walrus::Module) -> Option<walrus::FunctionId> {
    let tls_base = module
        .globals
        .iter()
        .find(|g| g.name.as_deref() == Some("__tls_base"))?
        .id();
    let tdata = module
        .data
        .iter()
        .find(|d| d.name.as_deref() == Some(".tdata"))?
        .value
        .clone();
    let memory = module.memories.iter().find(|m| m.shared)?.id();
    let len = tdata.len() as i32;
    let copy = module.data.add(DataKind::Passive, tdata);
    let mut b = FunctionBuilder::new(&mut module.types, &[ValType::I32], &[]);
    let mem = module.locals.add(ValType::I32);
    b.func_body()
        .local_get(mem)
        .global_set(tls_base)
        .local_get(mem)
        .i32_const(0)
        .i32_const(len)
        .instr(Instr::MemoryInit(ir::MemoryInit { memory, data: copy }));
    Some(b.finish(vec![mem], &mut module.funcs))
}
