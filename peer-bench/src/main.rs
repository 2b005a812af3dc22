//! peer-bench: runs the same tiny concurrent programs under loom and shuttle and prints a
//! markdown table (and `results.json`) of what each tool found, after how many executions, and
//! how fast. See README.md.
//!
//! Over 900 lines on purpose: one runner per (program, tool) pair, each a
//! few lines that read side by side; split, they would be harder to compare.

mod programs;

use programs::{
    condvar_lost_wakeup, lock_order_deadlock, lost_update, peterson, plain_lost_update, seqlock,
    treiber_aba, EXECUTIONS,
};
use std::any::Any;
use std::fmt::Write as _;
use std::panic;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------------
// Programs
// ---------------------------------------------------------------------------------------------

/// One way of writing a program (the plain program, or a variant of it).
struct Variant {
    /// Empty for the program exactly as specified.
    label: &'static str,
    loom: fn(),
    shuttle: fn(),
}

struct Program {
    name: &'static str,
    /// Whether the program has a bug a tool should find.
    buggy: bool,
    variants: Vec<Variant>,
}

fn programs() -> Vec<Program> {
    fn one(name: &'static str, buggy: bool, loom: fn(), shuttle: fn()) -> Program {
        Program {
            name,
            buggy,
            variants: vec![Variant {
                label: "",
                loom,
                shuttle,
            }],
        }
    }
    vec![
        one(
            "lost_update",
            true,
            lost_update::on_loom::run,
            lost_update::on_shuttle::run,
        ),
        one(
            "lock_order_deadlock",
            true,
            lock_order_deadlock::on_loom::run,
            lock_order_deadlock::on_shuttle::run,
        ),
        one(
            "condvar_lost_wakeup",
            true,
            condvar_lost_wakeup::on_loom::run,
            condvar_lost_wakeup::on_shuttle::run,
        ),
        Program {
            name: "seqlock_torn",
            buggy: true,
            variants: vec![
                Variant {
                    label: "",
                    loom: seqlock::on_loom::torn_plain,
                    shuttle: seqlock::on_shuttle::torn_plain,
                },
                Variant {
                    label: "data=AtomicU32",
                    loom: seqlock::on_loom::torn_atomic,
                    shuttle: seqlock::on_shuttle::torn_atomic,
                },
            ],
        },
        Program {
            name: "seqlock_fixed",
            buggy: false,
            variants: vec![
                Variant {
                    label: "",
                    loom: seqlock::on_loom::fixed_plain,
                    shuttle: seqlock::on_shuttle::fixed_plain,
                },
                Variant {
                    label: "data=AtomicU32",
                    loom: seqlock::on_loom::fixed_atomic,
                    shuttle: seqlock::on_shuttle::fixed_atomic,
                },
            ],
        },
        one(
            "treiber_aba",
            true,
            treiber_aba::on_loom::run,
            treiber_aba::on_shuttle::run,
        ),
        one(
            "peterson_broken",
            true,
            peterson::on_loom::broken,
            peterson::on_shuttle::broken,
        ),
        Program {
            name: "peterson_correct",
            buggy: false,
            variants: vec![
                Variant {
                    label: "",
                    loom: peterson::on_loom::correct,
                    shuttle: peterson::on_shuttle::correct,
                },
                Variant {
                    label: "turn=swap",
                    loom: peterson::on_loom::correct_swap,
                    shuttle: peterson::on_shuttle::correct_swap,
                },
            ],
        },
        one(
            "plain_lost_update",
            true,
            plain_lost_update::on_loom::run,
            plain_lost_update::on_shuttle::run,
        ),
    ]
}

// ---------------------------------------------------------------------------------------------
// Settings and CLI
// ---------------------------------------------------------------------------------------------

struct Settings {
    only: Option<String>,
    tool: Option<String>,
    /// Iteration budget for every shuttle scheduler.
    budget: usize,
    seed: u64,
    pct_depth: usize,
    loom_max_branches: usize,
    loom_preemption_bound: usize,
    /// Wall-clock cap for the unbounded loom run.
    loom_cap: Duration,
    /// Wall-clock cap for every shuttle run (shuttle's `Config::max_time`, checked between
    /// executions).
    shuttle_cap: Duration,
    json: Option<String>,
}

