//! The rewrite of one function: walk every instruction sequence, put a hook
//! call before each scheduling point, replace wait/notify.

mod allocation;
mod classify;
mod pthread_models;

pub(crate) use allocation::{
    allocation_shape, announce as announce_allocation, announce_free, Shape,
};
pub(crate) use pthread_models::{prepend as model_pthread, Import, Model, MODELS};

use crate::comments::MarkerLines;
use crate::dwarf::{Locator, Private};
use crate::hooks::Hooks;
use crate::stack_filter::StackFilter;
pub(crate) use classify::{classify, Action};
use interlace_guest_sdk::abi::{AccessKind, Granularity, Site, NO_FILE};
use std::collections::HashSet;
use walrus::ir::{self, Instr, InstrLocId, InstrSeqId, LegacyCatch, Value};
use walrus::{FunctionId, FunctionKind, LocalId, Module, ModuleLocals, ValType};

/// Scratch locals of one function, created on first use.
#[derive(Default)]
pub(crate) struct Scratch {
    locals: Vec<(ValType, usize, LocalId)>,
}

impl Scratch {
    /// The `slot`-th scratch local of type `ty`.
    pub(crate) fn get(&mut self, locals: &mut ModuleLocals, ty: ValType, slot: usize) -> LocalId {
        if let Some(&(_, _, id)) = self.locals.iter().find(|(t, s, _)| *t == ty && *s == slot) {
            return id;
        }
        let id = locals.add(ty);
        self.locals.push((ty, slot, id));
        id
    }
}

/// Child sequences of a structured instruction, in order.
pub(crate) fn children(instr: &Instr) -> Vec<InstrSeqId> {
    match instr {
        Instr::Block(b) => vec![b.seq],
        Instr::Loop(l) => vec![l.seq],
        Instr::IfElse(i) => vec![i.consequent, i.alternative],
        Instr::TryTable(t) => vec![t.seq],
        Instr::Try(t) => {
            let mut v = vec![t.seq];
            for c in &t.catches {
                match c {
                    LegacyCatch::Catch { handler, .. } | LegacyCatch::CatchAll { handler } => {
                        v.push(*handler)
                    }
                    LegacyCatch::Delegate { .. } => {}
                }
            }
            v
        }
        _ => vec![],
    }
}

pub(crate) fn local_get(local: LocalId) -> Instr {
    Instr::LocalGet(ir::LocalGet { local })
}
pub(crate) fn local_set(local: LocalId) -> Instr {
    Instr::LocalSet(ir::LocalSet { local })
}
fn local_tee(local: LocalId) -> Instr {
    Instr::LocalTee(ir::LocalTee { local })
}
pub(crate) fn i32_const(v: u32) -> Instr {
    Instr::Const(ir::Const {
        value: Value::I32(v as i32),
    })
}
pub(crate) fn call(func: FunctionId) -> Instr {
    Instr::Call(ir::Call { func })
}
pub(crate) fn unop(op: ir::UnaryOp) -> Instr {
    Instr::Unop(ir::Unop { op })
}

/// Pushes the value in `v` (of type `ty`) as an integer of its width, a
/// float by its bits: `Some(true)` for 64 bits, `Some(false)` for 32, None
/// (nothing pushed) for a `v128`.
fn push_int(emit: &mut impl FnMut(Instr), v: LocalId, ty: ValType) -> Option<bool> {
    let (wide, bits) = match ty {
        ValType::I32 => (false, None),
        ValType::F32 => (false, Some(ir::UnaryOp::I32ReinterpretF32)),
        ValType::I64 => (true, None),
        ValType::F64 => (true, Some(ir::UnaryOp::I64ReinterpretF64)),
        _ => return None,
    };
    emit(local_get(v));
    if let Some(op) = bits {
        emit(unop(op));
    }
    Some(wide)
}

