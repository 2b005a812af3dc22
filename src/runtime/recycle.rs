//! The next execution gets the last one's memory, zeroed, instead of a fresh
//! mapping.
//!
//! A fresh shared memory per execution cost its mapping, a page fault and
//! the kernel's zeroing for every page the guest touched, and the unmapping:
//! a fifth of a small program's execution. A module whose memory size is
//! virtual (`abi::VIRTUAL_MEMORY_EXPORT`) cannot tell a recycled memory
//! from a fresh one: every byte it can see is zero again, it sees the
//! initial size, and the pages an earlier execution grew into are
//! inaccessible until it grows into them itself (see
//! [`super::memory::GuestMemory`]). Only the pages the kernel says are
//! resident can be non-zero, so only those are cleared.
//!
//! One memory per OS thread (each `--jobs` worker runs its executions on
//! its own), kept with the imports resolved over it.

use super::memory::GuestMemory;
use super::ThreadData;
use crate::program::Program;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};
use wasmtime::{InstancePre, SharedMemory};

/// A memory ready for the next execution of program `program`.
struct Spare {
    program: u64,
    memory: SharedMemory,
    pre: Rc<InstancePre<ThreadData>>,
}

thread_local! {
    static SPARE: RefCell<Option<Spare>> = const { RefCell::new(None) };
    /// Time this thread spent clearing memories, for the bench's breakdown.
    static RESETS: Cell<Duration> = const { Cell::new(Duration::ZERO) };
}

/// Time this OS thread has spent clearing memories for reuse.
pub(crate) fn reset_time() -> Duration {
    RESETS.with(Cell::get)
}

/// Above this many resident bytes the kernel drops the pages (they fault in
/// again, zeroed) rather than this thread clearing them.
const CLEAR_LIMIT: usize = 8 << 20;

/// The memory (at its initial size) and resolved imports a previous
/// execution of `program` on this thread left, if any.
pub(crate) fn take(program: &Program) -> Option<(GuestMemory, Rc<InstancePre<ThreadData>>)> {
    let spare = SPARE.with(|s| s.borrow_mut().take())?;
    if spare.program != program.id {
        return None;
    }
    let initial = initial_bytes(program);
    Some((
        GuestMemory::recycled(spare.memory, initial, initial),
        spare.pre,
    ))
}

/// Clears `memory` after an execution of `program` and keeps it for the
/// next; drops it when that fails or the module's size is not virtual.
pub(crate) fn give_back(program: &Program, memory: GuestMemory, pre: Rc<InstancePre<ThreadData>>) {
    if !program.virtual_memory || Rc::strong_count(&pre) != 1 {
        return;
    }
    let start = Instant::now();
    let ok = reset(&memory, initial_bytes(program));
    RESETS.with(|t| t.set(t.get() + start.elapsed()));
    if ok {
        SPARE.with(|s| {
            *s.borrow_mut() = Some(Spare {
                program: program.id,
                memory: memory.shared,
                pre,
            })
        });
    }
}

fn initial_bytes(program: &Program) -> u64 {
    program.memory_ty.minimum() * super::memory::PAGE
}

/// Makes `[from, to)` of `memory` accessible again (the guest grew into it).
#[cfg(unix)]
pub(crate) fn open(memory: &SharedMemory, from: u64, to: u64) -> bool {
    protect(memory, from, to, libc::PROT_READ | libc::PROT_WRITE)
}

#[cfg(not(unix))]
pub(crate) fn open(_: &SharedMemory, _: u64, _: u64) -> bool {
    false
}

#[cfg(unix)]
fn protect(memory: &SharedMemory, from: u64, to: u64, prot: libc::c_int) -> bool {
    if from >= to {
        return true;
    }
    let data = memory.data();
    if to as usize > data.len() {
        return false;
    }
    // SAFETY: `[from, to)` lies inside the memory's mapping (checked above),
    // whose wasm-page boundaries are OS-page aligned; no guest code runs
    // while the host does this (see `super::memory`), and the host touches
    // no byte past the guest's size.
    unsafe {
        let start = data.as_ptr().cast::<u8>().cast_mut().add(from as usize);
        libc::mprotect(start.cast(), (to - from) as usize, prot) == 0
    }
}

/// Zeroes every byte of `memory` the guest could see and closes the pages
/// past `initial`. False when the system refused.
#[cfg(unix)]
fn reset(memory: &GuestMemory, initial: u64) -> bool {
    let used = memory.size() as usize;
    let data = memory.shared.data();
    if used > data.len() || (initial as usize) > used {
        return false;
    }
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    let Ok(page) = usize::try_from(page) else {
        return false;
    };
    if page == 0 || !used.is_multiple_of(page) || !(initial as usize).is_multiple_of(page) {
        return false;
    }
    let base = data.as_ptr().cast::<u8>().cast_mut();
    // The initial pages (static data, main's stack): the resident ones are
    // cleared in place, so that the next execution finds them mapped.
    let first = initial as usize;
    let mut resident = vec![0u8; first / page];
    // SAFETY: `base` is the page-aligned start of a mapping at least `used`
    // bytes long; `resident` has a byte per page of `[0, first)`.
    let ok = unsafe { libc::mincore(base.cast(), first, resident.as_mut_ptr()) } == 0;
    if !ok {
        return false;
    }
    let count = resident.iter().filter(|&&r| r & 1 != 0).count();
    if count * page > CLEAR_LIMIT {
        // SAFETY: as above; the mapping is private and anonymous, so the
        // dropped pages read as zero.
        if unsafe { libc::madvise(base.cast(), first, libc::MADV_DONTNEED) } != 0 {
            return false;
        }
    } else {
        let mut i = 0;
        while i < resident.len() {
            if resident[i] & 1 == 0 {
                i += 1;
                continue;
            }
            let start = i;
            while i < resident.len() && resident[i] & 1 != 0 {
                i += 1;
            }
            // SAFETY: pages `start..i` lie inside the mapping and are
            // accessible (below the guest's size); nothing else uses them now.
            unsafe { std::ptr::write_bytes(base.add(start * page), 0, (i - start) * page) };
        }
    }
    // The grown pages (thread stacks, the heap), few of them touched: the
    // kernel drops them (they read as zero) and they are closed. The pages
    // past `used` were dropped and closed by an earlier reset, and the guest
    // could not reach them since (see `GuestMemory::grow`).
    if used > first {
        // SAFETY: `[first, used)` lies inside the mapping, page-aligned.
        let dropped =
            unsafe { libc::madvise(base.add(first).cast(), used - first, libc::MADV_DONTNEED) };
        if dropped != 0 {
            return false;
        }
    }
    protect(&memory.shared, initial, used as u64, libc::PROT_NONE)
}

#[cfg(not(unix))]
fn reset(_: &GuestMemory, _: u64) -> bool {
    false
}