const USAGE: &str = "usage: peer-bench [--only PROGRAM] [--tool loom|shuttle] [--budget N] \
[--seed N] [--loom-cap SECS] [--shuttle-cap SECS] [--json PATH]\n\
  --only      run one program (lost_update, lock_order_deadlock, condvar_lost_wakeup,\n\
              seqlock_torn, seqlock_fixed, treiber_aba, peterson_broken, peterson_correct,\n\
              plain_lost_update)\n\
  --tool      run only loom or only shuttle\n\
  --budget    shuttle iteration budget per run (default 100000)\n\
  --seed      seed for shuttle's random and PCT schedulers (default 20260522)\n\
  --loom-cap  wall-clock cap in seconds for the unbounded loom run (default 60)\n\
  --shuttle-cap  wall-clock cap in seconds for each shuttle run (default 30)\n\
  --json      where to write the JSON results (default: results.json in the crate dir,\n\
              written only for unfiltered runs)";

fn parse_args() -> Result<Settings, String> {
    let mut s = Settings {
        only: None,
        tool: None,
        budget: 100_000,
        seed: 20_260_522,
        pct_depth: 3,
        loom_max_branches: 10_000,
        loom_preemption_bound: 3,
        loom_cap: Duration::from_secs(60),
        shuttle_cap: Duration::from_secs(30),
        json: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            "--only" => s.only = Some(value("--only")?),
            "--tool" => {
                let t = value("--tool")?;
                if t != "loom" && t != "shuttle" {
                    return Err(format!("--tool must be loom or shuttle, not {t:?}"));
                }
                s.tool = Some(t);
            }
            "--budget" => {
                s.budget = value("--budget")?
                    .parse()
                    .map_err(|e| format!("--budget: {e}"))?
            }
            "--seed" => {
                s.seed = value("--seed")?
                    .parse()
                    .map_err(|e| format!("--seed: {e}"))?
            }
            "--loom-cap" => {
                s.loom_cap = Duration::from_secs(
                    value("--loom-cap")?
                        .parse()
                        .map_err(|e| format!("--loom-cap: {e}"))?,
                )
            }
            "--shuttle-cap" => {
                s.shuttle_cap = Duration::from_secs(
                    value("--shuttle-cap")?
                        .parse()
                        .map_err(|e| format!("--shuttle-cap: {e}"))?,
                )
            }
            "--json" => s.json = Some(value("--json")?),
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if let Some(only) = &s.only {
        if !programs().iter().any(|p| p.name == only) {
            return Err(format!("unknown program {only:?}"));
        }
    }
    Ok(s)
}

// ---------------------------------------------------------------------------------------------
// Running one (program, tool, mode)
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// loom's exhaustive DPOR, optionally preemption-bounded.
    LoomDpor {
        preemption_bound: Option<usize>,
    },
    ShuttleRandom,
    ShuttlePct,
    ShuttleDfs,
}

impl Mode {
    fn tool(self) -> &'static str {
        match self {
            Mode::LoomDpor { .. } => "loom",
            _ => "shuttle",
        }
    }

    fn name(self, s: &Settings) -> String {
        match self {
            Mode::LoomDpor {
                preemption_bound: None,
            } => "dpor, unbounded".into(),
            Mode::LoomDpor {
                preemption_bound: Some(b),
            } => format!("dpor, preemption_bound={b}"),
            Mode::ShuttleRandom => format!("check_random (seed {})", s.seed),
            Mode::ShuttlePct => format!("check_pct depth={} (seed {})", s.pct_depth, s.seed),
            Mode::ShuttleDfs => "check_dfs".into(),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    /// An assertion failure or other panic in the program.
    Panic,
    /// The tool reported a deadlock.
    Deadlock,
    /// loom reported a causality violation (data race) on a `loom::cell::UnsafeCell`.
    DataRace,
    /// The tool gave up on an execution (loom's branch limit, shuttle's step bound): not a
    /// verdict on the program.
    ToolLimit,
}

impl Kind {
    fn text(self) -> &'static str {
        match self {
            Kind::Panic => "panic",
            Kind::Deadlock => "deadlock",
            Kind::DataRace => "data race",
            Kind::ToolLimit => "tool limit",
        }
    }
}

