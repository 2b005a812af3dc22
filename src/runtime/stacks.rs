//! Fiber stacks kept for the next execution: every guest thread runs on a
//! fiber whose stack wasmtime would otherwise map, guard and unmap per
//! thread per execution (a third of the kernel's share of an execution).

use std::ops::Range;
use std::sync::{Arc, Mutex};
use wasmtime::{StackCreator, StackMemory};

/// Stacks kept mapped between executions, per size.
const KEEP: usize = 256;

/// Hands out recycled stacks (their old contents do not matter: a fiber
/// writes its frames before it reads them).
#[derive(Default)]
pub(crate) struct StackPool {
    free: Arc<Mutex<Vec<Mapping>>>,
}

/// One mapping: a guard page, then the stack.
struct Mapping {
    base: usize,
    len: usize,
    size: usize,
}

// SAFETY: the mapping is plain memory owned by this value alone.
unsafe impl Send for Mapping {}

impl Mapping {
    fn new(size: usize) -> std::io::Result<Mapping> {
        let page = page_size();
        let size = size.div_ceil(page) * page;
        let len = size + page;
        // SAFETY: an anonymous private mapping; nothing else refers to it.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: the first page of the mapping just made becomes the guard.
        if unsafe { libc::mprotect(base, page, libc::PROT_NONE) } != 0 {
            let e = std::io::Error::last_os_error();
            // SAFETY: unmapping what was just mapped.
            unsafe { libc::munmap(base, len) };
            return Err(e);
        }
        Ok(Mapping {
            base: base as usize,
            len,
            size,
        })
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: the mapping is owned by this value and no fiber uses it.
        unsafe { libc::munmap(self.base as *mut libc::c_void, self.len) };
    }
}

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if p > 0 {
        p as usize
    } else {
        4096
    }
}

/// A stack lent to a fiber; back to the pool when wasmtime drops it.
struct Lent {
    mapping: Option<Mapping>,
    free: Arc<Mutex<Vec<Mapping>>>,
}

// SAFETY: top/range/guard_range describe the mapping this value owns, which
// stays mapped until it is dropped.
unsafe impl StackMemory for Lent {
    fn top(&self) -> *mut u8 {
        let m = self.mapping.as_ref().expect("lent");
        (m.base + m.len) as *mut u8
    }
    fn range(&self) -> Range<usize> {
        let m = self.mapping.as_ref().expect("lent");
        (m.base + m.len - m.size)..(m.base + m.len)
    }
    fn guard_range(&self) -> Range<*mut u8> {
        let m = self.mapping.as_ref().expect("lent");
        (m.base as *mut u8)..((m.base + m.len - m.size) as *mut u8)
    }
}

impl Drop for Lent {
    fn drop(&mut self) {
        if let (Some(m), Ok(mut free)) = (self.mapping.take(), self.free.lock()) {
            if free.len() < KEEP {
                free.push(m);
            }
        }
    }
}

// SAFETY: every stack handed out is page aligned, has a guard page below it
// and stays mapped while lent.
unsafe impl StackCreator for StackPool {
    fn new_stack(&self, size: usize, zeroed: bool) -> wasmtime::Result<Box<dyn StackMemory>> {
        let page = page_size();
        let want = size.div_ceil(page) * page;
        let recycled = if zeroed {
            None
        } else {
            let mut free = self
                .free
                .lock()
                .map_err(|_| wasmtime::format_err!("stack pool poisoned"))?;
            free.iter()
                .position(|m| m.size == want)
                .map(|i| free.swap_remove(i))
        };
        let mapping = match recycled {
            Some(m) => m,
            None => Mapping::new(size)
                .map_err(|e| wasmtime::format_err!("cannot map a fiber stack: {e}"))?,
        };
        Ok(Box::new(Lent {
            mapping: Some(mapping),
            free: Arc::clone(&self.free),
        }))
    }
}
