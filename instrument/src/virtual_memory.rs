//! The shared memory's size, as the module sees it, is the host's: every
//! `memory.size` and `memory.grow` on it becomes a host call, and every
//! access to it (load, store, atomic, and the bulk `memory.fill`,
//! `memory.copy`, `memory.init`) checks its bytes against that size first.
//!
//! Why: a fresh memory per execution (a mapping, its page faults, its
//! unmapping) was a fifth of an execution's time. With the size virtual, the
//! host hands the next execution the same memory, zeroed and back at its
//! initial size. The pages an earlier execution grew into stay mapped and
//! open (closing them after each execution and opening them at each
//! `memory.grow` cost two `mprotect`s and a page fault per touched page:
//! a quarter of a small program's execution), so wasmtime's guard pages no
//! longer stop an access past the module's size: the check here does, and
//! traps as a fresh memory would. The size only grows during an execution,
//! so each instance keeps the last size it learned in a global and asks the
//! host only for an access past it. Applied to every function, the skipped
//! ones and the instrumenter's own too, after the other rewrites (a check
//! sits right before its access, after any scheduling point: another thread
//! may grow the memory in between); the module then exports
//! [`abi::VIRTUAL_MEMORY_EXPORT`].

use crate::passes::{
    call, children, classify, i32_const, local_get, local_set, unop, Action, Scratch,
};
use interlace_guest_sdk::abi;
use walrus::ir::{self, BinaryOp, Instr, InstrLocId, InstrSeqType, UnaryOp, Value};
use walrus::{FunctionBuilder, FunctionId, GlobalId, LocalId, MemoryId, Module, ValType};