struct Outcome {
    failure: Option<(Kind, String)>,
    executions: u64,
    elapsed: Duration,
    /// The run stopped at its wall-clock cap without a verdict (not exhaustive).
    capped: bool,
    /// What shuttle's `Runner::run` returned (only when it returned).
    runner_iterations: Option<usize>,
}

fn payload_message(p: &(dyn Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else if let Some(s) = p.downcast_ref::<&'static str>() {
        (*s).to_string()
    } else {
        "<non-string panic payload>".to_string()
    }
}

fn classify(msg: &str) -> Kind {
    if msg.contains("deadlock") {
        Kind::Deadlock
    } else if msg.contains("Causality violation") {
        Kind::DataRace
    } else if msg.contains("exceeded max_steps") || msg.contains("maximum number of branches") {
        Kind::ToolLimit
    } else {
        Kind::Panic
    }
}

/// Runs `body` on a fresh OS thread (so the tools' thread-local state starts clean every time),
/// with a silent panic hook, and catches the tool's panic.
fn run_isolated(body: impl FnOnce() -> Option<usize> + Send + 'static) -> Outcome {
    EXECUTIONS.store(0, Ordering::SeqCst);
    let previous_hook = panic::take_hook();
    // PEER_BENCH_LOUD=1 keeps the default hook (prints every panic), for debugging.
    if std::env::var_os("PEER_BENCH_LOUD").is_none() {
        panic::set_hook(Box::new(|_| {}));
    }
    // The clock runs inside the thread, around the tool call only.
    let joined = std::thread::Builder::new()
        .name("peer-bench-run".into())
        .stack_size(16 << 20)
        .spawn(move || {
            let start = Instant::now();
            let result = panic::catch_unwind(panic::AssertUnwindSafe(body));
            (result, start.elapsed())
        })
        .expect("spawn bench thread")
        .join();
    panic::set_hook(previous_hook);
    let executions = EXECUTIONS.load(Ordering::SeqCst);
    let ((failure, runner_iterations), elapsed) = match joined {
        Ok((Ok(iters), elapsed)) => ((None, iters), elapsed),
        Ok((Err(payload), elapsed)) => {
            let msg = payload_message(&*payload);
            ((Some((classify(&msg), msg)), None), elapsed)
        }
        // Only if catch_unwind itself failed to catch (it should not).
        Err(payload) => {
            let msg = payload_message(&*payload);
            ((Some((classify(&msg), msg)), None), Duration::ZERO)
        }
    };
    Outcome {
        failure,
        executions,
        elapsed,
        capped: false,
        runner_iterations,
    }
}

fn run_loom(f: fn(), preemption_bound: Option<usize>, s: &Settings) -> Outcome {
    let mut builder = loom::model::Builder::new();
    builder.max_branches = s.loom_max_branches;
    builder.preemption_bound = preemption_bound;
    let cap = s.loom_cap;
    if preemption_bound.is_none() {
        builder.max_duration = Some(cap);
        // loom only looks at max_duration every `checkpoint_interval` executions.
        builder.checkpoint_interval = 1_000;
    }
    let mut outcome = run_isolated(move || {
        builder.check(f);
        None
    });
    outcome.capped =
        preemption_bound.is_none() && outcome.failure.is_none() && outcome.elapsed >= cap;
    outcome
}

fn run_shuttle(f: fn(), mode: Mode, s: &Settings) -> Outcome {
    use shuttle::scheduler::{DfsScheduler, PctScheduler, RandomScheduler};
    let mut config = shuttle::Config::new();
    config.failure_persistence = shuttle::FailurePersistence::None;
    config.max_time = Some(s.shuttle_cap);
    let (budget, seed, depth) = (s.budget, s.seed, s.pct_depth);
    let mut outcome = run_isolated(move || {
        let n = match mode {
            Mode::ShuttleRandom => {
                shuttle::Runner::new(RandomScheduler::new_from_seed(seed, budget), config).run(f)
            }
            Mode::ShuttlePct => {
                shuttle::Runner::new(PctScheduler::new_from_seed(seed, depth, budget), config)
                    .run(f)
            }
            Mode::ShuttleDfs => {
                shuttle::Runner::new(DfsScheduler::new(Some(budget), false), config).run(f)
            }
            Mode::LoomDpor { .. } => unreachable!(),
        };
        Some(n)
    });
    outcome.capped = outcome.failure.is_none()
        && (outcome.executions as usize) < budget
        && outcome.elapsed >= s.shuttle_cap;
    outcome
}

