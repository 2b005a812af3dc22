//! `--json`: the machine-readable report (schema `interlace-wasm-report/1`,
//! documented in docs/reports.md). Fields are only ever added within a version.

use interlace_wasm::runtime::races::RaceAccess;
use interlace_wasm::{site_function, Execution, ExploreReport, Program, Step};
use serde_json::{json, Value};
use std::path::Path;

/// Schema tag of every JSON report.
pub const REPORT_FORMAT: &str = "interlace-wasm-report/1";

/// One step of a trace, with its source location.
fn step(program: &Program, s: &Step) -> Value {
    let location = location(program, s.op.site);
    let memory = matches!(s.op.kind, interlace_wasm::OpKind::Memory(_));
    json!({
        "step": s.step,
        "thread": s.thread.0,
        "thread_name": s.thread_name.as_deref(),
        "executor": s.executor.map(|e| e.to_string()),
        "switch": s.switch,
        "op": s.op.kind.name(),
        "address": memory.then_some(s.op.addr),
        "bytes": memory.then_some(s.op.len),
        "atomic": s.op.atomic,
        "library": s.op.library,
        "marker": s.marker.as_deref(),
        "location": location,
    })
}

/// Where a site is in the source, as JSON (null without a site).
fn location(program: &Program, site: Option<u32>) -> Value {
    let sites = program.sites();
    let Some(s) = site.and_then(|i| sites.sites.get(i as usize)) else {
        return Value::Null;
    };
    json!({
        "function": site_function(sites, site),
        "file": sites.file_of(s),
        "line": (s.line > 0).then_some(s.line),
        "column": (s.column > 0).then_some(s.column),
    })
}

/// An execution: how it ended, its output, its trace.
pub fn execution(program: &Program, e: &Execution) -> Value {
    let side = |a: &RaceAccess| {
        json!({
            "thread": a.thread.0,
            "step": a.step,
            "write": a.write,
            "atomic": a.atomic,
            "location": location(program, a.site),
        })
    };
    let races: Vec<Value> = e
        .races
        .iter()
        .map(|r| json!({"address": r.addr, "first": side(&r.first), "second": side(&r.second)}))
        .collect();
    json!({
        "races": races,
        "failure": e.failure,
        "exit_code": e.exit_code,
        "steps": e.steps,
        "threads": e.threads,
        "decisions": e.decisions.len(),
        "stdout": String::from_utf8_lossy(&e.stdout),
        "stderr": String::from_utf8_lossy(&e.stderr),
        "trace": e.trace.as_ref().map(|t| t.iter().map(|s| step(program, s)).collect::<Vec<_>>()),
    })
}

/// What a minimisation did, for the report.
pub struct MinimiseNote<'a> {
    pub preemptions_before: usize,
    pub preemptions_after: usize,
    pub original: &'a Path,
}

/// The report of `explore` (and of each test of `test`).
pub fn explore_report(
    program: &Program,
    module: &Path,
    report: &ExploreReport,
    schedule: Option<&Path>,
    minimised: Option<MinimiseNote<'_>>,
    shown: Option<&Execution>,
) -> Value {
    let coverage = report.coverage.as_ref().map(|c| {
        json!({
            "algorithm": c.algorithm,
            "executions": c.executions,
            "complete": c.complete,
            "sleep_blocked": c.sleep_blocked,
            "bound_blocked": c.bound_blocked,
            "exhausted": c.exhausted,
            "preemption_bound": c.preemption_bound,
            "library": if c.library_blocks { "blocks" } else { "steps" },
            "every_interleaving_covered": c.is_complete(),
        })
    });
    json!({
        "format": REPORT_FORMAT,
        "command": "explore",
        "module": module,
        "module_sha256": program.sha256(),
        "verdict": if report.failure.is_some() { "fail" } else { "pass" },
        "strategy": report.strategy,
        "seed": report.seed,
        "executions": report.executions,
        "elapsed_ms": report.elapsed.as_secs_f64() * 1e3,
        "coverage": coverage,
        "outcomes": report.outcomes.iter().map(|o| json!({
            "exit_code": o.exit_code,
            "stdout": String::from_utf8_lossy(&o.stdout),
            "count": o.count,
        })).collect::<Vec<_>>(),
        "failing_execution": report.failure.as_ref().map(|f| f.index + 1),
        "members": report.members.iter().map(|(name, n)| json!({"strategy": name, "executions": n})).collect::<Vec<_>>(),
        "found_by": report.found_by,
        "out_of_time": report.out_of_time,
        "single_thread": report.single_thread,
        "schedule": schedule,
        "minimised": minimised.map(|m| json!({
            "preemptions_before": m.preemptions_before,
            "preemptions_after": m.preemptions_after,
            "original_schedule": m.original,
        })),
        "execution": shown.map(|e| execution(program, e)),
    })
}

/// The report of `replay` and `run`: one execution.
pub fn single_report(program: &Program, module: &Path, command: &str, e: &Execution) -> Value {
    json!({
        "format": REPORT_FORMAT,
        "command": command,
        "module": module,
        "module_sha256": program.sha256(),
        "verdict": if e.failure.is_some() { "fail" } else { "pass" },
        "execution": execution(program, e),
    })
}