/// Checks the value in `v` (of type `ty`) as a pointer that may leave the
/// stack (see [`crate::stack_filter`]); a `v128` lane by lane.
fn escape(emit: &mut impl FnMut(Instr), f: &StackFilter, v: LocalId, ty: ValType) {
    match push_int(emit, v, ty) {
        Some(wide) => emit(call(if wide { f.escape64 } else { f.escape32 })),
        None if ty == ValType::V128 => {
            for idx in 0..2 {
                emit(local_get(v));
                emit(unop(ir::UnaryOp::I64x2ExtractLane { idx }));
                emit(call(f.escape64));
            }
        }
        None => {}
    }
}

/// Appends a site at `loc` of function `func` (source line and library
/// flag are filled in later from DWARF); returns its id.
fn push_site(
    sites: &mut Vec<Site>,
    kind: AccessKind,
    size: u32,
    atomic: bool,
    offset: u64,
    func: u32,
    loc: InstrLocId,
) -> u32 {
    sites.push(Site {
        kind,
        size,
        atomic,
        offset,
        func,
        code_offset: loc.data(),
        file: NO_FILE,
        line: 0,
        column: 0,
        library: false,
    });
    (sites.len() - 1) as u32
}

/// Rewrites function `id`, appending its sites to `sites`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn rewrite_function(
    module: &mut Module,
    id: FunctionId,
    shared: walrus::MemoryId,
    markers: &mut Markers<'_, '_>,
    hooks: &Hooks,
    granularity: Granularity,
    func_index: u32,
    sites: &mut Vec<Site>,
) {
    let Module { funcs, locals, .. } = module;
    let FunctionKind::Local(func) = &mut funcs.get_mut(id).kind else {
        return;
    };
    let entry = func.entry_block();
    let mut cx = Rewriter {
        locals,
        markers,
        placed_here: vec![],
        hooks,
        shared,
        granularity,
        func_index,
        sites,
        scratch: Scratch::default(),
    };
    cx.rewrite(func, entry);
}

struct Rewriter<'a, 'm, 'w> {
    locals: &'a mut ModuleLocals,
    /// Comment markers to place, and which this function has placed.
    markers: &'a mut Markers<'m, 'w>,
    placed_here: Vec<u32>,
    hooks: &'a Hooks,
    shared: walrus::MemoryId,
    granularity: Granularity,
    func_index: u32,
    sites: &'a mut Vec<Site>,
    scratch: Scratch,
}

/// Comment markers to place: the gated lines, where instructions come from,
/// and the lines placed so far.
pub(crate) struct Markers<'a, 'w> {
    pub lines: &'a MarkerLines,
    pub locator: &'a Locator<'w>,
    /// Module offset of the code section payload (DWARF addresses start there).
    pub code_start: u32,
    pub placed: &'a mut HashSet<(String, u32)>,
    /// See [`sync_words`].
    pub sync_words: &'a [(u64, u64)],
}

