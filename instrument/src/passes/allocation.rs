//! The allocator's entry points announce the memory they hand out
//! (`abi::ALLOCATED`): memory that one thread freed and another got back
//! from `malloc` is fresh to the second, and DPOR must not order the two
//! threads by it (the allocator's lock, which really orders them, is left
//! unordered by the search; see the runtime's DPOR).

use super::{call, children, local_get, local_set};
use walrus::ir::{self, Instr, InstrSeqId, InstrSeqType};
use walrus::{FunctionId, FunctionKind, Module, ValType};

/// How an allocation function's arguments give the size and the old block.
#[derive(Clone, Copy)]
pub(crate) enum Shape {
    /// `malloc(size)`.
    Malloc,
    /// `calloc(count, size)`.
    Calloc,
    /// `realloc(old, size)`.
    Realloc,
    /// `aligned_alloc(align, size)`.
    Aligned,
}

/// The allocation function `name` names, if any.
pub(crate) fn allocation_shape(name: &str) -> Option<Shape> {
    match name {
        "malloc" => Some(Shape::Malloc),
        "calloc" => Some(Shape::Calloc),
        "realloc" => Some(Shape::Realloc),
        "aligned_alloc" => Some(Shape::Aligned),
        _ => None,
    }
}

/// Rewrites allocation function `id` (its signature checked by the caller)
/// as `{ let p = { body, with each return a branch out }; allocated(p, size,
/// old); p }`.
pub(crate) fn announce(module: &mut Module, id: FunctionId, shape: Shape, hook: FunctionId) {
    let ret = module.locals.add(ValType::I32);
    let FunctionKind::Local(func) = &mut module.funcs.get_mut(id).kind else {
        return;
    };
    let args = func.args.clone();
    let entry = func.entry_block();
    let body = std::mem::take(&mut func.block_mut(entry).instrs);
    let inner = func
        .builder_mut()
        .dangling_instr_seq(InstrSeqType::Simple(Some(ValType::I32)))
        .id();
    func.block_mut(inner).instrs = body;
    // Every return now leaves the inner block with its value (a tail call
    // becomes a call and that).
    let mut stack: Vec<InstrSeqId> = vec![inner];
    while let Some(seq) = stack.pop() {
        let instrs = std::mem::take(&mut func.block_mut(seq).instrs);
        let mut out = Vec::with_capacity(instrs.len());
        for (instr, loc) in instrs {
            stack.extend(children(&instr));
            let leave = (Instr::Br(ir::Br { block: inner }), loc);
            match instr {
                Instr::Return(_) => out.push(leave),
                Instr::ReturnCall(ir::ReturnCall { func }) => {
                    out.push((Instr::Call(ir::Call { func }), loc));
                    out.push(leave);
                }
                Instr::ReturnCallIndirect(ir::ReturnCallIndirect { ty, table }) => {
                    out.push((Instr::CallIndirect(ir::CallIndirect { ty, table }), loc));
                    out.push(leave);
                }
                Instr::ReturnCallRef(ir::ReturnCallRef { ty }) => {
                    out.push((Instr::CallRef(ir::CallRef { ty }), loc));
                    out.push(leave);
                }
                instr => out.push((instr, loc)),
            }
        }
        func.block_mut(seq).instrs = out;
    }
    let loc = func
        .block(inner)
        .instrs
        .first()
        .map_or_else(ir::InstrLocId::default, |&(_, loc)| loc);
    let mut tail = vec![
        Instr::Block(ir::Block { seq: inner }),
        local_set(ret),
        local_get(ret),
    ];
    match shape {
        Shape::Malloc => tail.push(local_get(args[0])),
        Shape::Calloc => {
            tail.push(local_get(args[0]));
            tail.push(local_get(args[1]));
            tail.push(Instr::Binop(ir::Binop {
                op: ir::BinaryOp::I32Mul,
            }));
        }
        Shape::Realloc | Shape::Aligned => tail.push(local_get(args[1])),
    }
    match shape {
        Shape::Realloc => tail.push(local_get(args[0])),
        _ => tail.push(super::i32_const(0)),
    }
    tail.push(call(hook));
    tail.push(local_get(ret));
    func.block_mut(entry).instrs = tail.into_iter().map(|i| (i, loc)).collect();
}

/// Prepends `freed(ptr)` to `free(ptr)` or `realloc(ptr, size)` (function
/// `id`, its signature checked by the caller): the block is given back,
/// a scheduling point where the host sees a write over it (see
/// `abi::FREED`).
pub(crate) fn announce_free(module: &mut Module, id: FunctionId, hook: FunctionId) {
    let FunctionKind::Local(func) = &mut module.funcs.get_mut(id).kind else {
        return;
    };
    let ptr = func.args[0];
    let entry = func.entry_block();
    let instrs = &mut func.block_mut(entry).instrs;
    let loc = instrs
        .first()
        .map_or_else(ir::InstrLocId::default, |&(_, loc)| loc);
    instrs.splice(0..0, [(local_get(ptr), loc), (call(hook), loc)]);
}
