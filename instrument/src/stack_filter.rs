//! The own-stack filter: a plain access to the running thread's own live
//! stack frames asks no host.
//!
//! Why it is sound: such an access can conflict with another thread's only
//! if that thread holds a pointer into this stack, and a pointer leaves a
//! stack only by being written somewhere else. Every store of a whole
//! 32-bit or wider value outside the own stack (plain, atomic, or a
//! `memory.copy` out of the stack) checks whether the value points into
//! `[__stack_pointer, top)`; if it does, the stack has *escaped*: `top`
//! becomes 0 and every later access of the thread is a scheduling point
//! again. Everything the thread did before happens before any use of the
//! pointer by another thread (that thread must first read the pointer,
//! which was written after), so the accesses the host never saw cannot
//! race with anything. A spawn's argument is checked the same way by the
//! host (`wasi.thread-spawn`, guest-sdk's spawn). What it does not see: a
//! pointer stored in pieces narrower than 32 bits (a byte-wise copy loop,
//! as musl's `memcpy` makes for up to 32 bytes between addresses that
//! differ mod 4), or at an offset inside a wider store that is not a
//! multiple of 4 (see docs/limits.md). Leaf functions' frames below the
//! stack pointer (LLVM's 128-byte red zone) are outside the filter: their
//! accesses are points, and a caller-frame pointer stored there escapes.
//!
//! `top` is the stack top: the `__stack_pointer` initial value in the main
//! thread's instance, set where `wasi_thread_start` sets the stack pointer
//! in a spawned thread's, and by the host for a guest-sdk lightweight
//! thread ([`abi::STACK_TOP_EXPORT`]). Filtered accesses are counted in the
//! guest; every [`abi::PRIVATE_CHUNK`] the host hears of them, so the step
//! bound still stops a loop that touches only its own stack.

use interlace_guest_sdk::abi;
use walrus::ir::{BinaryOp, Instr, LoadKind, MemArg, UnaryOp, Value};
use walrus::{ConstExpr, FunctionBuilder, FunctionId, GlobalId, GlobalKind, Module, ValType};

/// The filter's globals and helpers.
#[derive(Clone, Copy)]
pub(crate) struct StackFilter {
    sp: GlobalId,
    top: GlobalId,
    /// `(addr, site, end_offset)`: a load or a narrow store.
    pub plain: FunctionId,
    /// `(addr, site, end_offset, value)`: an `i32` store.
    pub store32: FunctionId,
    /// `(addr, site, end_offset, value)`: an `i64` store.
    pub store64: FunctionId,
    /// The same for a plain access in library code: no host call either
    /// while [`abi::LIBRARY_POINTS_EXPORT`] is 0 (escapes still checked; a
    /// write sets the flag of [`abi::ACCESS_WROTE`]). A load.
    pub library_plain: FunctionId,
    /// See [`StackFilter::library_plain`]: a store narrower than 32 bits or
    /// of a float (`(addr, site, end_offset)`).
    pub library_write: FunctionId,
    /// See [`StackFilter::library_plain`].
    pub library_store32: FunctionId,
    /// See [`StackFilter::library_plain`].
    pub library_store64: FunctionId,
    /// `(value)`: marks the stack escaped if `value` points into it.
    pub escape32: FunctionId,
    /// `(value)`: the same for both halves of an `i64`.
    pub escape64: FunctionId,
    /// `(dst, src, len)`: a `memory.copy` out of the own stack escapes
    /// what it copies that points into it.
    pub copy_out: FunctionId,
}

impl StackFilter {
    /// The helpers of a library store: narrow or float, `i32`, `i64`.
    pub fn library_writes(&self) -> (FunctionId, FunctionId, FunctionId) {
        (
            self.library_write,
            self.library_store32,
            self.library_store64,
        )
    }
}

