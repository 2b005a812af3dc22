//! wasi-libc's blocking pthread calls modelled as the host's blocking
//! primitives, as std's `Mutex` is (see `abi::LOCK`): a normal mutex's
//! lock, a rwlock's read and write lock, a semaphore's wait and a barrier's
//! wait. Without this, DPOR orders every step of musl's code for them (a
//! compare-exchange, a 100-round spin, the waiter count, a futex wait): a
//! 3-thread program with one mutex, semaphore, rwlock or barrier does not
//! finish in 20,000 executions. With it, DPOR reverses acquisitions and
//! arrivals only. Unlocks and posts keep running musl's code (they never
//! block); so do the `try` and `timed` forms, recursive and error-checking
//! mutexes, and process-shared barriers. Each model keeps musl's memory
//! layout, so modelled and unmodelled calls on one object agree.

use super::{call, i32_const, local_get, lock_site};
use interlace_guest_sdk::abi::{self, Site};
use walrus::ir::{self, BinaryOp, Instr, InstrLocId, InstrSeqType};
use walrus::{FunctionId, FunctionKind, MemoryId, Module};

/// One modelled function, all of type `(i32) -> i32`: the object's address
/// in, 0 (or the barrier's result) out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Model {
    /// `pthread_mutex_lock` on a normal mutex: [`abi::LOCK`] on `_m_lock`
    /// (the second word), then `EBUSY` stored there, as musl does.
    Mutex,
    /// `pthread_rwlock_wrlock`: [`abi::ACQUIRE_EXCLUSIVE`] on `_rw_lock`,
    /// then `0x7fffffff` stored there.
    WriteLock,
    /// `pthread_rwlock_rdlock`: [`abi::ACQUIRE_SHARED`], then 1 added.
    ReadLock,
    /// `sem_wait`: [`abi::ACQUIRE_COUNT`] on the count, then 1 subtracted.
    SemWait,
    /// `pthread_barrier_wait` with `_b_limit` (parties - 1, the third word)
    /// at least 1: [`abi::BARRIER`].
    Barrier,
}

/// Every model, for lookups.
pub(crate) const MODELS: [Model; 5] = [
    Model::Mutex,
    Model::WriteLock,
    Model::ReadLock,
    Model::SemWait,
    Model::Barrier,
];

/// What a taken normal mutex's word holds (musl stores `EBUSY`).
const EBUSY: u32 = 16;
/// `_m_type & 15` of a normal mutex.
const TYPE_MASK: u32 = 15;
/// A rwlock's word while a writer holds it.
const WRITE_LOCKED: u32 = 0x7fff_ffff;
/// Offset of a barrier's `_b_limit`.
const BARRIER_LIMIT: u32 = 8;

/// Which host import a model calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Import {
    Lock,
    Acquire,
    Barrier,
}

impl Model {
    /// Whether `name` is this model's function (wasi-libc defines some as
    /// weak aliases of a `__` name; either may be in the name section).
    pub(crate) fn names(self, name: &str) -> bool {
        let names: &[&str] = match self {
            Model::Mutex => &["__pthread_mutex_lock", "pthread_mutex_lock"],
            Model::WriteLock => &["__pthread_rwlock_wrlock", "pthread_rwlock_wrlock"],
            Model::ReadLock => &["__pthread_rwlock_rdlock", "pthread_rwlock_rdlock"],
            Model::SemWait => &["sem_wait"],
            Model::Barrier => &["pthread_barrier_wait"],
        };
        names.contains(&name)
    }

    pub(crate) fn import(self) -> Import {
        match self {
            Model::Mutex => Import::Lock,
            Model::Barrier => Import::Barrier,
            _ => Import::Acquire,
        }
    }

    /// Offset of the word the host blocks on, in the object.
    fn word(self) -> u32 {
        match self {
            Model::Mutex => 4,
            _ => 0,
        }
    }
}

fn mem(offset: u32) -> ir::MemArg {
    ir::MemArg {
        align: 4,
        offset: offset.into(),
    }
}

fn load(shared: MemoryId, offset: u32) -> Instr {
    Instr::Load(ir::Load {
        memory: shared,
        kind: ir::LoadKind::I32 { atomic: false },
        arg: mem(offset),
    })
}