impl Rewriter<'_, '_, '_> {
    /// The marker to put before the scheduling point at `loc`: the first one
    /// of a gated line in this function.
    fn marker_before(&mut self, loc: InstrLocId) -> Option<u32> {
        let m = &mut *self.markers;
        let lines = m
            .locator
            .program_lines(u64::from(loc.data().wrapping_sub(m.code_start)));
        // The innermost gated line: the instruction may be inlined from a
        // call the gated line makes.
        let (file, line, id) = lines
            .into_iter()
            .find_map(|(f, l)| m.lines.at(&f, l).map(|id| (f, l, id)))?;
        if self.placed_here.contains(&id) {
            return None;
        }
        self.placed_here.push(id);
        m.placed.insert((file, line));
        Some(id)
    }

    /// Whether a plain access at `loc` touches only wasi-libc's own state,
    /// and so is no scheduling point (see `abi::PRIVATE_LIBRARY_FUNCTIONS`
    /// and `abi::PRIVATE_ALLOCATOR_FILES`); `sync_word` tells whether its
    /// address is a constant synchronisation word (see [`sync_words`]).
    fn private_library(&self, loc: InstrLocId, sync_word: impl FnOnce() -> bool) -> bool {
        let m = &*self.markers;
        match m
            .locator
            .private_library(u64::from(loc.data().wrapping_sub(m.code_start)))
        {
            Private::No => false,
            Private::All => true,
            Private::Allocator => !sync_word(),
        }
    }

    /// Whether the code at `loc` is library code, as the site table will
    /// say (see `Site::library`).
    fn is_library(&self, loc: InstrLocId) -> bool {
        let m = &*self.markers;
        let at = m
            .locator
            .locate(u64::from(loc.data().wrapping_sub(m.code_start)));
        m.locator.is_library(at.as_ref())
    }

    fn site(
        &mut self,
        kind: AccessKind,
        size: u32,
        atomic: bool,
        offset: u64,
        loc: InstrLocId,
    ) -> u32 {
        push_site(self.sites, kind, size, atomic, offset, self.func_index, loc)
    }

    fn local(&mut self, ty: ValType, slot: usize) -> LocalId {
        self.scratch.get(self.locals, ty, slot)
    }

    /// Rewrites `seq`, and the sequences nested in it as they come, so that
    /// site ids follow the order of the instructions in the code.
    fn rewrite(&mut self, func: &mut walrus::LocalFunction, seq: InstrSeqId) {
        let old = std::mem::take(&mut func.block_mut(seq).instrs);
        let mut new: Vec<(Instr, InstrLocId)> = Vec::with_capacity(old.len());
        // std's `Mutex::lock()`: a compare-exchange, then, a few
        // instructions on, the call of `lock_contended` if it failed.
        let lock_attempts: Vec<bool> = match self.hooks.lock {
            None => vec![],
            Some((_, target)) => (0..old.len())
                .map(|k| {
                    matches!(&old[k].0, Instr::Cmpxchg(c) if c.memory == self.shared)
                        && old[k + 1..old.len().min(k + 10)]
                            .iter()
                            .map(|(i, _)| i)
                            .take_while(|i| {
                                matches!(
                                    i,
                                    Instr::Unop(_)
                                        | Instr::Binop(_)
                                        | Instr::Const(_)
                                        | Instr::LocalGet(_)
                                        | Instr::LocalSet(_)
                                        | Instr::LocalTee(_)
                                        | Instr::BrIf(_)
                                        | Instr::Call(_)
                                )
                            })
                            .any(|i| matches!(i, Instr::Call(c) if c.func == target))
                })
                .collect(),
        };
        // For the backward walks of `constant_address`.
        let effects: Vec<Effect> = old.iter().map(|(i, _)| effect(i)).collect();
        // Calls a comment marker may gate: the line's first scheduling point
        // reached from it may be inside a callee (a debug build does not
        // inline `AtomicU32::load`). Not a call into a function that never
        // returns (rustc puts `unreachable` after it): that is an overflow
        // check's panic, on a path the line does not take.
        let markers = self.hooks.marker_id.is_some();
        let gating_calls: Vec<bool> = (0..old.len())
            .map(|k| {
                markers
                    && matches!(old[k].0, Instr::Call(_) | Instr::CallIndirect(_))
                    && !matches!(old.get(k + 1), Some((Instr::Unreachable(_), _)))
            })
            .collect();
        for (k, (instr, loc)) in old.into_iter().enumerate() {
            for child in children(&instr) {
                self.rewrite(func, child);
            }
            let action = match classify(&instr, self.shared, self.granularity) {
                Action::Access {
                    atomic: false,
                    ref above,
                    offset,
                    size,
                    ..
                } if self.private_library(loc, || {
                    constant_address(&effects[..k], above.len()).is_some_and(|base| {
                        let addr = u64::from(base) + offset;
                        self.markers
                            .sync_words
                            .iter()
                            .any(|&(a, n)| addr < a + n && a < addr + u64::from(size.max(1)))
                    })
                }) =>
                {
                    Action::Keep
                }
                // Bulk operations stay points in the allocator (realloc's
                // copy of the old block races with a stale write to it).
                Action::Bulk { .. } if self.private_library(loc, || true) => Action::Keep,
                action => action,
            };
            let point = !matches!(action, Action::Keep) || gating_calls[k];
            if let (true, Some(marker)) = (point, self.hooks.marker_id) {
                if let Some(id) = self.marker_before(loc) {
                    new.push((i32_const(id), loc));
                    new.push((call(marker), loc));
                }
            }
            let mut emit = |i: Instr| new.push((i, loc));
            match action {
                Action::Keep => emit(instr),
                Action::Access {
                    kind,
                    size,
                    atomic,
                    offset,
                    above,
                } => {
                    let id = self.site(kind, size, atomic, offset, loc);
                    let saved: Vec<LocalId> = above
                        .iter()
                        .enumerate()
                        .map(|(slot, &ty)| self.local(ty, slot))
                        .collect();
                    let addr = self.local(ValType::I32, 9);
                    let mut emit = |i: Instr| new.push((i, loc));
                    for &l in saved.iter().rev() {
                        emit(local_set(l));
                    }
                    let filter = self.hooks.stack;
                    if let (Some(f), true, Some(&v), Some(&ty)) =
                        (filter, atomic, saved.last(), above.last())
                    {
                        // A pointer into the stack published by an atomic
                        // (a node pushed with a compare-exchange, say).
                        escape(&mut emit, &f, v, ty);
                    }
                    emit(local_tee(addr));
                    emit(i32_const(id));
                    let end = (offset + u64::from(size)).try_into().ok().filter(|_| {
                        !atomic && matches!(kind, AccessKind::Read | AccessKind::Write)
                    });
                    if let (Some(f), Some(end)) = (filter, end) {
                        // Own-stack accesses ask no host (see crate::stack_filter),
                        // nor library ones when the host says so.
                        let (plain, store32, store64) = match (self.is_library(loc), kind) {
                            (false, _) => (f.plain, f.store32, f.store64),
                            (true, AccessKind::Write) => f.library_writes(),
                            (true, _) => (f.library_plain, f.library_store32, f.library_store64),
                        };
                        emit(i32_const(end));
                        let helper = match (kind, above.first()) {
                            (AccessKind::Write, Some(&ty)) if size >= 4 => {
                                match push_int(&mut emit, saved[0], ty) {
                                    Some(true) => store64,
                                    Some(false) => store32,
                                    None => {
                                        escape(&mut emit, &f, saved[0], ty);
                                        plain
                                    }
                                }
                            }
                            _ => plain,
                        };
                        emit(call(helper));
                        emit(local_get(addr));
                        for &l in &saved {
                            emit(local_get(l));
                        }
                        emit(instr);
                        continue;
                    }
                    match (kind, above.first(), self.hooks.lock) {
                        (AccessKind::CompareExchange, _, Some((lock, _)))
                            if lock_attempts.get(k) == Some(&true) =>
                        {
                            // Taken when the mutex is free (see abi::LOCK).
                            emit(call(lock));
                        }
                        (AccessKind::CompareExchange, Some(&ty), _) => {
                            // The expected value, so the host knows whether it fails.
                            emit(local_get(saved[0]));
                            if ty == ValType::I32 {
                                emit(Instr::Unop(ir::Unop {
                                    op: ir::UnaryOp::I64ExtendUI32,
                                }));
                            }
                            emit(call(self.hooks.access_cas));
                        }
                        _ => emit(call(self.hooks.access)),
                    }
                    emit(local_get(addr));
                    for &l in &saved {
                        emit(local_get(l));
                    }
                    emit(instr);
                }
                Action::NoAddress { kind } => {
                    let id = self.site(kind, 0, kind == AccessKind::Fence, 0, loc);
                    let mut emit = |i: Instr| new.push((i, loc));
                    emit(i32_const(0));
                    emit(i32_const(id));
                    emit(call(self.hooks.access));
                    emit(instr);
                }
                Action::Bulk { copy } => {
                    let kind = if copy {
                        AccessKind::Copy
                    } else {
                        AccessKind::Fill
                    };
                    let id = self.site(kind, 0, false, 0, loc);
                    let (d, x, n) = (
                        self.local(ValType::I32, 10),
                        self.local(ValType::I32, 11),
                        self.local(ValType::I32, 12),
                    );
                    let mut emit = |i: Instr| new.push((i, loc));
                    emit(local_set(n));
                    emit(local_set(x));
                    match (self.hooks.stack, copy) {
                        (Some(f), true) => {
                            emit(local_tee(d));
                            emit(local_get(x));
                            emit(local_get(n));
                            emit(call(f.copy_out));
                            emit(local_get(d));
                        }
                        _ => emit(local_tee(d)),
                    }
                    emit(local_get(x));
                    emit(local_get(n));
                    emit(i32_const(id));
                    emit(call(self.hooks.bulk));
                    emit(local_get(d));
                    emit(local_get(x));
                    emit(local_get(n));
                    emit(instr);
                }
                Action::Wait { sixty_four, offset } => {
                    let id = self.site(
                        AccessKind::Wait,
                        if sixty_four { 8 } else { 4 },
                        true,
                        offset,
                        loc,
                    );
                    let mut emit = |i: Instr| new.push((i, loc));
                    emit(i32_const(id));
                    emit(call(if sixty_four {
                        self.hooks.wait64
                    } else {
                        self.hooks.wait32
                    }));
                }
                Action::Notify { offset } => {
                    let id = self.site(AccessKind::Notify, 4, true, offset, loc);
                    let mut emit = |i: Instr| new.push((i, loc));
                    emit(i32_const(id));
                    emit(call(self.hooks.notify));
                }
            }
        }
        func.block_mut(seq).instrs = new;
    }
}

