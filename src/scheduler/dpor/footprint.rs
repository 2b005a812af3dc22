//! Dependency: what an operation touches, and when two of them conflict
//! (the library and allocator rules included).

use super::*;

/// The steps a thread runs without a scheduling choice: one step, or a run
/// of library steps.
pub(super) type Block = Arc<[Op]>;

/// Whether an operation conflicts with any step of a block.
pub(super) fn dependent_block(block: &[Op], op: &Op) -> bool {
    block.iter().any(|b| dependent(b, op))
}

/// A step independent of everything: the memory allocator's, other than
/// its plain accesses and blocking (see [`Op::allocator`] and
/// [`allocator_conflicts`]), and any step on the C library's thread
/// bookkeeping (see [`Op::bookkeeping`]).
pub(super) fn independent(op: &Op) -> bool {
    op.bookkeeping || op.allocator && !allocator_conflicts(op)
}

/// An allocator step that still conflicts: a wait or notify (it orders),
/// or a plain access, which is a plain library access (see
/// [`plain_library`]): independent of the allocator's (and the rest of the
/// library's) plain accesses, but dependent with program code on the same
/// bytes. The free-list links `free` writes into a chunk race with another
/// thread's use of it after the free: the use after free.
pub(super) fn allocator_conflicts(op: &Op) -> bool {
    matches!(
        op.kind,
        OpKind::Memory(AccessKind::Wait | AccessKind::Notify)
    ) || plain_library(op)
}

/// A step other threads can observe or be ordered by: an atomic access, a
/// wait or a notify, outside the allocator. A library block holds at most
/// one: two would make two library calls one indivisible step (`a.lock();
/// b.lock()` with no program access between them), which hides every
/// interleaving between them, the lock-order deadlock among them.
pub(super) fn visible(op: &Op) -> bool {
    !independent(op)
        && (op.atomic
            || matches!(
                op.kind,
                OpKind::Memory(AccessKind::Wait | AccessKind::Notify)
            ))
}

/// A plain (non-atomic) load, store or bulk operation in library code.
/// Two of them are independent: std and wasi-libc are data-race free, so
/// two library threads' plain accesses to the same bytes are always ordered
/// by the library's own atomics (its locks), and reordering those atomics
/// covers them. Dropping these pairs is what keeps the allocator's and the
/// thread list's bookkeeping from multiplying the traces. A plain library
/// access still conflicts with program code and with atomics.
pub(super) fn plain_library(op: &Op) -> bool {
    op.library
        && !op.atomic
        && matches!(
            op.kind,
            OpKind::Memory(
                AccessKind::Read | AccessKind::Write | AccessKind::Copy | AccessKind::Fill
            )
        )
}

/// What an operation touches, for dependency: at most one range read, one
/// written and one key synchronised with (no allocation: this is computed
/// several times per step).
#[derive(Default)]
pub(super) struct Footprint {
    pub(super) reads: Option<(u64, u64)>,
    pub(super) writes: Option<(u64, u64)>,
    /// A key it only synchronises with (never reversed).
    pub(super) syncs: Option<u64>,
    pub(super) global: bool,
}

pub(super) fn footprint(op: &Op) -> Footprint {
    let mut f = Footprint::default();
    if independent(op) {
        return f;
    }
    match op.kind {
        OpKind::Memory(k) => match k {
            AccessKind::Read => f.reads = Some((op.addr, op.len)),
            AccessKind::CompareExchange if op.fails => f.reads = Some((op.addr, op.len)),
            AccessKind::Write
            | AccessKind::ReadModifyWrite
            | AccessKind::CompareExchange
            | AccessKind::Fill => f.writes = Some((op.addr, op.len)),
            AccessKind::Copy => {
                f.reads = Some((op.src, op.len));
                f.writes = Some((op.addr, op.len));
            }
            AccessKind::Wait => {
                f.reads = Some((op.addr, op.len));
                f.writes = Some((FUTEX | op.addr, 1));
            }
            AccessKind::Notify => f.writes = Some((FUTEX | op.addr, 1)),
            AccessKind::Grow => f.global = true,
            AccessKind::Fence => {}
        },
        OpKind::Spawn => f.writes = Some((SPAWN_KEY, 1)),
        OpKind::Resume => f.syncs = Some(FUTEX | op.addr),
        // Arrivals at one barrier are ordered with each other (the first
        // gets the serial result); a departure takes the happens-before of
        // the arrival that released it (see `DporScheduler::candidates`) and
        // conflicts with nothing: once released, when it runs changes
        // nothing else.
        OpKind::Arrive => f.writes = Some((FUTEX | op.addr, 1)),
        OpKind::Depart => {}
        OpKind::Stop => f.global = true,
        OpKind::Start | OpKind::Yield | OpKind::Sleep | OpKind::Join | OpKind::Marker => {}
    }
    f
}

pub(super) fn overlap(a: (u64, u64), b: (u64, u64)) -> bool {
    a.0 < b.0 + b.1.max(1) && b.0 < a.0 + a.1.max(1)
}

