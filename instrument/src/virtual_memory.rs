//! The shared memory's size, as the module sees it, is the host's: every
//! `memory.size` and `memory.grow` on it becomes a host call, and every bulk
//! operation on it (`memory.fill`, `memory.copy`, `memory.init`) checks its
//! range against that size first.
//!
//! Why: a fresh memory per execution (a mapping, its page faults, its
//! unmapping) was a fifth of an execution's time. With the size virtual, the
//! host hands the next execution the same memory, zeroed and back at its
//! initial size, and keeps the pages past that size inaccessible, so a load
//! or store there traps as it would in a fresh memory. Bulk operations are
//! wasmtime's host code, which checks against the mapping's size, hence the
//! check here. Applied to every function, the skipped ones too; the module
//! then exports [`abi::VIRTUAL_MEMORY_EXPORT`].

use crate::passes::children;
use interlace_guest_sdk::abi;
use walrus::ir::{self, BinaryOp, Instr, UnaryOp, Value};
use walrus::{FunctionBuilder, FunctionId, GlobalId, MemoryId, Module, ValType};

/// Rewrites `module`'s uses of `shared` (see the module docs). A 64-bit
/// memory (not a wasm32 program) is left alone, unmarked.
pub(crate) fn virtualise(module: &mut Module, shared: MemoryId) {
    if module.memories.get(shared).memory64 {
        return;
    }
    let targets: Vec<FunctionId> = module.funcs.iter_local().map(|(id, _)| id).collect();
    // What the module does with the memory: imports only for that.
    let (mut sizes, mut grows, mut bulk) = (false, false, vec![]);
    for &id in &targets {
        visit(module, id, &mut |instr| match instr {
            Instr::MemorySize(s) if s.memory == shared => sizes = true,
            Instr::MemoryGrow(g) if g.memory == shared => grows = true,
            other if uses(other, shared) && !bulk.iter().any(|b| same(b, other)) => {
                bulk.push(other.clone())
            }
            _ => {}
        });
    }
    use ValType::{I32, I64};
    let m = abi::IMPORT_MODULE;
    let size = sizes.then(|| {
        let ty = module.types.add(&[], &[I32]);
        module.add_import_func(m, abi::MEMORY_SIZE, ty).0
    });
    let grow = grows.then(|| {
        let ty = module.types.add(&[I32], &[I32]);
        module.add_import_func(m, abi::MEMORY_GROW, ty).0
    });
    let mut helpers = Helpers::default();
    if !bulk.is_empty() {
        let ty = module.types.add(&[I64], &[I32]);
        let host = module.add_import_func(m, abi::MEMORY_BOUNDS, ty).0;
        // The size in bytes last learned from the host: it only grows during
        // an execution, so a range inside it needs no host call.
        let known =
            module
                .globals
                .add_local(I32, true, false, walrus::ConstExpr::Value(Value::I32(0)));
        let bounds = bounds_helper(module, known, host);
        for instr in &bulk {
            helpers.add(module, instr, shared, bounds);
        }
    }
    for id in targets {
        let walrus::FunctionKind::Local(func) = &mut module.funcs.get_mut(id).kind else {
            continue;
        };
        let mut seqs = vec![func.entry_block()];
        while let Some(seq) = seqs.pop() {
            let block = func.block_mut(seq);
            for (instr, _) in block.instrs.iter_mut() {
                seqs.extend(children(instr));
                let call = match &*instr {
                    Instr::MemorySize(s) if s.memory == shared => size,
                    Instr::MemoryGrow(g) if g.memory == shared => grow,
                    other if uses(other, shared) => helpers.find(other),
                    _ => None,
                };
                if let Some(func) = call {
                    *instr = Instr::Call(ir::Call { func });
                }
            }
        }
    }
    let marker =
        module
            .globals
            .add_local(I32, false, false, walrus::ConstExpr::Value(Value::I32(1)));
    module.exports.add(abi::VIRTUAL_MEMORY_EXPORT, marker);
}