/// What a backward walk needs of an instruction: its pops and pushes
/// (None: it cannot step over it), and the value of an `i32.const`.
type Effect = (Option<(usize, usize)>, Option<u32>);

fn effect(instr: &Instr) -> Effect {
    let counts = match instr {
        Instr::Const(_) | Instr::LocalGet(_) | Instr::GlobalGet(_) => Some((0, 1)),
        Instr::LocalTee(_) | Instr::Unop(_) | Instr::Load(_) => Some((1, 1)),
        Instr::LocalSet(_) | Instr::GlobalSet(_) | Instr::Drop(_) => Some((1, 0)),
        Instr::Binop(_) => Some((2, 1)),
        Instr::Select(_) => Some((3, 1)),
        _ => None,
    };
    let constant = match instr {
        Instr::Const(ir::Const {
            value: Value::I32(v),
        }) => Some(*v as u32),
        _ => None,
    };
    (counts, constant)
}

/// The address operand of the access that follows `before` (with `above`
/// operands on top of the address), if it is an `i32.const`: found by
/// walking back over straight-line code; anything else (a call, a block,
/// the start of the sequence) answers None.
fn constant_address(before: &[Effect], above: usize) -> Option<u32> {
    // Values on the stack above the one looked for.
    let mut depth = above;
    for &(counts, constant) in before.iter().rev() {
        let (pops, pushes) = counts?;
        if depth < pushes {
            return constant.filter(|_| pushes == 1);
        }
        depth = depth - pushes + pops;
    }
    None
}