// ---------------------------------------------------------------------------------------------
// Rows, notes, output
// ---------------------------------------------------------------------------------------------

struct Row {
    program: String,
    variant: &'static str,
    buggy: bool,
    tool: &'static str,
    mode: String,
    settings: String,
    outcome: Outcome,
    /// The verdict matches what the program is (bug found in a buggy one, nothing in a correct
    /// one).
    verdict_ok: bool,
    notes: String,
}

fn verdict_text(o: &Outcome) -> String {
    match &o.failure {
        Some((k, _)) if *k == Kind::ToolLimit => "limit (no verdict)".into(),
        Some((k, _)) => format!("found: {}", k.text()),
        None => "none".into(),
    }
}

fn first_line(msg: &str, max: usize) -> String {
    let line = msg
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    let mut out: String = line.chars().take(max).collect();
    if line.chars().count() > max {
        out.push('…');
    }
    out.replace('|', "\\|")
}

/// Explanations for outcomes that are surprising but understood.
fn explanation(program: &str, variant: &str, mode: Mode, o: &Outcome) -> Option<&'static str> {
    let found = o.failure.is_some();
    let plain = variant.is_empty();
    match (program, mode.tool(), found) {
        ("plain_lost_update", "shuttle", false) | ("seqlock_torn", "shuttle", false) if plain => {
            Some(
                "shuttle only switches tasks before visible operations (atomics, locks, \
                 spawn/join, yield); the plain UnsafeCell accesses run back-to-back, so this \
                 interleaving is unreachable",
            )
        }
        ("seqlock_fixed", "loom", true) if plain => Some(
            "loom's UnsafeCell flags the reader's speculative read that races with the \
             writer (undefined behaviour in the Rust/C++ memory model) even though the value is \
             then discarded; a true report for Rust, a false alarm for the SC/wasm intent (see \
             data=AtomicU32)",
        ),
        ("peterson_correct", "loom", true) if plain => Some(
            "loom treats SeqCst accesses like AcqRel (documented limitation): a thread reads \
             the other's flag as its initial false after the other stored true (store \
             buffering, which SC forbids), so both enter; see the turn=swap variant",
        ),
        ("peterson_correct", "shuttle", false) if mode == Mode::ShuttleDfs && o.capped => Some(
            "DFS does not deprioritise the yielding spinner, so executions get longer and \
             longer as DFS enumerates ever longer spins",
        ),
        ("seqlock_torn", "loom", true) | ("peterson_broken", "loom", true)
            if o.failure.as_ref().map(|f| f.0) == Some(Kind::DataRace) =>
        {
            Some("loom reports the unsynchronised UnsafeCell access before the assertion can fail")
        }
        _ => None,
    }
}

