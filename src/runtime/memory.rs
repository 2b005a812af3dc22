//! Host access to the guest's shared memory.
//!
//! `SharedMemory::data` hands out `UnsafeCell`s because other OS threads could
//! touch the memory concurrently. Here they cannot: every guest thread of an
//! execution runs as a fiber on the one OS thread that calls these functions,
//! and never while a host function runs. That is the whole argument for the
//! `unsafe` below.

use std::cell::UnsafeCell;
use wasmtime::SharedMemory;

/// Bytes in a wasm page.
pub(crate) const PAGE: u64 = 1 << 16;

/// What the host knows of a memory's pages (see `super::recycle`).
#[derive(Clone, Debug, Default)]
pub(crate) struct Pages {
    /// Bytes from the start locked in RAM as they fault in.
    pub locked: u64,
    /// The system refused to lock more: not asked again.
    pub refused: bool,
    /// The locked bytes are kept out of transparent huge pages.
    pub small: bool,
    /// Byte ranges below `seen` that were resident when last asked.
    pub resident: Vec<(usize, usize)>,
    /// How far `resident` goes.
    pub seen: usize,
    /// This OS thread's page faults just before `resident` was read.
    pub faults: Option<u64>,
}

/// An execution's shared memory and its size as the guest sees it.
///
/// A recycled memory (see `super::recycle`) keeps the mapping a previous
/// execution grew, open, but the guest sees only `bytes` of it: the
/// instrumenter turns `memory.size` and `memory.grow` into host calls and
/// checks every access against the size (see `abi::VIRTUAL_MEMORY_EXPORT`),
/// so a load or store past it traps as in a fresh memory. The host reads
/// and writes only below the guest's size. A module whose size is not the
/// host's (uninstrumented, or instrumented by an older version) grows the
/// memory itself: its size is the mapping's.
pub(crate) struct GuestMemory {
    pub shared: SharedMemory,
    /// The size the guest sees, when the host keeps it.
    bytes: Option<u64>,
    /// The largest size the guest has seen since the memory was last
    /// cleared: every byte past it is zero.
    reached: u64,
    /// What the host knows of its pages (see `super::recycle`).
    pub(super) pages: Pages,
}

impl GuestMemory {
    /// A fresh memory; `virtual_size`: the guest's size is the host's (see
    /// the type's docs).
    pub fn new(shared: SharedMemory, virtual_size: bool) -> GuestMemory {
        let bytes = shared.data_size() as u64;
        GuestMemory {
            shared,
            bytes: virtual_size.then_some(bytes),
            reached: bytes,
            pages: Pages::default(),
        }
    }

    /// A recycled memory, zero throughout, that the guest sees at `bytes`.
    pub(super) fn recycled(shared: SharedMemory, bytes: u64, pages: Pages) -> GuestMemory {
        GuestMemory {
            shared,
            bytes: Some(bytes),
            reached: bytes,
            pages,
        }
    }

    /// The size the guest sees, in bytes.
    pub fn size(&self) -> u64 {
        self.bytes.unwrap_or_else(|| self.shared.data_size() as u64)
    }

    /// The largest size the guest has seen: every byte past it is zero.
    pub(super) fn reached(&self) -> u64 {
        self.reached
    }

    /// Whether the memory may be reused: the host keeps its size.
    pub(super) fn reusable(&self) -> bool {
        self.bytes.is_some()
    }

    /// The bytes the guest sees.
    fn data(&self) -> &[UnsafeCell<u8>] {
        let data = self.shared.data();
        match self.bytes {
            Some(b) => &data[..b as usize],
            None => data,
        }
    }

    /// `memory.grow` by `pages`: the old size in pages, or None (the
    /// maximum, or the system refused). Nothing changes when it fails.
    pub fn grow(&mut self, pages: u64) -> Option<u64> {
        let Some(bytes) = self.bytes else {
            return self.shared.grow(pages).ok();
        };
        let old = bytes / PAGE;
        let max = self.shared.ty().maximum().unwrap_or(1 << 16);
        let new = old.checked_add(pages).filter(|&n| n <= max)?;
        let new_bytes = new * PAGE;
        let mapped = self.shared.data_size() as u64;
        // Below the mapping's end the pages are open and zero already; past
        // it wasmtime grows the mapping.
        if new_bytes > mapped && self.shared.grow((new_bytes - mapped) / PAGE).is_err() {
            return None;
        }
        self.reached = self.reached.max(new_bytes);
        self.bytes = Some(new_bytes);
        Some(old)
    }
}

fn range(mem: &GuestMemory, addr: u64, len: u64) -> Option<(usize, usize)> {
    let end = addr.checked_add(len)?;
    if end > mem.size() {
        return None;
    }
    Some((addr as usize, end as usize))
}

/// Copies `len` bytes out of guest memory; None when out of bounds.
pub(crate) fn read(mem: &GuestMemory, addr: u64, len: u64) -> Option<Vec<u8>> {
    let (start, end) = range(mem, addr, len)?;
    let cells = &mem.data()[start..end];
    // SAFETY: see the module docs: no guest code runs concurrently with this read.
    Some(cells.iter().map(|c| unsafe { *c.get() }).collect())
}

/// Writes `bytes` into guest memory; None when out of bounds.
pub(crate) fn write(mem: &GuestMemory, addr: u64, bytes: &[u8]) -> Option<()> {
    let (start, end) = range(mem, addr, bytes.len() as u64)?;
    let cells = &mem.data()[start..end];
    for (c, b) in cells.iter().zip(bytes) {
        // SAFETY: see the module docs: no guest code runs concurrently with this write.
        unsafe { *c.get() = *b };
    }
    Some(())
}

/// Reads a little-endian unsigned integer of `size` (1..=8) bytes.
/// No allocation: the scheduler calls it at steps.
pub(crate) fn read_uint(mem: &GuestMemory, addr: u64, size: u64) -> Option<u64> {
    // One `data()` (it takes the memory's lock to read its size), not two.
    let data = mem.data();
    let end = addr.checked_add(size.min(8))?;
    let cells = data.get(usize::try_from(addr).ok()?..usize::try_from(end).ok()?)?;
    let mut buf = [0u8; 8];
    for (b, c) in buf.iter_mut().zip(cells) {
        // SAFETY: see the module docs: no guest code runs concurrently with this read.
        *b = unsafe { *c.get() };
    }
    Some(u64::from_le_bytes(buf))
}

pub(crate) fn read_u32(mem: &GuestMemory, addr: u64) -> Option<u32> {
    read_uint(mem, addr, 4).map(|v| v as u32)
}

pub(crate) fn write_u32(mem: &GuestMemory, addr: u64, v: u32) -> Option<()> {
    write(mem, addr, &v.to_le_bytes())
}

pub(crate) fn write_u64(mem: &GuestMemory, addr: u64, v: u64) -> Option<()> {
    write(mem, addr, &v.to_le_bytes())
}
