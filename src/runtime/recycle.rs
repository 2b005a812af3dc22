//! The next execution gets the last one's memory, zeroed, instead of a fresh
//! mapping.
//!
//! A fresh shared memory per execution cost its mapping, a page fault and
//! the kernel's zeroing for every page the guest touched, and the unmapping:
//! a fifth of a small program's execution. A module whose memory size is
//! virtual (`abi::VIRTUAL_MEMORY_EXPORT`) cannot tell a recycled memory
//! from a fresh one: every byte it can see is zero again, it sees the
//! initial size, and its own bounds checks stop it at that size until it
//! grows (see [`super::memory::GuestMemory`]). Every page the last
//! execution could touch is cleared (see [`reset`]); the mapping stays as
//! the largest execution grew it, open, its touched pages resident.
//!
//! One memory per OS thread (each `--jobs` worker runs its executions on
//! its own), kept with the imports resolved over it (and so the program's
//! engine, until the thread runs another program). Linux only (the
//! guarantee that dropped pages read as zero); elsewhere every execution
//! maps a fresh memory.

use super::memory::{GuestMemory, Pages};
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
    /// What is known of its pages.
    pages: Pages,
}

thread_local! {
    static SPARE: RefCell<Option<Spare>> = const { RefCell::new(None) };
    /// Time this thread spent clearing memories, for the bench's breakdown.
    static RESETS: Cell<Duration> = const { Cell::new(Duration::ZERO) };
    /// Executions this thread started on a recycled memory.
    static REUSES: Cell<u64> = const { Cell::new(0) };
}

/// Executions this OS thread has started on a recycled memory.
pub(crate) fn reuses() -> u64 {
    REUSES.with(Cell::get)
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
    REUSES.with(|n| n.set(n.get() + 1));
    Some((
        GuestMemory::recycled(spare.memory, initial_bytes(program), spare.pages),
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
                pages: memory.pages,
                memory: memory.shared,
                pre,
            })
        });
    }
}

fn initial_bytes(program: &Program) -> u64 {
    program.memory_ty.minimum() * super::memory::PAGE
}

/// Zeroes every byte of `memory` the guest could have touched. False when
/// the system refused.
///
/// The mapping is locked in RAM as its pages fault in
/// (`mlock2(MLOCK_ONFAULT)`, again each time the mapping grew), so the
/// kernel's list of resident pages (`mincore`) holds every page that may
/// hold bytes (none is swapped out), and those below the largest size the
/// execution reached are cleared in place: the next execution finds them
/// mapped, with no page fault (about 3 µs each on the development machine)
/// and no `mprotect` (measured on `atomic_counter`: dropping the grown
/// pages, closing them and opening them again at each `memory.grow` was a
/// quarter of an execution). Pages cleared that the execution did not touch
/// cost a `memset` of 4 KiB each.
///
/// The pages mapped since the last lock (all of them after the first
/// execution, the new ones after one that grew the mapping) were not locked
/// while the guest ran: they are dropped before they are locked.
///
/// Locked pages are never dropped, so the resident set only grows, and a
/// page joins it only by a page fault of the thread that touches it: this
/// OS thread, the only one that runs the guest (see `super::memory`). So
/// when this thread has had no page fault since the list was last read, the
/// list still holds (asking the kernel was a sixth of an execution). That
/// needs the kernel not to fill a range in behind the thread's back, as
/// collapsing it into a transparent huge page would: the mapping is kept
/// out of them (`MADV_NOHUGEPAGE`), or the list is read every time.
///
/// Where the lock is refused (a low `RLIMIT_MEMLOCK`), the initial pages
/// are locked if they can be and the kernel drops the rest
/// (`madvise(MADV_DONTNEED)`: a private anonymous mapping's dropped pages
/// read as zero on Linux, swapped-out ones too).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn reset(memory: &mut GuestMemory, initial: u64) -> bool {
    let end = memory.reached() as usize;
    let data = memory.shared.data();
    let mapped = data.len();
    if end > mapped {
        return false;
    }
    let base = data.as_ptr().cast::<u8>().cast_mut();
    // SAFETY (all blocks below): `base` is the page-aligned start of a
    // private anonymous mapping `mapped` bytes long (wasm pages are
    // OS-page multiples); no guest code runs now and the host holds no
    // reference into it.
    let lock = |bytes: usize| {
        let r = unsafe {
            libc::syscall(
                libc::SYS_mlock2,
                base,
                bytes,
                libc::MLOCK_ONFAULT as libc::c_ulong,
            )
        };
        r == 0
    };
    let p = &mut memory.pages;
    if !p.refused && p.locked < mapped as u64 {
        // Pages not locked while the guest ran may have been swapped out
        // (`mincore` would miss them): dropped first, swap entries too.
        let from = p.locked as usize;
        if end > from
            && unsafe { libc::madvise(base.add(from).cast(), end - from, libc::MADV_DONTNEED) } != 0
        {
            return false;
        }
        if lock(mapped) {
            p.locked = mapped as u64;
            p.small = unsafe { libc::madvise(base.cast(), mapped, libc::MADV_NOHUGEPAGE) } == 0;
        } else {
            // Asked once: the initial pages at least, as before the
            // mapping grew.
            p.refused = true;
            if p.locked < initial && initial as usize <= mapped && lock(initial as usize) {
                p.locked = initial;
                p.small = false;
            }
        }
    }
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    let Some(page) = usize::try_from(page)
        .ok()
        .filter(|&n| n > 0 && end.is_multiple_of(n) && (p.locked as usize).is_multiple_of(n))
    else {
        return false;
    };
    // Past the locked pages the kernel drops them.
    let keep = end.min(p.locked as usize);
    if end > keep
        && unsafe { libc::madvise(base.add(keep).cast(), end - keep, libc::MADV_DONTNEED) } != 0
    {
        return false;
    }
    let faults = thread_faults();
    let fresh = p.small && faults.is_some() && p.faults == faults && p.seen >= keep;
    if !fresh {
        let mut resident = vec![0u8; keep / page];
        if unsafe { libc::mincore(base.cast(), keep, resident.as_mut_ptr().cast()) } != 0 {
            return false;
        }
        p.resident.clear();
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
            p.resident.push((start * page, i * page));
        }
        p.seen = keep;
        p.faults = faults;
    }
    for &(from, to) in &p.resident {
        let to = to.min(keep);
        if from < to {
            unsafe { std::ptr::write_bytes(base.add(from), 0, to - from) };
        }
    }
    true
}

/// Page faults of this OS thread so far (minor and major).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn thread_faults() -> Option<u64> {
    // SAFETY: getrusage only writes the struct it is given.
    unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        (libc::getrusage(libc::RUSAGE_THREAD, &mut u) == 0)
            .then(|| u.ru_minflt as u64 + u.ru_majflt as u64)
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn reset(_: &mut GuestMemory, _: u64) -> bool {
    false
}