fn rmw(shared: MemoryId, op: ir::AtomicOp, offset: u32) -> Instr {
    Instr::AtomicRmw(ir::AtomicRmw {
        memory: shared,
        op,
        width: ir::AtomicWidth::I32,
        arg: mem(offset),
    })
}

fn binop(op: BinaryOp) -> Instr {
    Instr::Binop(ir::Binop { op })
}

/// Prepends `model` to function `id` (type `(i32) -> i32`, checked by the
/// caller; its own body already instrumented, and run unchanged when the
/// model does not apply): a block that calls `hook`, updates the word as
/// musl would, and returns.
pub(crate) fn prepend(
    module: &mut Module,
    id: FunctionId,
    model: Model,
    hook: FunctionId,
    shared: MemoryId,
    func_index: u32,
    sites: &mut Vec<Site>,
) {
    let FunctionKind::Local(func) = &mut module.funcs.get_mut(id).kind else {
        return;
    };
    let (obj, entry, loc, site) = lock_site(func, u64::from(model.word()), func_index, sites);
    let block = func
        .builder_mut()
        .dangling_instr_seq(InstrSeqType::Simple(None))
        .id();
    let word = model.word();
    let at = |instrs: Vec<Instr>| -> Vec<(Instr, InstrLocId)> {
        instrs.into_iter().map(|i| (i, loc)).collect()
    };
    let acquire = |kind: i32| {
        vec![
            local_get(obj),
            i32_const(site),
            i32_const(kind as u32),
            call(hook),
        ]
    };
    let instrs = match model {
        Model::Mutex => {
            // The type word is written once, by pthread_mutex_init: no step.
            let mut v = vec![
                local_get(obj),
                load(shared, 0),
                i32_const(TYPE_MASK),
                binop(BinaryOp::I32And),
                Instr::BrIf(ir::BrIf { block }),
                local_get(obj),
                i32_const(site),
                call(hook),
            ];
            v.extend(store_word(shared, obj, EBUSY, word));
            v
        }
        Model::WriteLock => {
            let mut v = acquire(abi::ACQUIRE_EXCLUSIVE);
            v.extend(store_word(shared, obj, WRITE_LOCKED, word));
            v
        }
        Model::ReadLock | Model::SemWait => {
            let (kind, op) = if model == Model::ReadLock {
                (abi::ACQUIRE_SHARED, ir::AtomicOp::Add)
            } else {
                (abi::ACQUIRE_COUNT, ir::AtomicOp::Sub)
            };
            let mut v = acquire(kind);
            v.extend([
                local_get(obj),
                i32_const(1),
                rmw(shared, op, word),
                Instr::Drop(ir::Drop {}),
            ]);
            v
        }
        Model::Barrier => {
            // `_b_limit` is written by pthread_barrier_init only: no step.
            // Below 1: a barrier of one (musl returns at once) or a
            // process-shared one (negative): musl's code.
            vec![
                local_get(obj),
                load(shared, BARRIER_LIMIT),
                i32_const(1),
                binop(BinaryOp::I32LtS),
                Instr::BrIf(ir::BrIf { block }),
                local_get(obj),
                i32_const(site),
                local_get(obj),
                load(shared, BARRIER_LIMIT),
                i32_const(1),
                binop(BinaryOp::I32Add),
                call(hook),
                Instr::Return(ir::Return {}),
            ]
        }
    };
    let mut instrs = at(instrs);
    if model != Model::Barrier {
        instrs.extend(at(vec![i32_const(0), Instr::Return(ir::Return {})]));
    }
    func.block_mut(block).instrs = instrs;
    func.block_mut(entry)
        .instrs
        .insert(0, (Instr::Block(ir::Block { seq: block }), loc));
}

/// `obj->word = value`, atomically (the step the host's hook began).
fn store_word(shared: MemoryId, obj: walrus::LocalId, value: u32, word: u32) -> [Instr; 3] {
    [
        local_get(obj),
        i32_const(value),
        Instr::Store(ir::Store {
            memory: shared,
            kind: ir::StoreKind::I32 { atomic: true },
            arg: mem(word),
        }),
    ]
}