/// Adds the filter to a module whose stack pointer is the global named
/// `__stack_pointer` with a constant initial value; `access` is the helper
/// that asks the host.
pub(crate) fn add(
    module: &mut Module,
    memory: walrus::MemoryId,
    access: FunctionId,
    park: FunctionId,
    wrote: GlobalId,
) -> Option<StackFilter> {
    let sp = module
        .globals
        .iter()
        .find(|g| g.name.as_deref() == Some("__stack_pointer") && g.ty == ValType::I32)?;
    let initial = match sp.kind {
        GlobalKind::Local(ConstExpr::Value(Value::I32(v))) => v,
        _ => return None,
    };
    let sp = sp.id();
    let top = module.globals.add_local(
        ValType::I32,
        true,
        false,
        ConstExpr::Value(Value::I32(initial)),
    );
    module.exports.add(abi::STACK_TOP_EXPORT, top);
    let budget = module.globals.add_local(
        ValType::I32,
        true,
        false,
        ConstExpr::Value(Value::I32(abi::PRIVATE_CHUNK)),
    );
    let ty = module.types.add(&[], &[ValType::I32]);
    let spent = module
        .add_import_func(abi::IMPORT_MODULE, abi::PRIVATE_SPENT, ty)
        .0;
    let private = private_helper(module, budget, spent, park);
    let escape32 = escape32_helper(module, sp, top);
    let escape64 = escape64_helper(module, escape32);
    let library =
        module
            .globals
            .add_local(ValType::I32, true, false, ConstExpr::Value(Value::I32(1)));
    module.exports.add(abi::LIBRARY_POINTS_EXPORT, library);
    let filter = |module: &mut Module, escape, library| {
        filter_helper(module, sp, top, private, access, escape, library)
    };
    let plain = filter(module, None, None);
    let store32 = filter(module, Some(escape32), None);
    let store64 = filter(module, Some(escape64), None);
    let library_plain = filter(module, None, Some((library, None)));
    let library_write = filter(module, None, Some((library, Some(wrote))));
    let library_store32 = filter(module, Some(escape32), Some((library, Some(wrote))));
    let library_store64 = filter(module, Some(escape64), Some((library, Some(wrote))));
    let copy_out = copy_out_helper(module, memory, sp, top, escape32);
    Some(StackFilter {
        sp,
        top,
        plain,
        store32,
        store64,
        library_plain,
        library_write,
        library_store32,
        library_store64,
        escape32,
        escape64,
        copy_out,
    })
}

/// `budget -= 1; if budget == 0 { budget = CHUNK; if private_spent() { park() } }`
fn private_helper(
    module: &mut Module,
    budget: GlobalId,
    spent: FunctionId,
    park: FunctionId,
) -> FunctionId {
    let mut b = FunctionBuilder::new(&mut module.types, &[], &[]);
    b.name("__interlace_private".to_string());
    b.func_body()
        .global_get(budget)
        .i32_const(1)
        .binop(BinaryOp::I32Sub)
        .global_set(budget)
        .global_get(budget)
        .unop(UnaryOp::I32Eqz)
        .if_else(
            None,
            |then| {
                then.i32_const(abi::PRIVATE_CHUNK)
                    .global_set(budget)
                    .call(spent)
                    .if_else(
                        None,
                        |end| {
                            end.call(park);
                        },
                        |_| {},
                    );
            },
            |_| {},
        );
    b.finish(vec![], &mut module.funcs)
}

/// `if v - sp <u top - sp { top = 0 }`: `v` points into the live stack.
fn escape32_helper(module: &mut Module, sp: GlobalId, top: GlobalId) -> FunctionId {
    let mut b = FunctionBuilder::new(&mut module.types, &[ValType::I32], &[]);
    b.name("__interlace_escape32".to_string());
    let v = module.locals.add(ValType::I32);
    b.func_body()
        .local_get(v)
        .global_get(sp)
        .binop(BinaryOp::I32Sub)
        .global_get(top)
        .global_get(sp)
        .binop(BinaryOp::I32Sub)
        .binop(BinaryOp::I32LtU)
        .if_else(
            None,
            |then| {
                then.i32_const(0).global_set(top);
            },
            |_| {},
        );
    b.finish(vec![v], &mut module.funcs)
}

fn escape64_helper(module: &mut Module, escape32: FunctionId) -> FunctionId {
    let mut b = FunctionBuilder::new(&mut module.types, &[ValType::I64], &[]);
    b.name("__interlace_escape64".to_string());
    let v = module.locals.add(ValType::I64);
    b.func_body()
        .local_get(v)
        .unop(UnaryOp::I32WrapI64)
        .call(escape32)
        .local_get(v)
        .i64_const(32)
        .binop(BinaryOp::I64ShrU)
        .unop(UnaryOp::I32WrapI64)
        .call(escape32);
    b.finish(vec![v], &mut module.funcs)
}

/// Pushes whether `[start, start + len)` (locals) lies in the live stack
/// `[sp, top)`.
fn within_stack(
    body: &mut walrus::InstrSeqBuilder,
    sp: GlobalId,
    top: GlobalId,
    start: walrus::LocalId,
    len: walrus::LocalId,
) {
    body.local_get(start)
        .global_get(sp)
        .binop(BinaryOp::I32GeU)
        .local_get(start)
        .local_get(len)
        .binop(BinaryOp::I32Add)
        .global_get(top)
        .binop(BinaryOp::I32LeU)
        .binop(BinaryOp::I32And);
}

