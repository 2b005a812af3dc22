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
//! [`super::memory::GuestMemory`]). Every page the last execution could
//! touch is cleared or dropped (see [`reset`]).
//!
//! One memory per OS thread (each `--jobs` worker runs its executions on
//! its own), kept with the imports resolved over it (and so the program's
//! engine, until the thread runs another program). Linux only (the
//! guarantee that dropped pages read as zero); elsewhere every execution
//! maps a fresh memory.

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
    /// Its initial pages are locked in RAM.
    locked: bool,
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

/// The memory (at its initial size) and resolved imports a previous
/// execution of `program` on this thread left, if any.
pub(crate) fn take(program: &Program) -> Option<(GuestMemory, Rc<InstancePre<ThreadData>>)> {
    let spare = SPARE.with(|s| s.borrow_mut().take())?;
    if spare.program != program.id {
        return None;
    }
    Some((
        GuestMemory::recycled(spare.memory, initial_bytes(program), spare.locked),
        spare.pre,
    ))
}

/// Clears `memory` after an execution of `program` and keeps it for the
/// next; drops it when that fails or the module's size is not virtual.
pub(crate) fn give_back(
    program: &Program,
    mut memory: GuestMemory,
    pre: Rc<InstancePre<ThreadData>>,
) {
    if !program.virtual_memory || !memory.reusable() || Rc::strong_count(&pre) != 1 {
        return;
    }
    let start = Instant::now();
    let ok = reset(&mut memory, initial_bytes(program));
    RESETS.with(|t| t.set(t.get() + start.elapsed()));
    if ok {
        SPARE.with(|s| {
            *s.borrow_mut() = Some(Spare {
                program: program.id,
                locked: memory.locked,
                memory: memory.shared,
                pre,
            })
        });
    }
}

fn initial_bytes(program: &Program) -> u64 {
    program.memory_ty.minimum() * super::memory::PAGE
}

/// Makes `[from, to)` of `memory` accessible (`open`: the guest grew into
/// it) or inaccessible. False when the system refused.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) fn protect(memory: &SharedMemory, from: u64, to: u64, open: bool) -> bool {
    if from >= to {
        return true;
    }
    let data = memory.data();
    if to as usize > data.len() {
        return false;
    }
    let prot = if open {
        libc::PROT_READ | libc::PROT_WRITE
    } else {
        libc::PROT_NONE
    };
    // SAFETY: `[from, to)` lies inside the memory's mapping (checked above),
    // whose wasm-page boundaries are OS-page aligned; no guest code runs
    // while the host does this (see `super::memory`), and the host touches
    // no byte past the guest's size. (`data()` hands out cells over closed
    // pages too; nothing reads them.)
    unsafe {
        let start = data.as_ptr().cast::<u8>().cast_mut().add(from as usize);
        libc::mprotect(start.cast(), (to - from) as usize, prot) == 0
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(crate) fn protect(_: &SharedMemory, _: u64, _: u64, _: bool) -> bool {
    false
}

/// Zeroes every byte of `memory` the guest could have touched and closes
/// the pages past `initial`. False when the system refused.
///
/// The grown pages (thread stacks, the heap; few of them touched) the
/// kernel drops (`madvise(MADV_DONTNEED)`: a private anonymous mapping's
/// dropped pages read as zero on Linux, swapped-out ones too) and they are
/// closed. The initial pages (static data, main's stack) are locked in RAM
/// as they fault in (`mlock2(MLOCK_ONFAULT)`, once per memory), so the
/// kernel's list of resident pages (`mincore`) is exactly those that may
/// hold bytes, and those are cleared in place: the next execution finds
/// them mapped (measured on `atomic_counter`: the reset 6 µs shorter and 7
/// page faults fewer per execution than dropping them too, of about 300 µs).
/// Where the lock is refused (a low `RLIMIT_MEMLOCK`), the initial pages
/// are dropped with the rest. The pages past `closed` were dropped and
/// closed by an earlier reset, and the guest could not reach them since
/// (see `GuestMemory::grow`).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn reset(memory: &mut GuestMemory, initial: u64) -> bool {
    let end = memory.closed() as usize;
    let first = initial as usize;
    let data = memory.shared.data();
    if end > data.len() || first > end {
        return false;
    }
    let base = data.as_ptr().cast::<u8>().cast_mut();
    // SAFETY (all blocks below): `base` is the page-aligned start of a
    // private anonymous mapping at least `end` bytes long (wasm pages are
    // OS-page multiples); no guest code runs now and the host holds no
    // reference into it.
    if !memory.locked {
        memory.locked = unsafe {
            libc::syscall(
                libc::SYS_mlock2,
                base,
                first,
                libc::MLOCK_ONFAULT as libc::c_ulong,
            )
        } == 0;
    }
    let drop_from = if memory.locked {
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        let Some(page) = usize::try_from(page)
            .ok()
            .filter(|&p| p > 0 && first.is_multiple_of(p))
        else {
            return false;
        };
        let mut resident = vec![0u8; first / page];
        if unsafe { libc::mincore(base.cast(), first, resident.as_mut_ptr().cast()) } != 0 {
            return false;
        }
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
            unsafe { std::ptr::write_bytes(base.add(start * page), 0, (i - start) * page) };
        }
        first
    } else {
        0
    };
    if end > drop_from
        && unsafe {
            libc::madvise(
                base.add(drop_from).cast(),
                end - drop_from,
                libc::MADV_DONTNEED,
            )
        } != 0
    {
        return false;
    }
    protect(&memory.shared, initial, end as u64, false)
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn reset(_: &mut GuestMemory, _: u64) -> bool {
    false
}
