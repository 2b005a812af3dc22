//! wasi-libc's `pthread_mutex_lock` modelled as a lock, as std's `Mutex` is
//! (see `abi::LOCK`): for a normal mutex the thread waits in the host until
//! the mutex word is free, then takes it. Without this, DPOR orders every
//! step of musl's lock path (a compare-exchange, a 100-round spin, the
//! waiter count, a futex wait), and a 3-thread program with one mutex does
//! not finish in 20,000 executions; with it, DPOR reverses only successive
//! acquisitions. Recursive and error-checking mutexes keep running musl's
//! code (their word holds the owner's id, not a flag).

use super::{call, i32_const, local_get, lock_site};
use interlace_guest_sdk::abi::Site;
use walrus::ir::{self, Instr, InstrSeqType};
use walrus::{FunctionId, FunctionKind, MemoryId, Module};

/// musl's `pthread_mutex_t` on wasm32: `_m_type` is the first word, the
/// lock word `_m_lock` the second.
const LOCK_WORD: u32 = 4;
/// What a taken normal mutex's word holds (musl stores `EBUSY`).
const EBUSY: u32 = 16;
/// `_m_type & 15` of a normal mutex.
const TYPE_MASK: u32 = 15;

/// Whether `name` is wasi-libc's mutex lock (`pthread_mutex_lock` is a weak
/// alias of `__pthread_mutex_lock`; either name may be in the name section).
pub(crate) fn is_pthread_mutex_lock(name: &str) -> bool {
    matches!(name, "__pthread_mutex_lock" | "pthread_mutex_lock")
}

/// Prepends to `pthread_mutex_lock(m)` (type `(i32) -> i32`, checked by
/// the caller; its own body already instrumented): if `m` is a normal mutex,
/// `lock(&m->_m_lock, site)`, store `EBUSY`, return 0.
pub(crate) fn prepend_fast_path(
    module: &mut Module,
    id: FunctionId,
    lock: FunctionId,
    shared: MemoryId,
    func_index: u32,
    sites: &mut Vec<Site>,
) {
    let FunctionKind::Local(func) = &mut module.funcs.get_mut(id).kind else {
        return;
    };
    let (m, entry, loc, site) = lock_site(func, u64::from(LOCK_WORD), func_index, sites);
    let block = func
        .builder_mut()
        .dangling_instr_seq(InstrSeqType::Simple(None))
        .id();
    let mem = |offset: u32, align: u32| ir::MemArg {
        align,
        offset: offset.into(),
    };
    func.block_mut(block).instrs = vec![
        // The type word is written once, by pthread_mutex_init: no step.
        (local_get(m), loc),
        (
            Instr::Load(ir::Load {
                memory: shared,
                kind: ir::LoadKind::I32 { atomic: false },
                arg: mem(0, 4),
            }),
            loc,
        ),
        (i32_const(TYPE_MASK), loc),
        (
            Instr::Binop(ir::Binop {
                op: ir::BinaryOp::I32And,
            }),
            loc,
        ),
        (Instr::BrIf(ir::BrIf { block }), loc),
        (local_get(m), loc),
        (i32_const(site), loc),
        (call(lock), loc),
        (local_get(m), loc),
        (i32_const(EBUSY), loc),
        (
            Instr::Store(ir::Store {
                memory: shared,
                kind: ir::StoreKind::I32 { atomic: true },
                arg: mem(LOCK_WORD, 4),
            }),
            loc,
        ),
        (i32_const(0), loc),
        (Instr::Return(ir::Return {}), loc),
    ];
    func.block_mut(entry)
        .instrs
        .insert(0, (Instr::Block(ir::Block { seq: block }), loc));
}