/// Whether two operations of different threads are dependent.
pub(super) fn dependent(a: &Op, b: &Op) -> bool {
    if (plain_library(a) && plain_library(b)) || independent(a) || independent(b) {
        return false;
    }
    let (fa, fb) = (footprint(a), footprint(b));
    if fa.global || fb.global {
        return true;
    }
    let any = |xs: &Option<(u64, u64)>, ys: &Option<(u64, u64)>| matches!((xs, ys), (Some(x), Some(y)) if overlap(*x, *y));
    let syncs = |f: &Footprint| f.syncs.map(|k| (k, 1));
    any(&fa.writes, &fb.writes)
        || any(&fa.writes, &fb.reads)
        || any(&fa.reads, &fb.writes)
        || any(&syncs(&fa), &fb.writes)
        || any(&fa.writes, &syncs(&fb))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mem(kind: AccessKind, addr: u64, len: u64) -> Op {
        Op {
            kind: OpKind::Memory(kind),
            site: None,
            addr,
            len,
            src: 0,
            atomic: false,
            library: false,
            allocator: false,
            join: false,
            bookkeeping: false,
            fails: false,
            lock: false,
        }
    }

    #[test]
    fn dependency_is_by_overlapping_bytes_with_a_write() {
        use AccessKind::*;
        assert!(dependent(&mem(Write, 0, 4), &mem(Read, 2, 1)));
        assert!(!dependent(&mem(Write, 0, 4), &mem(Read, 4, 4)));
        assert!(!dependent(&mem(Read, 0, 4), &mem(Read, 0, 4)));
        assert!(dependent(
            &mem(CompareExchange, 8, 4),
            &mem(CompareExchange, 8, 4)
        ));
        // A compare-exchange that fails only reads.
        let failing = Op {
            fails: true,
            ..mem(CompareExchange, 8, 4)
        };
        assert!(!dependent(&failing, &failing));
        assert!(!dependent(&failing, &mem(Read, 8, 4)));
        assert!(dependent(&failing, &mem(CompareExchange, 8, 4)));
        assert!(dependent(&failing, &mem(Write, 10, 1)));
        assert!(dependent(&mem(Wait, 8, 4), &mem(Notify, 8, 4)));
        assert!(!dependent(&mem(Wait, 8, 4), &mem(Notify, 12, 4)));
        assert!(dependent(&mem(Grow, 0, 0), &mem(Read, 100, 1)));
        assert!(dependent(
            &Op::plain(OpKind::Spawn),
            &Op::plain(OpKind::Spawn)
        ));
        assert!(!dependent(&Op::plain(OpKind::Yield), &mem(Write, 0, 8)));
        assert!(dependent(&Op::plain(OpKind::Stop), &mem(Read, 0, 1)));
    }

    #[test]
    fn library_plain_pairs_and_the_allocator_are_independent() {
        use AccessKind::*;
        let lib = |k, atomic| Op {
            library: true,
            atomic,
            ..mem(k, 0, 4)
        };
        // Two plain library accesses: ordered by the library's own locks.
        assert!(!dependent(&lib(Write, false), &lib(Write, false)));
        // A library atomic, or program code, still conflicts.
        assert!(dependent(&lib(Write, false), &lib(CompareExchange, true)));
        assert!(dependent(&lib(Write, false), &mem(Read, 0, 4)));
        let alloc = |k| Op {
            allocator: true,
            ..lib(k, true)
        };
        assert!(!dependent(
            &alloc(CompareExchange),
            &lib(CompareExchange, true)
        ));
        assert!(!dependent(&alloc(Write), &mem(Write, 0, 4)));
        // Its plain accesses are plain library ones: `free` writing its
        // links into a chunk conflicts with a use of the chunk.
        let alloc_plain = |k| Op {
            allocator: true,
            ..lib(k, false)
        };
        assert!(dependent(&alloc_plain(Write), &mem(Read, 0, 4)));
        assert!(!dependent(&alloc_plain(Write), &alloc_plain(Write)));
        assert!(!dependent(&alloc_plain(Write), &lib(Read, false)));
        // Blocking in the allocator still orders.
        assert!(dependent(&alloc(Wait), &mem(Notify, 0, 4)));
        // The thread bookkeeping is independent, blocking included.
        let book = |k| Op {
            bookkeeping: true,
            ..lib(k, true)
        };
        assert!(!dependent(
            &book(CompareExchange),
            &lib(CompareExchange, true)
        ));
        assert!(!dependent(&book(Wait), &mem(Notify, 0, 4)));
        assert!(!dependent(&book(Notify), &book(Notify)));
    }

    #[test]
    fn a_block_holds_one_visible_step() {
        use AccessKind::*;
        let lib = |k, atomic| Op {
            library: true,
            atomic,
            ..mem(k, 0, 4)
        };
        assert!(visible(&lib(CompareExchange, true)));
        assert!(visible(&lib(Read, true)));
        assert!(visible(&lib(Wait, false)));
        assert!(!visible(&lib(Write, false)));
        let alloc = Op {
            allocator: true,
            ..lib(CompareExchange, true)
        };
        assert!(!visible(&alloc));
    }
}