/// The synchronisation words at constant addresses: (address, bytes) of
/// every atomic access, wait and notify whose address is an `i32.const`
/// (plus its offset), in any function. A library's plain accesses to them
/// stay scheduling points even where its other statics are cut: dlmalloc's
/// spin lock takes its word with an atomic but spins on plain reads of it,
/// and a spin the host cannot see hides the order of the lock's holders.
pub(crate) fn sync_words(
    module: &Module,
    shared: walrus::MemoryId,
    granularity: Granularity,
) -> Vec<(u64, u64)> {
    let mut words = vec![];
    for (_, func) in module.funcs.iter_local() {
        let mut stack = vec![func.entry_block()];
        while let Some(seq) = stack.pop() {
            let instrs = &func.block(seq).instrs;
            let effects: Vec<Effect> = instrs.iter().map(|(i, _)| effect(i)).collect();
            for (k, (instr, _)) in instrs.iter().enumerate() {
                stack.extend(children(instr));
                let (offset, size, above) = match classify(instr, shared, granularity) {
                    Action::Access {
                        atomic: true,
                        offset,
                        size,
                        above,
                        ..
                    } => (offset, u64::from(size.max(1)), above.len()),
                    Action::Wait { sixty_four, offset } => {
                        (offset, if sixty_four { 8 } else { 4 }, 2)
                    }
                    Action::Notify { offset } => (offset, 4, 1),
                    _ => continue,
                };
                if let Some(base) = constant_address(&effects[..k], above) {
                    words.push((u64::from(base) + offset, size));
                }
            }
        }
    }
    words.sort_unstable();
    words.dedup();
    words
}