/// `fn(addr, site, end[, v]) { if sp <=u addr && addr + end <=u top {
/// private(); return } [escape(v)] [if library == 0 { [wrote = 1]
/// private(); return }] access(addr, site) }`.
fn filter_helper(
    module: &mut Module,
    sp: GlobalId,
    top: GlobalId,
    private: FunctionId,
    access: FunctionId,
    escape: Option<FunctionId>,
    library: Option<(GlobalId, Option<GlobalId>)>,
) -> FunctionId {
    let value = escape.map(|e| {
        let ty = module.types.get(module.funcs.get(e).ty()).params()[0];
        (e, ty)
    });
    let mut params = vec![ValType::I32, ValType::I32, ValType::I32];
    params.extend(value.map(|(_, ty)| ty));
    let mut b = FunctionBuilder::new(&mut module.types, &params, &[]);
    let prefix = if library.is_some() { "_library" } else { "" };
    b.name(match (value, library) {
        (None, Some((_, Some(_)))) => "__interlace_library_write".to_string(),
        (None, _) => format!("__interlace{prefix}_plain"),
        (Some((_, ty)), _) => format!("__interlace{prefix}_store_{ty}"),
    });
    let args: Vec<_> = params.iter().map(|&t| module.locals.add(t)).collect();
    let (addr, site, end) = (args[0], args[1], args[2]);
    let mut body = b.func_body();
    within_stack(&mut body, sp, top, addr, end);
    body.if_else(
        None,
        |own| {
            own.call(private).return_();
        },
        |_| {},
    );
    if let Some((escape, _)) = value {
        body.local_get(args[3]).call(escape);
    }
    if let Some((library, wrote)) = library {
        body.global_get(library).unop(UnaryOp::I32Eqz).if_else(
            None,
            |skip| {
                if let Some(wrote) = wrote {
                    skip.i32_const(1).global_set(wrote);
                }
                skip.call(private).return_();
            },
            |_| {},
        );
    }
    body.local_get(addr).local_get(site).call(access);
    b.finish(args, &mut module.funcs)
}

/// `fn(dst, src, len)`: when `[src, src + len)` is in the live stack and
/// `[dst, dst + len)` is not, every 4 bytes copied (at any offset) are
/// checked as a pointer.
fn copy_out_helper(
    module: &mut Module,
    memory: walrus::MemoryId,
    sp: GlobalId,
    top: GlobalId,
    escape32: FunctionId,
) -> FunctionId {
    let mut b = FunctionBuilder::new(&mut module.types, &[ValType::I32; 3], &[]);
    b.name("__interlace_copy_out".to_string());
    let (dst, src, len) = (
        module.locals.add(ValType::I32),
        module.locals.add(ValType::I32),
        module.locals.add(ValType::I32),
    );
    let mut body = b.func_body();
    within_stack(&mut body, sp, top, src, len);
    within_stack(&mut body, sp, top, dst, len);
    body.unop(UnaryOp::I32Eqz)
        .binop(BinaryOp::I32And)
        .local_get(len)
        .i32_const(4)
        .binop(BinaryOp::I32GeU)
        .binop(BinaryOp::I32And)
        .if_else(
            None,
            |scan| {
                // len -= 3; while len != 0 { len -= 1; escape(load(src + len)) }
                scan.local_get(len)
                    .i32_const(3)
                    .binop(BinaryOp::I32Sub)
                    .local_set(len)
                    .block(None, |done| {
                        let done_id = done.id();
                        done.loop_(None, |each| {
                            let each_id = each.id();
                            each.local_get(len)
                                .unop(UnaryOp::I32Eqz)
                                .br_if(done_id)
                                .local_get(len)
                                .i32_const(1)
                                .binop(BinaryOp::I32Sub)
                                .local_tee(len)
                                .local_get(src)
                                .binop(BinaryOp::I32Add)
                                .load(
                                    memory,
                                    LoadKind::I32 { atomic: false },
                                    MemArg {
                                        align: 1,
                                        offset: 0,
                                    },
                                )
                                .call(escape32)
                                .br(each_id);
                        });
                    });
            },
            |_| {},
        );
    b.finish(vec![dst, src, len], &mut module.funcs)
}

/// After each `global.set __stack_pointer` in `wasi_thread_start` (which
/// switches a new thread's instance to its own stack), `top` follows it.
pub(crate) fn track_thread_start(module: &mut Module, filter: &StackFilter) {
    let start = module.exports.iter().find_map(|e| match e.item {
        walrus::ExportItem::Function(f) if e.name == "wasi_thread_start" => Some(f),
        _ => None,
    });
    let Some(walrus::FunctionKind::Local(func)) = start.map(|f| &mut module.funcs.get_mut(f).kind)
    else {
        return;
    };
    let mut seqs = vec![func.entry_block()];
    while let Some(seq) = seqs.pop() {
        let block = func.block_mut(seq);
        let mut out = Vec::with_capacity(block.instrs.len() + 2);
        for (instr, loc) in std::mem::take(&mut block.instrs) {
            seqs.extend(crate::passes::children(&instr));
            let sets_sp = matches!(&instr, Instr::GlobalSet(g) if g.global == filter.sp);
            out.push((instr, loc));
            if sets_sp {
                out.push((
                    Instr::GlobalGet(walrus::ir::GlobalGet { global: filter.sp }),
                    loc,
                ));
                out.push((
                    Instr::GlobalSet(walrus::ir::GlobalSet { global: filter.top }),
                    loc,
                ));
            }
        }
        func.block_mut(seq).instrs = out;
    }
}