fn make_row(p: &Program, v: &Variant, mode: Mode, outcome: Outcome, s: &Settings) -> Row {
    let kind = outcome.failure.as_ref().map(|f| f.0);
    let real_bug = matches!(kind, Some(Kind::Panic | Kind::Deadlock | Kind::DataRace));
    let verdict_ok = if p.buggy {
        real_bug
    } else {
        outcome.failure.is_none()
    };
    let settings = match mode {
        Mode::LoomDpor { preemption_bound } => format!(
            "max_branches={}, preemption_bound={}, max_threads=5{}",
            s.loom_max_branches,
            preemption_bound.map_or("none".into(), |b| b.to_string()),
            if preemption_bound.is_none() {
                format!(", wall cap {}s", s.loom_cap.as_secs())
            } else {
                String::new()
            }
        ),
        Mode::ShuttleRandom => format!("RandomScheduler seed={}, budget={}", s.seed, s.budget),
        Mode::ShuttlePct => format!(
            "PctScheduler depth={}, seed={}, budget={}",
            s.pct_depth, s.seed, s.budget
        ),
        Mode::ShuttleDfs => format!("DfsScheduler, budget={}", s.budget),
    };

    let mut notes: Vec<String> = Vec::new();
    match (&outcome.failure, mode) {
        (Some((_, msg)), _) => notes.push(format!("\"{}\"", first_line(msg, 70))),
        (None, Mode::LoomDpor { preemption_bound }) => {
            if outcome.capped {
                notes.push(format!(
                    "stopped at the {}s wall cap: NOT exhaustive (see the preemption_bound row)",
                    s.loom_cap.as_secs()
                ));
            } else if preemption_bound.is_some() {
                notes.push("exhaustive within the preemption bound".into());
            } else {
                notes.push("exhaustive".into());
            }
        }
        (None, _) if outcome.capped => notes.push(format!(
            "stopped at the {}s wall cap after {} of {} iterations: NOT exhaustive",
            s.shuttle_cap.as_secs(),
            outcome.executions,
            s.budget
        )),
        (None, Mode::ShuttleDfs) => {
            if (outcome.executions as usize) < s.budget {
                notes.push("exhaustive (DFS finished below the budget)".into());
            } else {
                notes.push("budget used up: not exhaustive".into());
            }
        }
        (None, _) => notes.push("budget used up".into()),
    }
    if let Some(n) = outcome.runner_iterations {
        if n as u64 != outcome.executions {
            notes.push(format!("runner reported {n} iterations"));
        }
    }
    if kind == Some(Kind::ToolLimit) {
        notes.push(match mode {
            Mode::ShuttleDfs => "shuttle's DFS ignores yield_now and keeps scheduling the spinning thread, so one execution runs into max_steps (1,000,000); a tool artefact, not a bug".into(),
            _ => "the tool gave up on an execution; not a bug verdict".into(),
        });
    }
    if let Some(e) = explanation(p.name, v.label, mode, &outcome) {
        notes.push(e.into());
    }
    if !verdict_ok {
        notes.insert(
            0,
            if kind == Some(Kind::ToolLimit) {
                "**NO VERDICT** (tool limit)".into()
            } else if p.buggy {
                "**MISSED the bug**".into()
            } else {
                "**FALSE ALARM on a correct program**".into()
            },
        );
    }
    Row {
        program: p.name.to_string(),
        variant: v.label,
        buggy: p.buggy,
        tool: mode.tool(),
        mode: mode.name(s),
        settings,
        outcome,
        verdict_ok,
        notes: notes.join("; "),
    }
}

fn fmt_time(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 1.0 {
        format!("{s:.2} s")
    } else if s >= 1e-3 {
        format!("{:.1} ms", s * 1e3)
    } else {
        format!("{:.0} µs", s * 1e6)
    }
}

fn rate(r: &Row) -> f64 {
    let secs = r.outcome.elapsed.as_secs_f64();
    if secs > 0.0 {
        r.outcome.executions as f64 / secs
    } else {
        0.0
    }
}

fn program_cell(r: &Row) -> String {
    let mut p = r.program.clone();
    if !r.variant.is_empty() {
        p = format!("{p} [{}]", r.variant);
    }
    if r.buggy {
        p
    } else {
        format!("{p} (correct)")
    }
}

fn markdown(rows: &[Row]) -> String {
    let mut out = String::new();
    out.push_str(
        "| program | tool | mode | verdict | executions | time | executions/s | notes |\n",
    );
    out.push_str("|---|---|---|---|---:|---:|---:|---|\n");
    for r in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {:.0} | {} |",
            program_cell(r),
            r.tool,
            r.mode,
            verdict_text(&r.outcome),
            r.outcome.executions,
            fmt_time(r.outcome.elapsed),
            rate(r),
            r.notes
        );
    }
    out
}

fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn json(rows: &[Row], s: &Settings, total: Duration) -> String {
    let mut out = String::from("{\n");
    let _ = writeln!(
        out,
        "  \"loom_version\": {},",
        json_str(locked_version("loom"))
    );
    let _ = writeln!(
        out,
        "  \"shuttle_version\": {},",
        json_str(locked_version("shuttle"))
    );
    let _ = writeln!(out, "  \"seed\": {},", s.seed);
    let _ = writeln!(out, "  \"shuttle_budget\": {},", s.budget);
    let _ = writeln!(out, "  \"pct_depth\": {},", s.pct_depth);
    let _ = writeln!(out, "  \"loom_max_branches\": {},", s.loom_max_branches);
    let _ = writeln!(out, "  \"loom_wall_cap_s\": {},", s.loom_cap.as_secs());
    let _ = writeln!(
        out,
        "  \"shuttle_wall_cap_s\": {},",
        s.shuttle_cap.as_secs()
    );
    let _ = writeln!(out, "  \"total_time_s\": {:.3},", total.as_secs_f64());
    out.push_str("  \"rows\": [\n");
    for (i, r) in rows.iter().enumerate() {
        let (kind, msg) = match &r.outcome.failure {
            Some((k, m)) => (json_str(k.text()), json_str(m)),
            None => ("null".into(), "null".into()),
        };
        let _ = write!(
            out,
            "    {{\"program\": {}, \"variant\": {}, \"buggy\": {}, \"tool\": {}, \"mode\": {}, \
             \"settings\": {}, \"found\": {}, \"kind\": {}, \"message\": {}, \"executions\": {}, \
             \"time_s\": {:.6}, \"executions_per_s\": {:.1}, \"capped\": {}, \"verdict_ok\": {}, \
             \"notes\": {}}}",
            json_str(&r.program),
            json_str(r.variant),
            r.buggy,
            json_str(r.tool),
            json_str(&r.mode),
            json_str(&r.settings),
            r.outcome.failure.is_some(),
            kind,
            msg,
            r.outcome.executions,
            r.outcome.elapsed.as_secs_f64(),
            rate(r),
            r.outcome.capped,
            r.verdict_ok,
            json_str(&r.notes),
        );
        out.push_str(if i + 1 < rows.len() { ",\n" } else { "\n" });
    }
    out.push_str("  ]\n}\n");
    out
}

/// The exact version of a dependency, read from this crate's Cargo.lock at compile time.
fn locked_version(krate: &str) -> &'static str {
    const LOCK: &str = include_str!("../Cargo.lock");
    let needle = format!("name = \"{krate}\"\nversion = \"");
    LOCK.find(&needle)
        .and_then(|i| {
            let rest = &LOCK[i + needle.len()..];
            rest.find('"').map(|j| &rest[..j])
        })
        .unwrap_or("?")
}