/// Bytes in a wasm page.
const PAGE: u64 = 1 << 16;

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
    let ty = module.types.add(&[I64], &[I32]);
    let host = module.add_import_func(m, abi::MEMORY_BOUNDS, ty).0;
    // The size in bytes last learned from the host: it only grows during
    // an execution, so a range inside it needs no host call. The initial
    // size to begin with: the memory is never smaller.
    let initial = (module.memories.get(shared).initial * PAGE).min(u64::from(u32::MAX));
    let known = module.globals.add_local(
        I32,
        true,
        false,
        walrus::ConstExpr::Value(Value::I32(initial as u32 as i32)),
    );
    let bounds = bounds_helper(module, known, host);
    for instr in &bulk {
        helpers.add(module, instr, shared, bounds);
    }
    for &id in &targets {
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
    check_accesses(module, shared, &targets, known, bounds);
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

/// What the bounds check of an access needs.
struct Access {
    /// Its end past the dynamic address: offset + size.
    end: u64,
    /// Operand types above the address.
    above: Vec<ValType>,
    /// An atomic's offset and size: it traps as unaligned before it can
    /// trap as out of bounds (wasmtime's order), so the check leaves a
    /// misaligned one to the instruction.
    atomic: Option<(u64, u64)>,
}

/// The bounds check an access instruction on `shared` needs; None for
/// anything else (bulk operations have their helpers).
fn access(instr: &Instr, shared: MemoryId) -> Option<Access> {
    use ValType::{I32, I64};
    let atomic = |offset: u64, size: u64, above: Vec<ValType>| Access {
        end: offset + size,
        above,
        atomic: Some((offset, size)),
    };
    match instr {
        Instr::AtomicWait(w) if w.memory == shared => {
            let (size, ty) = if w.sixty_four { (8, I64) } else { (4, I32) };
            Some(atomic(w.arg.offset, size, vec![ty, I64]))
        }
        Instr::AtomicNotify(n) if n.memory == shared => Some(atomic(n.arg.offset, 4, vec![I32])),
        _ => match classify(instr, shared, abi::Granularity::All) {
            Action::Access {
                size,
                offset,
                above,
                atomic: true,
                ..
            } => Some(atomic(offset, u64::from(size), above)),
            Action::Access {
                size,
                offset,
                above,
                ..
            } => Some(Access {
                end: offset + u64::from(size),
                above,
                atomic: None,
            }),
            _ => None,
        },
    }
}

/// Puts a bounds check right before every load, store and atomic on
/// `shared` in `targets` (see the module docs): past the size the instance
/// `known`s, `bounds` asks the host, which traps when the access is out of
/// bounds. The fast path is inline: a block the check branches out of.
fn check_accesses(
    module: &mut Module,
    shared: MemoryId,
    targets: &[FunctionId],
    known: GlobalId,
    bounds: FunctionId,
) {
    let Module { funcs, locals, .. } = module;
    for &id in targets {
        let walrus::FunctionKind::Local(func) = &mut funcs.get_mut(id).kind else {
            continue;
        };
        let mut seqs = vec![];
        let mut todo = vec![func.entry_block()];
        while let Some(seq) = todo.pop() {
            seqs.push(seq);
            for (instr, _) in &func.block(seq).instrs {
                todo.extend(children(instr));
            }
        }
        let mut scratch = Scratch::default();
        for seq in seqs {
            if !func
                .block(seq)
                .instrs
                .iter()
                .any(|(i, _)| access(i, shared).is_some())
            {
                continue;
            }
            let old = std::mem::take(&mut func.block_mut(seq).instrs);
            let mut new: Vec<(Instr, InstrLocId)> = Vec::with_capacity(old.len() * 2);
            for (instr, loc) in old {
                let Some(Access { end, above, atomic }) = access(&instr, shared) else {
                    new.push((instr, loc));
                    continue;
                };
                // Past 4 GiB no wasm32 memory reaches: the host traps.
                let end = u32::try_from(end).unwrap_or(u32::MAX);
                let saved: Vec<LocalId> = above
                    .iter()
                    .enumerate()
                    .map(|(slot, &ty)| scratch.get(locals, ty, slot))
                    .collect();
                let addr = scratch.get(locals, ValType::I32, 9);
                let check = func
                    .builder_mut()
                    .dangling_instr_seq(InstrSeqType::Simple(None))
                    .id();
                let mut body = vec![
                    local_get(addr),
                    unop(UnaryOp::I64ExtendUI32),
                    Instr::Const(ir::Const {
                        value: Value::I64(i64::from(end)),
                    }),
                    Instr::Binop(ir::Binop {
                        op: BinaryOp::I64Add,
                    }),
                    Instr::GlobalGet(ir::GlobalGet { global: known }),
                    unop(UnaryOp::I64ExtendUI32),
                    Instr::Binop(ir::Binop {
                        op: BinaryOp::I64LeU,
                    }),
                    Instr::BrIf(ir::BrIf { block: check }),
                ];
                if let Some((offset, size)) = atomic {
                    // Misaligned (the low bits of the wrapping i32 sum are
                    // the effective address's): the instruction traps.
                    body.extend([
                        local_get(addr),
                        i32_const(offset as u32),
                        Instr::Binop(ir::Binop {
                            op: BinaryOp::I32Add,
                        }),
                        i32_const(size as u32 - 1),
                        Instr::Binop(ir::Binop {
                            op: BinaryOp::I32And,
                        }),
                        Instr::BrIf(ir::BrIf { block: check }),
                    ]);
                }
                body.extend([local_get(addr), i32_const(end), call(bounds)]);
                func.block_mut(check)
                    .instrs
                    .extend(body.into_iter().map(|i| (i, loc)));
                for &l in saved.iter().rev() {
                    new.push((local_set(l), loc));
                }
                new.push((local_set(addr), loc));
                new.push((Instr::Block(ir::Block { seq: check }), loc));
                new.push((local_get(addr), loc));
                for &l in &saved {
                    new.push((local_get(l), loc));
                }
                new.push((instr, loc));
            }
            func.block_mut(seq).instrs = new;
        }
    }
}
