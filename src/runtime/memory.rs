//! Host access to the guest's shared memory.
//!
//! `SharedMemory::data` hands out `UnsafeCell`s because other OS threads could
//! touch the memory concurrently. Here they cannot: every guest thread of an
//! execution runs as a fiber on the one OS thread that calls these functions,
//! and never while a host function runs. That is the whole argument for the
//! `unsafe` below.

use wasmtime::SharedMemory;

fn range(mem: &SharedMemory, addr: u64, len: u64) -> Option<(usize, usize)> {
    let end = addr.checked_add(len)?;
    if end > mem.data_size() as u64 {
        return None;
    }
    Some((addr as usize, end as usize))
}

/// Copies `len` bytes out of guest memory; None when out of bounds.
pub(crate) fn read(mem: &SharedMemory, addr: u64, len: u64) -> Option<Vec<u8>> {
    let (start, end) = range(mem, addr, len)?;
    let cells = &mem.data()[start..end];
    // SAFETY: see the module docs: no guest code runs concurrently with this read.
    Some(cells.iter().map(|c| unsafe { *c.get() }).collect())
}

/// Writes `bytes` into guest memory; None when out of bounds.
pub(crate) fn write(mem: &SharedMemory, addr: u64, bytes: &[u8]) -> Option<()> {
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
pub(crate) fn read_uint(mem: &SharedMemory, addr: u64, size: u64) -> Option<u64> {
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

pub(crate) fn read_u32(mem: &SharedMemory, addr: u64) -> Option<u32> {
    read_uint(mem, addr, 4).map(|v| v as u32)
}

pub(crate) fn write_u32(mem: &SharedMemory, addr: u64, v: u32) -> Option<()> {
    write(mem, addr, &v.to_le_bytes())
}

pub(crate) fn write_u64(mem: &SharedMemory, addr: u64, v: u64) -> Option<()> {
    write(mem, addr, &v.to_le_bytes())
}