fn main() {
    let s = match parse_args() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("peer-bench: {e}\n{USAGE}");
            std::process::exit(2);
        }
    };
    let run_loom_tool = s.tool.as_deref() != Some("shuttle");
    let run_shuttle_tool = s.tool.as_deref() != Some("loom");

    println!(
        "# peer-bench: loom {} vs shuttle {}\n",
        locked_version("loom"),
        locked_version("shuttle")
    );
    println!(
        "- loom: `loom::model::Builder::new()` with max_branches={}, max_threads=5 (default); \
         mode `dpor, unbounded` = preemption_bound None with a {}s wall-clock cap \
         (max_duration, checked every 1000 executions); mode `dpor, preemption_bound={}` = \
         Builder.preemption_bound = Some({}), no cap.",
        s.loom_max_branches,
        s.loom_cap.as_secs(),
        s.loom_preemption_bound,
        s.loom_preemption_bound
    );
    println!(
        "- shuttle: `Runner::new(RandomScheduler::new_from_seed({seed}, {b}))` (= check_random), \
         `Runner::new(PctScheduler::new_from_seed({seed}, {d}, {b}))` (= check_pct depth {d}), \
         and for correct programs `Runner::new(DfsScheduler::new(Some({b}), false))` (= \
         check_dfs); default Config (max_steps FailAfter(1000000)) except \
         failure_persistence=None and max_time={cap}s (checked between executions); all stop \
         at the first failing iteration.",
        seed = s.seed,
        b = s.budget,
        d = s.pct_depth,
        cap = s.shuttle_cap.as_secs()
    );
    if let Ok(v) = std::env::var("SHUTTLE_RANDOM_SEED") {
        println!("- WARNING: SHUTTLE_RANDOM_SEED={v} overrides the seed above");
    }
    println!(
        "- executions = invocations of the model closure (a std AtomicU64 bumped at its start)\n"
    );

    if std::env::var_os("PEER_BENCH_PROGRESS").is_some() {
        std::thread::spawn(|| loop {
            std::thread::sleep(Duration::from_secs(5));
            eprintln!(
                "[peer-bench] progress: {} executions",
                EXECUTIONS.load(Ordering::Relaxed)
            );
        });
    }
    // Warm up both tools once (first-use costs: thread-locals, allocator, page faults), so the
    // first row is not charged for them.
    if run_loom_tool {
        let _ = run_loom(lost_update::on_loom::run, Some(s.loom_preemption_bound), &s);
    }
    if run_shuttle_tool {
        let _ = run_shuttle(lost_update::on_shuttle::run, Mode::ShuttleRandom, &s);
    }

    let total_start = Instant::now();
    let mut rows = Vec::new();
    for p in programs() {
        if s.only.as_deref().is_some_and(|o| o != p.name) {
            continue;
        }
        for v in &p.variants {
            let mut modes = Vec::new();
            if run_loom_tool {
                modes.push(Mode::LoomDpor {
                    preemption_bound: None,
                });
                modes.push(Mode::LoomDpor {
                    preemption_bound: Some(s.loom_preemption_bound),
                });
            }
            if run_shuttle_tool {
                modes.push(Mode::ShuttleRandom);
                modes.push(Mode::ShuttlePct);
                if !p.buggy {
                    modes.push(Mode::ShuttleDfs);
                }
            }
            for mode in modes {
                let label = if v.label.is_empty() {
                    p.name.to_string()
                } else {
                    format!("{} [{}]", p.name, v.label)
                };
                eprintln!("[peer-bench] running {label} / {} ...", mode.name(&s));
                let outcome = match mode {
                    Mode::LoomDpor { preemption_bound } => run_loom(v.loom, preemption_bound, &s),
                    _ => run_shuttle(v.shuttle, mode, &s),
                };
                let row = make_row(&p, v, mode, outcome, &s);
                eprintln!(
                    "[peer-bench]   -> {} after {} executions in {}",
                    verdict_text(&row.outcome),
                    row.outcome.executions,
                    fmt_time(row.outcome.elapsed)
                );
                rows.push(row);
            }
        }
    }
    let total = total_start.elapsed();

    print!("{}", markdown(&rows));
    println!("\nTotal wall time: {}\n", fmt_time(total));

    // Summary of the verdicts.
    println!("## Summary\n");
    let mut names: Vec<&str> = Vec::new();
    for r in &rows {
        if !names.contains(&r.program.as_str()) {
            names.push(&r.program);
        }
    }
    for name in names {
        let of = |tool: &str| {
            rows.iter()
                .filter(|r| r.program == name && r.variant.is_empty() && r.tool == tool)
                .collect::<Vec<_>>()
        };
        let describe = |rs: &[&Row]| -> String {
            if rs.is_empty() {
                return "not run".into();
            }
            let ok = rs.iter().filter(|r| r.verdict_ok).count();
            format!("{ok}/{} modes right", rs.len())
        };
        let buggy = rows.iter().any(|r| r.program == name && r.buggy);
        println!(
            "- {name} ({}): loom {}, shuttle {}",
            if buggy { "buggy" } else { "correct" },
            describe(&of("loom")),
            describe(&of("shuttle"))
        );
    }
    let wrong: Vec<&Row> = rows.iter().filter(|r| !r.verdict_ok).collect();
    if wrong.is_empty() {
        println!("\nEvery row has the expected verdict.");
    } else {
        println!("\nRows whose verdict is not the expected one (see notes):");
        for r in wrong {
            println!("- {} / {} / {}", program_cell(r), r.tool, r.mode);
        }
    }

    let json_path = match (&s.json, s.only.is_some() || s.tool.is_some()) {
        (Some(p), _) => Some(std::path::PathBuf::from(p)),
        (None, false) => {
            Some(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("results.json"))
        }
        (None, true) => None,
    };
    match json_path {
        Some(path) => match std::fs::write(&path, json(&rows, &s, total)) {
            Ok(()) => println!("\nJSON written to {}", path.display()),
            Err(e) => eprintln!("peer-bench: cannot write {}: {e}", path.display()),
        },
        None => {
            println!("\n(filtered run: results.json not written; pass --json PATH to write one)")
        }
    }
}
