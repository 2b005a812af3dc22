//! The rewrite of one function: walk every instruction sequence, put a hook
//! call before each scheduling point, replace wait/notify.

mod classify;

use crate::hooks::Hooks;
use classify::{classify, Action};
use interlace_guest_sdk::abi::{AccessKind, Granularity, Site, NO_FILE};
use walrus::ir::{self, Instr, InstrLocId, InstrSeqId, LegacyCatch, Value};
use walrus::{FunctionId, FunctionKind, LocalId, Module, ModuleLocals, ValType};

/// Scratch locals of one function, created on first use.
#[derive(Default)]
struct Scratch {
    locals: Vec<(ValType, usize, LocalId)>,
}

impl Scratch {
    /// The `slot`-th scratch local of type `ty`.
    fn get(&mut self, locals: &mut ModuleLocals, ty: ValType, slot: usize) -> LocalId {
        if let Some(&(_, _, id)) = self.locals.iter().find(|(t, s, _)| *t == ty && *s == slot) {
            return id;
        }
        let id = locals.add(ty);
        self.locals.push((ty, slot, id));
        id
    }
}

/// Sequence ids of `func`, outermost first, in instruction order (so site ids
/// are the same for the same input).
fn sequences(func: &walrus::LocalFunction) -> Vec<InstrSeqId> {
    let mut out = vec![];
    let mut stack = vec![func.entry_block()];
    while let Some(id) = stack.pop() {
        out.push(id);
        let mut children = vec![];
        for (instr, _) in &func.block(id).instrs {
            match instr {
                Instr::Block(b) => children.push(b.seq),
                Instr::Loop(l) => children.push(l.seq),
                Instr::IfElse(i) => children.extend([i.consequent, i.alternative]),
                Instr::TryTable(t) => children.push(t.seq),
                Instr::Try(t) => {
                    children.push(t.seq);
                    for c in &t.catches {
                        match c {
                            LegacyCatch::Catch { handler, .. } | LegacyCatch::CatchAll { handler } => {
                                children.push(*handler)
                            }
                            LegacyCatch::Delegate { .. } => {}
                        }
                    }
                }
                _ => {}
            }
        }
        stack.extend(children.into_iter().rev());
    }
    out
}

fn local_get(local: LocalId) -> Instr {
    Instr::LocalGet(ir::LocalGet { local })
}
fn local_set(local: LocalId) -> Instr {
    Instr::LocalSet(ir::LocalSet { local })
}
fn local_tee(local: LocalId) -> Instr {
    Instr::LocalTee(ir::LocalTee { local })
}
fn i32_const(v: u32) -> Instr {
    Instr::Const(ir::Const { value: Value::I32(v as i32) })
}
fn call(func: FunctionId) -> Instr {
    Instr::Call(ir::Call { func })
}

/// Rewrites function `id`, appending its sites to `sites`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn rewrite_function(
    module: &mut Module,
    id: FunctionId,
    shared: walrus::MemoryId,
    hooks: &Hooks,
    granularity: Granularity,
    func_index: u32,
    sites: &mut Vec<Site>,
) {
    let Module { funcs, locals, .. } = module;
    let FunctionKind::Local(func) = &mut funcs.get_mut(id).kind else {
        return;
    };
    let mut scratch = Scratch::default();
    for seq in sequences(func) {
        let old = std::mem::take(&mut func.block_mut(seq).instrs);
        let mut new: Vec<(Instr, InstrLocId)> = Vec::with_capacity(old.len());
        for (instr, loc) in old {
            let action = classify(&instr, shared, granularity);
            let mut site = |kind: AccessKind, size: u32, atomic: bool, offset: u64| {
                sites.push(Site {
                    kind,
                    size,
                    atomic,
                    offset,
                    func: func_index,
                    code_offset: loc.data(),
                    file: NO_FILE,
                    line: 0,
                    column: 0,
                    library: false,
                });
                (sites.len() - 1) as u32
            };
            let mut emit = |i: Instr| new.push((i, loc));
            match action {
                Action::Keep => emit(instr),
                Action::Access { kind, size, atomic, offset, above } => {
                    let id = site(kind, size, atomic, offset);
                    let saved: Vec<LocalId> = above
                        .iter()
                        .enumerate()
                        .map(|(slot, &ty)| scratch.get(locals, ty, slot))
                        .collect();
                    for &l in saved.iter().rev() {
                        emit(local_set(l));
                    }
                    let addr = scratch.get(locals, ValType::I32, 9);
                    emit(local_tee(addr));
                    emit(i32_const(id));
                    emit(call(hooks.access));
                    emit(local_get(addr));
                    for &l in &saved {
                        emit(local_get(l));
                    }
                    emit(instr);
                }
                Action::NoAddress { kind } => {
                    let id = site(kind, 0, kind == AccessKind::Fence, 0);
                    emit(i32_const(0));
                    emit(i32_const(id));
                    emit(call(hooks.access));
                    emit(instr);
                }
                Action::Bulk { copy } => {
                    let kind = if copy { AccessKind::Copy } else { AccessKind::Fill };
                    let id = site(kind, 0, false, 0);
                    let (d, x, n) = (
                        scratch.get(locals, ValType::I32, 10),
                        scratch.get(locals, ValType::I32, 11),
                        scratch.get(locals, ValType::I32, 12),
                    );
                    emit(local_set(n));
                    emit(local_set(x));
                    emit(local_tee(d));
                    emit(local_get(x));
                    emit(local_get(n));
                    emit(i32_const(id));
                    emit(call(hooks.bulk));
                    emit(local_get(d));
                    emit(local_get(x));
                    emit(local_get(n));
                    emit(instr);
                }
                Action::Wait { sixty_four, offset } => {
                    let id = site(AccessKind::Wait, if sixty_four { 8 } else { 4 }, true, offset);
                    emit(i32_const(id));
                    emit(call(if sixty_four { hooks.wait64 } else { hooks.wait32 }));
                }
                Action::Notify { offset } => {
                    let id = site(AccessKind::Notify, 4, true, offset);
                    emit(i32_const(id));
                    emit(call(hooks.notify));
                }
            }
        }
        func.block_mut(seq).instrs = new;
    }
}
