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

/// An execution's shared memory and its size as the guest sees it.
///
/// A recycled memory (see `super::recycle`) keeps the mapping a previous
/// execution grew, but the guest sees only `bytes` of it (the instrumenter
/// turns `memory.size` and `memory.grow` into host calls, see
/// `abi::VIRTUAL_MEMORY_EXPORT`); the pages past `bytes` are inaccessible
/// (`PROT_NONE`) until the guest grows into them, so a load or store there
/// traps as in a fresh memory. The host reads and writes only below the
/// guest's size. A module whose size is not the host's (uninstrumented, or
/// instrumented by an older version) grows the memory itself: its size is
/// the mapping's.
pub(crate) struct GuestMemory {
    pub shared: SharedMemory,
    /// The size the guest sees, when the host keeps it.
    bytes: Option<u64>,
    /// Where the inaccessible pages start (the mapping's size when none are).
    closed: u64,
    /// Pages past the guest's size may be open (a failed grow could not
    /// close them again): the memory must not be reused.
    spoilt: bool,
    /// The initial pages are locked in RAM (see `super::recycle`).
    pub(super) locked: bool,
}

impl GuestMemory {
    /// A fresh memory, all of it accessible; `virtual_size`: the guest's
    /// size is the host's (see the type's docs).
    pub fn new(shared: SharedMemory, virtual_size: bool) -> GuestMemory {
        let bytes = shared.data_size() as u64;
        GuestMemory {
            shared,
            bytes: virtual_size.then_some(bytes),
            closed: bytes,
            spoilt: false,
            locked: false,
        }
    }

    /// A recycled memory the guest sees at `bytes`, with the mapping
    /// inaccessible from there on.
    pub(super) fn recycled(shared: SharedMemory, bytes: u64, locked: bool) -> GuestMemory {
        GuestMemory {
            shared,
            bytes: Some(bytes),
            closed: bytes,
            spoilt: false,
            locked,
        }
    }

    /// The size the guest sees, in bytes.
    pub fn size(&self) -> u64 {
        self.bytes.unwrap_or_else(|| self.shared.data_size() as u64)
    }

    /// Where the inaccessible pages start: every page below may have been
    /// written.
    pub(super) fn closed(&self) -> u64 {
        self.closed
    }

    /// Whether the memory may be reused (see `spoilt`).
    pub(super) fn reusable(&self) -> bool {
        self.bytes.is_some() && !self.spoilt
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
        // Open what the guest grows into, up to the mapping's end; then
        // grow the mapping for the rest (wasmtime opens that part).
        let open_to = new_bytes.min(mapped);
        let opens = open_to > self.closed;
        if opens && !super::recycle::protect(&self.shared, self.closed, open_to, true) {
            return None;
        }
        if new_bytes > mapped && self.shared.grow((new_bytes - mapped) / PAGE).is_err() {
            if opens && !super::recycle::protect(&self.shared, self.closed, open_to, false) {
                self.spoilt = true;
            }
            return None;
        }
        self.closed = self.closed.max(new_bytes);
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
