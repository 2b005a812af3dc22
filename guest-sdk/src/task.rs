//! An async executor whose task order the host explores: `block_on`,
//! `spawn`, `spawn_named`, `yield_now`, and a [`JoinHandle`] to await.
//!
//! A single-threaded executor polls its tasks in one order; this one lets
//! the tool's strategies pick which ready task runs next, at exactly the
//! points where a real executor could switch tasks: where a poll returns
//! `Pending`, at [`yield_now`], and at a [`crate::marker`] inside a task.
//! Never inside the synchronous code between two such points.
//!
//! How: each task runs on a lightweight thread of its own (see
//! [`crate::thread`]; at most [`crate::thread::MAX_THREADS`] per execution)
//! and holds the executor's baton, a `std::sync::Mutex`, while it runs; it
//! lets go where it would return to the executor. The tool models that
//! mutex as a lock, so every task switch is a choice of who takes the baton
//! next, and DPOR reverses those choices. Wakers work from any thread: a
//! `std::thread` can wake a task. Tasks are named `task1`, `task2`, ... in
//! spawn order (or by [`spawn_named`]) in traces and schedules; the future
//! given to [`block_on`] runs on the calling thread, under its name.
//!
//! ```
//! use interlace_guest_sdk::task;
//! let total = task::block_on(async {
//!     let a = task::spawn(async { 1 });
//!     let b = task::spawn(async {
//!         task::yield_now().await;
//!         2
//!     });
//!     a.await + b.await
//! });
//! assert_eq!(total, 3);
//! ```

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};

/// The baton: held by the task that runs.
static BATON: Mutex<()> = Mutex::new(());
/// Tasks spawned so far, for their names.
static SPAWNED: AtomicU32 = AtomicU32::new(0);

thread_local! {
    /// This thread's hold on the baton, while its task runs.
    static HELD: RefCell<Option<MutexGuard<'static, ()>>> = const { RefCell::new(None) };
}

/// Takes the baton: the point where the strategy picks the next task.
fn enter() {
    let guard = BATON.lock().unwrap_or_else(|e| e.into_inner());
    HELD.with(|h| *h.borrow_mut() = Some(guard));
}

/// Lets the baton go, if this thread holds it; whether it did.
fn leave() -> bool {
    HELD.with(|h| h.borrow_mut().take()).is_some()
}

/// Runs `f` with the baton let go, if this thread's task held it: a
/// marker inside a task is a task switch (as in the interlace seed's async
/// trace markers).
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
pub(crate) fn switch_around(f: impl FnOnce()) {
    let held = leave();
    f();
    if held {
        enter();
    }
}

/// What a waker sets: the task may be polled again. The task's thread
/// parks; a wake unparks it (std's park token: a wake before the park is
/// kept).
struct Signal {
    thread: std::thread::Thread,
}

impl Signal {
    fn new() -> Signal {
        Signal {
            thread: std::thread::current(),
        }
    }

    /// Blocks until woken (at once if it was, since the last wait).
    fn wait(&self) {
        std::thread::park();
    }
}

impl Wake for Signal {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.thread.unpark();
    }
}

/// Polls `fut` to completion; called holding the baton, which it lets go
/// only while the task waits to be woken, and returns holding it (so that
/// everything a task does, its start and its end included, happens under
/// the baton: only the switches are choices).
fn run<F: Future>(fut: F) -> F::Output {
    let signal = Arc::new(Signal::new());
    let waker = Waker::from(Arc::clone(&signal));
    let mut cx = Context::from_waker(&waker);
    let mut fut = std::pin::pin!(fut);
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        leave();
        signal.wait();
        enter();
    }
}

/// Runs `fut` on the calling thread until it completes, its spawned tasks
/// alongside.
pub fn block_on<F: Future>(fut: F) -> F::Output {
    enter();
    let v = run(fut);
    leave();
    v
}

/// What a task leaves for its [`JoinHandle`].
struct Joined<T> {
    output: Option<T>,
    waiter: Option<Waker>,
}

/// Awaits a spawned task's output.
#[must_use = "await the handle, or the task runs detached"]
pub struct JoinHandle<T> {
    state: Arc<Mutex<Joined<T>>>,
}

impl<T> Future for JoinHandle<T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match s.output.take() {
            Some(v) => Poll::Ready(v),
            None => {
                s.waiter = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// Starts `fut` as a task named `task1`, `task2`, ... in spawn order.
///
/// # Panics
/// Past [`crate::thread::MAX_THREADS`] tasks (lightweight threads) in an
/// execution: the tool's limit, reported by interlace-wasm as its error
/// (exit 2), not as the program's failure.
pub fn spawn<F>(fut: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    spawn_task(None, fut)
}

/// [`spawn`] with the task's name given (counted in the numbering all the
/// same).
pub fn spawn_named<F>(name: &str, fut: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    spawn_task(Some(name), fut)
}

fn spawn_task<F>(name: Option<&str>, fut: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let n = SPAWNED.fetch_add(1, Ordering::Relaxed) + 1;
    let name = name.map_or_else(|| format!("task{n}"), str::to_string);
    let state = Arc::new(Mutex::new(Joined {
        output: None,
        waiter: None,
    }));
    let shared = Arc::clone(&state);
    let job: Job = Box::new(move || {
        crate::set_thread_name(&name);
        crate::marker::mark_task();
        let v = run(fut);
        let mut s = shared.lock().unwrap_or_else(|e| e.into_inner());
        s.output = Some(v);
        if let Some(w) = s.waiter.take() {
            w.wake();
        }
    });
    // The thread is never joined: the handle is awaited instead.
    let _detached = crate::thread::spawn(start, jobs::put(job));
    JoinHandle { state }
}

/// A task thread's entry: runs the job `key` names, all of it (taking the
/// job, dropping what it leaves) under the baton.
fn start(key: u32) {
    enter();
    jobs::take(key)();
    leave();
}

/// Hands a job to the thread that runs it, through the `u32` a lightweight
/// thread takes.
#[cfg(target_arch = "wasm32")]
mod jobs {
    use super::Job;

    pub fn put(job: Job) -> u32 {
        Box::into_raw(Box::new(job)) as usize as u32
    }

    pub fn take(key: u32) -> Job {
        // SAFETY: `key` came from `put`, once.
        *unsafe { Box::from_raw(key as usize as *mut Job) }
    }
}

/// Off wasm32 a pointer does not fit a `u32`: a table of pending jobs.
#[cfg(not(target_arch = "wasm32"))]
mod jobs {
    use super::Job;
    use std::sync::Mutex;

    static PENDING: Mutex<Vec<Option<Job>>> = Mutex::new(Vec::new());

    pub fn put(job: Job) -> u32 {
        let mut p = PENDING.lock().unwrap_or_else(|e| e.into_inner());
        p.push(Some(job));
        (p.len() - 1) as u32
    }

    pub fn take(key: u32) -> Job {
        let mut p = PENDING.lock().unwrap_or_else(|e| e.into_inner());
        p[key as usize].take().expect("each job is taken once")
    }
}

/// Lets the other ready tasks run first: one task switch.
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// The future [`yield_now`] returns.
#[must_use = "a yield does nothing unless awaited"]
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if std::mem::replace(&mut self.yielded, true) {
            Poll::Ready(())
        } else {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}
