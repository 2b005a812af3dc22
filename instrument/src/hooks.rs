//! The host imports and the small wasm helpers that call them.

use crate::passes::{Import, Model};
use crate::stack_filter::StackFilter;
use interlace_guest_sdk::abi;
use walrus::{FunctionBuilder, FunctionId, Module, ValType};

/// Functions the rewritten code calls.
pub(crate) struct Hooks {
    /// Wasm helper `(addr, site)`: asks the host, parks if told to.
    pub access: FunctionId,
    /// Wasm helper `(addr, site, expected)`: the same for a compare-exchange.
    pub access_cas: FunctionId,
    /// Wasm helper `(dst, src, len, site)`: the same for bulk operations.
    pub bulk: FunctionId,
    /// Host import replacing `memory.atomic.wait32`.
    pub wait32: FunctionId,
    /// Host import replacing `memory.atomic.wait64`.
    pub wait64: FunctionId,
    /// Host import replacing `memory.atomic.notify`.
    pub notify: FunctionId,
    /// Host import for comment markers, added only when there are some.
    pub marker_id: Option<FunctionId>,
    /// Host import [`abi::LOCK`] and std's `Mutex::lock_contended` it stands
    /// for, when the module has that function.
    pub lock: Option<(FunctionId, FunctionId)>,
    /// wasi-libc's functions modelled by host imports (see
    /// `passes::pthread_models`): the model, its import, the function.
    pub pthread_models: Vec<(Model, FunctionId, FunctionId)>,
    /// Host imports [`abi::LOCK`], [`abi::ACQUIRE`] and [`abi::BARRIER`],
    /// each added once.
    lock_import: Option<FunctionId>,
    acquire: Option<FunctionId>,
    barrier: Option<FunctionId>,
    /// Host import [`abi::ALLOCATED`], added with the first allocation
    /// function.
    pub allocated: Option<FunctionId>,
    /// Host import [`abi::FREED`], added with `free` or `realloc`.
    freed: Option<FunctionId>,
    /// Host import [`abi::PARK`].
    park: FunctionId,
    /// The own-stack filter, when the module has a `__stack_pointer` and
    /// every access is instrumented.
    pub stack: Option<StackFilter>,
    /// Whether the thread wrote in library code without telling the host
    /// since its last access (see [`abi::ACCESS_WROTE`]).
    wrote: walrus::GlobalId,
}

impl Hooks {
    pub(crate) fn add(module: &mut Module) -> Hooks {
        use ValType::{I32, I64};
        let m = abi::IMPORT_MODULE;
        let ty = module.types.add(&[I32, I32], &[I32]);
        let (access_host, _) = module.add_import_func(m, abi::ACCESS, ty);
        let ty = module.types.add(&[I32, I32, I64], &[I32]);
        let (access_cas_host, _) = module.add_import_func(m, abi::ACCESS_CAS, ty);
        let ty = module.types.add(&[I32, I32, I32, I32], &[I32]);
        let (bulk_host, _) = module.add_import_func(m, abi::BULK, ty);
        let ty = module.types.add(&[], &[]);
        let (park, _) = module.add_import_func(m, abi::PARK, ty);
        let ty = module.types.add(&[I32, I32, I64, I32], &[I32]);
        let (wait32, _) = module.add_import_func(m, abi::WAIT32, ty);
        let ty = module.types.add(&[I32, I64, I64, I32], &[I32]);
        let (wait64, _) = module.add_import_func(m, abi::WAIT64, ty);
        let ty = module.types.add(&[I32, I32, I32], &[I32]);
        let (notify, _) = module.add_import_func(m, abi::NOTIFY, ty);

        // See abi::SOLO_EXPORT: 0 until the host says the main thread is alone.
        let ty = module.types.add(&[], &[I32]);
        let solo = Solo {
            flag: exported_global(module, abi::SOLO_EXPORT),
            budget: exported_global(module, abi::SOLO_BUDGET_EXPORT),
            steps: module.add_import_func(m, abi::SOLO_STEPS, ty).0,
        };
        // Set by a library write the host did not see (see
        // abi::ACCESS_WROTE), told with the next access.
        let wrote = module.globals.add_local(
            I32,
            true,
            false,
            walrus::ConstExpr::Value(walrus::ir::Value::I32(0)),
        );
        let access = helper(
            module,
            &[I32, I32],
            access_host,
            park,
            solo,
            Some(wrote),
            "__interlace_access",
        );
        let access_cas = helper(
            module,
            &[I32, I32, I64],
            access_cas_host,
            park,
            solo,
            Some(wrote),
            "__interlace_access_cas",
        );
        let bulk = helper(
            module,
            &[I32, I32, I32, I32],
            bulk_host,
            park,
            solo,
            None,
            "__interlace_bulk",
        );
        Hooks {
            access,
            access_cas,
            bulk,
            wait32,
            wait64,
            notify,
            marker_id: None,
            lock: None,
            pthread_models: vec![],
            lock_import: None,
            acquire: None,
            barrier: None,
            allocated: None,
            freed: None,
            park,
            stack: None,
            wrote,
        }
    }

    /// Adds the [`abi::LOCK`] import for `lock_contended`.
    pub(crate) fn add_lock(&mut self, module: &mut Module, lock_contended: FunctionId) {
        let import = self.lock_import(module);
        self.lock = Some((import, lock_contended));
    }