fn uses(instr: &Instr, shared: MemoryId) -> bool {
    match instr {
        Instr::MemoryFill(f) => f.memory == shared,
        Instr::MemoryCopy(c) => c.src == shared || c.dst == shared,
        Instr::MemoryInit(i) => i.memory == shared,
        _ => false,
    }
}

/// Calls `f` on every instruction of local function `id`.
fn visit(module: &Module, id: FunctionId, f: &mut impl FnMut(&Instr)) {
    let walrus::FunctionKind::Local(func) = &module.funcs.get(id).kind else {
        return;
    };
    let mut seqs = vec![func.entry_block()];
    while let Some(seq) = seqs.pop() {
        for (instr, _) in &func.block(seq).instrs {
            seqs.extend(children(instr));
            f(instr);
        }
    }
}

/// `fn(addr: i32, len: i32)`: traps (through the host) unless
/// `[addr, addr + len)` lies inside the memory.
fn bounds_helper(module: &mut Module, known: GlobalId, host: FunctionId) -> FunctionId {
    use ValType::{I32, I64};
    let addr = module.locals.add(I32);
    let len = module.locals.add(I32);
    let end = module.locals.add(I64);
    let mut b = FunctionBuilder::new(&mut module.types, &[I32, I32], &[]);
    b.name("__interlace_memory_bounds".to_string());
    b.func_body()
        .local_get(addr)
        .unop(UnaryOp::I64ExtendUI32)
        .local_get(len)
        .unop(UnaryOp::I64ExtendUI32)
        .binop(BinaryOp::I64Add)
        .local_tee(end)
        .global_get(known)
        .unop(UnaryOp::I64ExtendUI32)
        .binop(BinaryOp::I64GtU)
        .if_else(
            None,
            |then| {
                then.local_get(end).call(host).global_set(known);
            },
            |_| {},
        );
    b.finish(vec![addr, len], &mut module.funcs)
}

/// One checked wrapper per bulk instruction (per data segment for `memory.init`).
#[derive(Default)]
struct Helpers(Vec<(Instr, FunctionId)>);

impl Helpers {
    fn find(&self, instr: &Instr) -> Option<FunctionId> {
        self.0.iter().find(|(i, _)| same(i, instr)).map(|h| h.1)
    }

    fn add(&mut self, module: &mut Module, instr: &Instr, shared: MemoryId, bounds: FunctionId) {
        use ValType::I32;
        let (a, b, n) = (
            module.locals.add(I32),
            module.locals.add(I32),
            module.locals.add(I32),
        );
        let mut f = FunctionBuilder::new(&mut module.types, &[I32, I32, I32], &[]);
        let what = match instr {
            Instr::MemoryFill(_) => "fill",
            Instr::MemoryCopy(_) => "copy",
            _ => "init",
        };
        f.name(format!("__interlace_checked_{what}{}", self.0.len()));
        let mut body = f.func_body();
        // Operands: [dst, src or value or segment offset, len].
        let (dst, src) = match instr {
            Instr::MemoryCopy(c) => (c.dst == shared, c.src == shared),
            _ => (true, false),
        };
        if dst {
            body.local_get(a).local_get(n).call(bounds);
        }
        if src {
            body.local_get(b).local_get(n).call(bounds);
        }
        body.local_get(a)
            .local_get(b)
            .local_get(n)
            .instr(instr.clone());
        let id = f.finish(vec![a, b, n], &mut module.funcs);
        self.0.push((instr.clone(), id));
    }
}

/// The same instruction (walrus' `Instr` has no `PartialEq`).
fn same(a: &Instr, b: &Instr) -> bool {
    match (a, b) {
        (Instr::MemoryFill(x), Instr::MemoryFill(y)) => x.memory == y.memory,
        (Instr::MemoryCopy(x), Instr::MemoryCopy(y)) => x.src == y.src && x.dst == y.dst,
        (Instr::MemoryInit(x), Instr::MemoryInit(y)) => x.memory == y.memory && x.data == y.data,
        _ => false,
    }
}
