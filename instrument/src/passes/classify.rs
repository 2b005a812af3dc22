//! What each instruction means for scheduling: which hook it gets, and what
//! sits on the operand stack above its address.

use interlace_guest_sdk::abi::{AccessKind, Granularity};
use walrus::ir::{AtomicWidth, Instr, LoadSimdKind, StoreKind};
use walrus::{MemoryId, ValType};

/// How an instruction is rewritten.
pub(crate) enum Action {
    /// Left alone.
    Keep,
    /// A hook call before it; `above` are the operand types above the address.
    Access {
        kind: AccessKind,
        size: u32,
        atomic: bool,
        offset: u64,
        above: Vec<ValType>,
    },
    /// A hook call with no address (fence, memory.grow).
    NoAddress { kind: AccessKind },
    /// `memory.copy` (`copy`), or `memory.fill`/`memory.init`: `[dst, x, len]`.
    Bulk { copy: bool },
    /// Replaced by a call to the host's wait.
    Wait { sixty_four: bool, offset: u64 },
    /// Replaced by a call to the host's notify.
    Notify { offset: u64 },
}

fn width_ty(w: AtomicWidth) -> ValType {
    match w {
        AtomicWidth::I32 | AtomicWidth::I32_8 | AtomicWidth::I32_16 => ValType::I32,
        _ => ValType::I64,
    }
}

fn store_ty(k: StoreKind) -> ValType {
    match k {
        StoreKind::I32 { .. } | StoreKind::I32_8 { .. } | StoreKind::I32_16 { .. } => ValType::I32,
        StoreKind::I64 { .. }
        | StoreKind::I64_8 { .. }
        | StoreKind::I64_16 { .. }
        | StoreKind::I64_32 { .. } => ValType::I64,
        StoreKind::F32 => ValType::F32,
        StoreKind::F64 => ValType::F64,
        StoreKind::V128 => ValType::V128,
    }
}

fn simd(kind: LoadSimdKind) -> (AccessKind, u32, bool) {
    use LoadSimdKind::*;
    match kind {
        Splat8 => (AccessKind::Read, 1, false),
        Splat16 => (AccessKind::Read, 2, false),
        Splat32 | V128Load32Zero => (AccessKind::Read, 4, false),
        Splat64 | V128Load64Zero => (AccessKind::Read, 8, false),
        V128Load8x8S | V128Load8x8U | V128Load16x4S | V128Load16x4U | V128Load32x2S
        | V128Load32x2U => (AccessKind::Read, 8, false),
        V128Load8Lane(_) => (AccessKind::Read, 1, true),
        V128Load16Lane(_) => (AccessKind::Read, 2, true),
        V128Load32Lane(_) => (AccessKind::Read, 4, true),
        V128Load64Lane(_) => (AccessKind::Read, 8, true),
        V128Store8Lane(_) => (AccessKind::Write, 1, true),
        V128Store16Lane(_) => (AccessKind::Write, 2, true),
        V128Store32Lane(_) => (AccessKind::Write, 4, true),
        V128Store64Lane(_) => (AccessKind::Write, 8, true),
    }
}

/// Decides the rewrite of `instr`; only accesses to `shared` are scheduling points.
pub(crate) fn classify(instr: &Instr, shared: MemoryId, granularity: Granularity) -> Action {
    let all = granularity == Granularity::All;
    match instr {
        Instr::Load(l) if l.memory == shared && (all || l.kind.atomic()) => Action::Access {
            kind: AccessKind::Read,
            size: l.kind.width(),
            atomic: l.kind.atomic(),
            offset: l.arg.offset,
            above: vec![],
        },
        Instr::Store(s) if s.memory == shared && (all || s.kind.atomic()) => Action::Access {
            kind: AccessKind::Write,
            size: s.kind.width(),
            atomic: s.kind.atomic(),
            offset: s.arg.offset,
            above: vec![store_ty(s.kind)],
        },
        Instr::LoadSimd(l) if l.memory == shared && all => {
            let (kind, size, lane) = simd(l.kind);
            let above = if lane { vec![ValType::V128] } else { vec![] };
            Action::Access {
                kind,
                size,
                atomic: false,
                offset: l.arg.offset,
                above,
            }
        }
        Instr::AtomicRmw(r) if r.memory == shared => Action::Access {
            kind: AccessKind::ReadModifyWrite,
            size: r.width.bytes(),
            atomic: true,
            offset: r.arg.offset,
            above: vec![width_ty(r.width)],
        },
        Instr::Cmpxchg(c) if c.memory == shared => Action::Access {
            kind: AccessKind::CompareExchange,
            size: c.width.bytes(),
            atomic: true,
            offset: c.arg.offset,
            above: vec![width_ty(c.width), width_ty(c.width)],
        },
        Instr::AtomicFence(_) => Action::NoAddress {
            kind: AccessKind::Fence,
        },
        Instr::MemoryGrow(g) if g.memory == shared => Action::NoAddress {
            kind: AccessKind::Grow,
        },
        Instr::MemoryCopy(c) if all && (c.src == shared || c.dst == shared) => {
            Action::Bulk { copy: true }
        }
        Instr::MemoryFill(f) if all && f.memory == shared => Action::Bulk { copy: false },
        Instr::MemoryInit(i) if all && i.memory == shared => Action::Bulk { copy: false },
        Instr::AtomicWait(w) if w.memory == shared => Action::Wait {
            sixty_four: w.sixty_four,
            offset: w.arg.offset,
        },
        Instr::AtomicNotify(n) if n.memory == shared => Action::Notify {
            offset: n.arg.offset,
        },
        _ => Action::Keep,
    }
}