/// Whether `name` (mangled, v0 or legacy, or demangled) is Rust std's futex
/// `Mutex::lock_contended`.
pub(crate) fn is_lock_contended(name: &str) -> bool {
    (name.contains("5mutex5futex") && name.contains("5Mutex14lock_contended"))
        || name.contains("mutex::futex::Mutex::lock_contended")
}

/// What a modelled lock function needs: its first argument (the mutex),
/// its entry block, the location of its first instruction, and a new
/// read-modify-write site on the mutex word at `offset` (see `abi::LOCK`).
fn lock_site(
    func: &walrus::LocalFunction,
    offset: u64,
    func_index: u32,
    sites: &mut Vec<Site>,
) -> (LocalId, InstrSeqId, InstrLocId, u32) {
    let entry = func.entry_block();
    let loc = func
        .block(entry)
        .instrs
        .first()
        .map_or_else(InstrLocId::default, |&(_, loc)| loc);
    let site = push_site(
        sites,
        AccessKind::ReadModifyWrite,
        4,
        true,
        offset,
        func_index,
        loc,
    );
    (func.args[0], entry, loc, site)
}

/// Replaces the body of std's `Mutex::lock_contended(&self)` (type
/// `(i32) -> ()`, checked by the caller) by the host's `lock(self, site)`
/// (see [`abi::LOCK`]) and a store of 1: the mutex word is the first field
/// of `self`.
pub(crate) fn replace_lock_contended(
    module: &mut Module,
    id: FunctionId,
    lock: FunctionId,
    shared: walrus::MemoryId,
    func_index: u32,
    sites: &mut Vec<Site>,
) {
    let FunctionKind::Local(func) = &mut module.funcs.get_mut(id).kind else {
        return;
    };
    let (this, entry, loc, site) = lock_site(func, 0, func_index, sites);
    func.block_mut(entry).instrs = vec![
        (local_get(this), loc),
        (i32_const(site), loc),
        (call(lock), loc),
        (local_get(this), loc),
        (i32_const(1), loc),
        (
            Instr::Store(ir::Store {
                memory: shared,
                kind: ir::StoreKind::I32 { atomic: true },
                arg: ir::MemArg {
                    align: 4,
                    offset: 0,
                },
            }),
            loc,
        ),
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sync_words_are_the_constant_addresses_of_atomics() {
        let wasm = wat::parse_str(
            r#"(module
                (memory 1 1 shared)
                (func (param $p i32) (result i32)
                  (drop (i32.atomic.rmw.xchg offset=8 (i32.const 1000) (i32.const 1)))
                  (i32.atomic.store (i32.const 2000) (i32.const 0))
                  (drop (memory.atomic.wait32 (i32.const 3000) (i32.const 0) (i64.const -1)))
                  ;; A plain read of a constant, an atomic through a pointer: neither.
                  (drop (i32.load (i32.const 4000)))
                  (i32.atomic.load (local.get $p))))"#,
        )
        .unwrap();
        let module = walrus::Module::from_buffer(&wasm).unwrap();
        let shared = module.memories.iter().next().unwrap().id();
        assert_eq!(
            sync_words(&module, shared, Granularity::All),
            [(1008, 4), (2000, 4), (3000, 4)]
        );
    }
}
