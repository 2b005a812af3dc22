//! Named scheduling points and thread names.
//!
//! `marker("read_balance")` is a scheduling point with a name: the trace shows
//! it, and strategies treat it as a place where another thread may run. Thread
//! names replace `t1`, `t2` in traces. Both are single host calls on wasm32 and
//! do nothing elsewhere, so guest code builds natively too.
//!
//! ```
//! use interlace_guest_sdk::{marker, set_thread_name};
//! set_thread_name("worker");
//! marker("read_balance"); // a no-op off wasm32
//! ```

#[cfg(target_arch = "wasm32")]
#[link(wasm_import_module = "interlace")]
extern "C" {
    /// # Safety
    /// `ptr..ptr+len` must be readable guest memory holding UTF-8.
    #[link_name = "marker"]
    fn host_marker(ptr: i32, len: i32);
    /// # Safety
    /// `ptr..ptr+len` must be readable guest memory holding UTF-8.
    #[link_name = "thread_name"]
    fn host_thread_name(ptr: i32, len: i32);
    #[link_name = "marker_id"]
    fn host_marker_id(id: i32);
    #[link_name = "task"]
    fn host_task();
}

/// A comment marker the instrumenter placed (see
/// [`crate::abi::MARKER_GATE_EXPORT`]): inside a task, a task switch too.
#[cfg(target_arch = "wasm32")]
#[export_name = "interlace_marker_gate"]
pub extern "C" fn marker_gate(id: i32) {
    // SAFETY: a plain host call; the host checks the id.
    crate::task::switch_around(|| unsafe { host_marker_id(id) });
}

/// A named scheduling point: the code that follows runs when the scheduler
/// lets this thread pass `name`.
///
/// Inside a [`crate::task`] task it is also a task switch: the task lets the
/// executor's baton go while it waits at the marker, as an `await` would.
pub fn marker(name: &str) {
    #[cfg(target_arch = "wasm32")]
    crate::task::switch_around(|| {
        // SAFETY: `name` is a live &str for the duration of the call.
        unsafe { host_marker(name.as_ptr() as i32, name.len() as i32) }
    });
    #[cfg(not(target_arch = "wasm32"))]
    let _ = name;
}

/// Names the calling thread in traces (instead of `t1`, `t2`, ...).
pub fn set_thread_name(name: &str) {
    #[cfg(target_arch = "wasm32")]
    // SAFETY: `name` is a live &str for the duration of the call.
    unsafe {
        host_thread_name(name.as_ptr() as i32, name.len() as i32)
    }
    #[cfg(not(target_arch = "wasm32"))]
    let _ = name;
}

/// Tells the host that the calling thread runs an async task (see
/// [`crate::abi::TASK`]): its lane is labelled with the executor thread.
pub(crate) fn mark_task() {
    #[cfg(target_arch = "wasm32")]
    // SAFETY: a plain host call with no arguments.
    unsafe {
        host_task()
    }
}