    /// Adds the import `model` calls, for wasi-libc's function `target`.
    pub(crate) fn add_pthread_model(
        &mut self,
        module: &mut Module,
        model: Model,
        target: FunctionId,
    ) {
        let m = abi::IMPORT_MODULE;
        let import = match model.import() {
            Import::Lock => self.lock_import(module),
            Import::Acquire => *self.acquire.get_or_insert_with(|| {
                let ty = module.types.add(&[ValType::I32; 3], &[]);
                module.add_import_func(m, abi::ACQUIRE, ty).0
            }),
            Import::Barrier => *self.barrier.get_or_insert_with(|| {
                let ty = module.types.add(&[ValType::I32; 3], &[ValType::I32]);
                module.add_import_func(m, abi::BARRIER, ty).0
            }),
        };
        self.pthread_models.push((model, import, target));
    }

    /// The [`abi::ALLOCATED`] import, added once.
    pub(crate) fn allocated(&mut self, module: &mut Module) -> FunctionId {
        *self.allocated.get_or_insert_with(|| {
            let ty = module
                .types
                .add(&[ValType::I32, ValType::I32, ValType::I32], &[]);
            module
                .add_import_func(abi::IMPORT_MODULE, abi::ALLOCATED, ty)
                .0
        })
    }

    /// Adds the own-stack filter (see [`crate::stack_filter`]), when the
    /// module has a stack pointer to go by.
    pub(crate) fn add_stack_filter(&mut self, module: &mut Module, memory: walrus::MemoryId) {
        self.stack = crate::stack_filter::add(module, memory, self.access, self.park, self.wrote);
    }

    /// The [`abi::FREED`] import, added once.
    pub(crate) fn freed(&mut self, module: &mut Module) -> FunctionId {
        *self.freed.get_or_insert_with(|| {
            let ty = module.types.add(&[ValType::I32], &[]);
            module.add_import_func(abi::IMPORT_MODULE, abi::FREED, ty).0
        })
    }

    /// The [`abi::LOCK`] import, added once.
    fn lock_import(&mut self, module: &mut Module) -> FunctionId {
        *self.lock_import.get_or_insert_with(|| {
            let ty = module.types.add(&[ValType::I32, ValType::I32], &[]);
            module.add_import_func(abi::IMPORT_MODULE, abi::LOCK, ty).0
        })
    }
}

/// A mutable, per-instance `i32` global starting at 0, exported as `name`
/// for the host to set.
fn exported_global(module: &mut Module, name: &str) -> walrus::GlobalId {
    let id = module.globals.add_local(
        ValType::I32,
        true,
        false,
        walrus::ConstExpr::Value(walrus::ir::Value::I32(0)),
    );
    module.exports.add(name, id);
    id
}

/// The main thread's skipping while it is alone (see [`abi::SOLO_EXPORT`]).
#[derive(Clone, Copy)]
struct Solo {
    flag: walrus::GlobalId,
    budget: walrus::GlobalId,
    /// The [`abi::SOLO_STEPS`] import.
    steps: FunctionId,
}

/// `fn(params...) { if solo { budget -= 1; if budget == 0 && solo_steps() {
/// park() } return } if host(params...) { park() } }`: keeps the per-site
/// code to one call, the async park off the common path, and the host out
/// of the main thread's accesses before its first spawn but for one call
/// per budget (see [`abi::SOLO_EXPORT`]). With `wrote`, the site (the
/// second parameter) goes to the host with [`abi::ACCESS_WROTE`] set when
/// the global is, and the global is cleared.
fn helper(
    module: &mut Module,
    params: &[ValType],
    host: FunctionId,
    park: FunctionId,
    solo: Solo,
    wrote: Option<walrus::GlobalId>,
    name: &str,
) -> FunctionId {
    use walrus::ir::BinaryOp;
    let mut b = FunctionBuilder::new(&mut module.types, params, &[]);
    b.name(name.to_string());
    let args: Vec<_> = params.iter().map(|&t| module.locals.add(t)).collect();
    let mut body = b.func_body();
    body.global_get(solo.flag).if_else(
        None,
        |then| {
            then.global_get(solo.budget)
                .i32_const(1)
                .binop(BinaryOp::I32Sub)
                .global_set(solo.budget)
                .global_get(solo.budget)
                .unop(walrus::ir::UnaryOp::I32Eqz)
                .if_else(
                    None,
                    |spent| {
                        spent.call(solo.steps).if_else(
                            None,
                            |end| {
                                end.call(park);
                            },
                            |_| {},
                        );
                    },
                    |_| {},
                )
                .return_();
        },
        |_| {},
    );
    for (i, &a) in args.iter().enumerate() {
        body.local_get(a);
        if let (1, Some(wrote)) = (i, wrote) {
            body.global_get(wrote)
                .i32_const(31)
                .binop(BinaryOp::I32Shl)
                .binop(BinaryOp::I32Or);
        }
    }
    if let Some(wrote) = wrote {
        body.i32_const(0).global_set(wrote);
    }
    body.call(host).if_else(
        None,
        |then| {
            then.call(park);
        },
        |_| {},
    );
    b.finish(args, &mut module.funcs)
}
