//! `cargo interlace test`: every `#[test]` of a package, unmodified, each
//! explored as its own program (`NAME --exact --nocapture --test-threads=1`).

use super::build::{build, target_dir, Artifact, Build, CargoArgs};
use crate::cli::explore::{progress_text, verdict, ExploreOptions};
use crate::cli::json::REPORT_FORMAT;
use crate::cli::{emit, RunArgs};
use anyhow::{bail, Result};
use clap::Args;
use interlace_wasm::{explore_sharded, FailureKind, Program, RunConfig};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Instant;

#[derive(Args)]
pub struct TestCmd {
    /// Explore only tests whose names contain this (as `cargo test FILTER`).
    filter: Option<String>,
    /// Only the library's unit tests.
    #[arg(long)]
    lib: bool,
    /// Only this integration test (`tests/NAME.rs`); repeatable.
    #[arg(long = "test", value_name = "NAME")]
    tests: Vec<String>,
    /// Only the unit tests of every binary.
    #[arg(long)]
    bins: bool,
    /// Only the unit tests of this binary; repeatable.
    #[arg(long, value_name = "NAME")]
    bin: Vec<String>,
    /// Only the unit tests of every example.
    #[arg(long)]
    examples: bool,
    /// FILTER must match a test's whole name.
    #[arg(long)]
    exact: bool,
    /// Skip tests whose names contain this; repeatable.
    #[arg(long, value_name = "TEXT")]
    skip: Vec<String>,
    /// Explore only the `#[ignore]`d tests.
    #[arg(long)]
    ignored: bool,
    /// Explore the `#[ignore]`d tests too.
    #[arg(long)]
    include_ignored: bool,
    #[command(flatten)]
    cargo: CargoArgs,
    #[command(flatten)]
    run: RunArgs,
    #[command(flatten)]
    options: ExploreOptions,
}

/// What became of one test.
enum Verdict {
    /// No failing interleaving; the summary says what was explored.
    Ok(String),
    /// A failing interleaving: the report, with its saved schedule.
    Failed(String),
    /// A failure that an execution without any preemption shows too: the
    /// test fails sequentially (natively too, or because of what wasm
    /// lacks), not because of an interleaving.
    Sequential(String),
    /// The test needs more than the target holds (threads' memory): a
    /// limit, not a verdict.
    Limit(String),
    /// Not explored, and why.
    Ignored(String),
}

/// How many results of each kind (failed includes sequential failures).
#[derive(Default)]
struct Counts {
    passed: usize,
    failed: usize,
    sequential: usize,
    limits: usize,
    ignored: usize,
}

impl Counts {
    fn of(results: &[TestResult]) -> Counts {
        let mut c = Counts::default();
        for r in results {
            match r.verdict {
                Verdict::Ok(_) => c.passed += 1,
                Verdict::Failed(_) => c.failed += 1,
                Verdict::Sequential(_) => {
                    c.failed += 1;
                    c.sequential += 1
                }
                Verdict::Limit(_) => c.limits += 1,
                Verdict::Ignored(_) => c.ignored += 1,
            }
        }
        c
    }
}

/// One test's result, as printed and as JSON.
struct TestResult {
    name: String,
    verdict: Verdict,
    json: Value,
}

impl TestCmd {
    pub fn execute(self) -> Result<ExitCode> {
        if self.options.html.is_some() {
            bail!("--html draws one interleaving; replay a failing test's schedule with `cargo interlace replay FILE --html PAGE`");
        }
        if self.ignored && self.include_ignored {
            bail!("--ignored explores only the ignored tests and --include-ignored all of them; give one");
        }
        let mut selectors = vec![];
        if self.lib {
            selectors.push("--lib".to_string());
        }
        for t in &self.tests {
            selectors.extend(["--test".to_string(), t.clone()]);
        }
        if self.bins {
            selectors.push("--bins".to_string());
        }
        for b in &self.bin {
            selectors.extend(["--bin".to_string(), b.clone()]);
        }
        if self.examples {
            selectors.push("--examples".to_string());
        }
        let mut artifacts = build(&self.cargo, Build::Tests(&selectors))?;
        // cargo test's order: unit tests (library, then binaries), then
        // integration tests, then the rest, each by name.
        let rank = |a: &Artifact| match a.kind.as_str() {
            _ if a.is_lib() => 0,
            "bin" => 1,
            "test" => 2,
            _ => 3,
        };
        artifacts.sort_by(|a, b| (rank(a), &a.name).cmp(&(rank(b), &b.name)));
        if artifacts.is_empty() {
            bail!("cargo built no test target for the selection; check --lib/--test/--bins/--examples and -p");
        }
        let start = Instant::now();
        let mut failed_targets = vec![];
        let mut documents = vec![];
        let (mut passed, mut failed, mut ignored, mut limits) = (0, 0, 0, 0);
        for artifact in &artifacts {
            if !self.options.json {
                emit(&format!(
                    "     Running {} ({})\n",
                    artifact.label(),
                    artifact.wasm.display()
                ));
            }
            let Some(results) = self.test_target(artifact)? else {
                continue;
            };
            let counts = Counts::of(&results);
            let n_failed = counts.failed;
            limits += counts.limits;
            passed += counts.passed;
            ignored += counts.ignored;
            failed += n_failed;
            if n_failed > 0 {
                failed_targets.push(artifact.selector());
            }
            for r in results {
                documents.push(json!({
                    "target": artifact.name,
                    "kind": artifact.kind,
                    "module": artifact.wasm,
                    "test": r.name,
                    "result": match r.verdict {
                        Verdict::Ok(_) => "ok",
                        Verdict::Failed(_) => "failed",
                        Verdict::Sequential(_) => "failed_without_preemption",
                        Verdict::Limit(_) => "limit",
                        Verdict::Ignored(_) => "ignored",
                    },
                    "note": match &r.verdict {
                        Verdict::Ignored(why) | Verdict::Limit(why) => Value::from(why.as_str()),
                        _ => Value::Null,
                    },
                    "report": r.json,
                }));
            }
        }
        if self.options.json {
            let v = json!({
                "format": REPORT_FORMAT,
                "command": "cargo-interlace-test",
                "verdict": if failed > 0 { "fail" } else { "pass" },
                "passed": passed,
                "failed": failed,
                "ignored": ignored,
                "limits": limits,
                "elapsed_ms": start.elapsed().as_secs_f64() * 1e3,
                "shard": self.options.shard.map(|s| json!({"index": s.index, "count": s.count})),
                "tests": documents,
            });
            emit(&format!("{v:#}\n"));
        }
        if failed_targets.is_empty() {
            if limits > 0 {
                eprintln!("error: {limits} test(s) could not be explored (a limit of the target; see above)");
                return Ok(ExitCode::from(2));
            }
            return Ok(ExitCode::SUCCESS);
        }
        let n = failed_targets.len();
        eprintln!(
            "error: {n} target{} failed:\n    `{}`",
            if n == 1 { "" } else { "s" },
            failed_targets.join("`\n    `")
        );
        Ok(ExitCode::from(1))
    }

    /// Lists, explores and reports the tests of one test harness.
    /// None: not a libtest harness (`harness = false`), skipped with a note.
    fn test_target(&self, artifact: &Artifact) -> Result<Option<Vec<TestResult>>> {
        let program = self.run.load(&artifact.wasm)?;
        let all = match self.list(&program, artifact, false, false) {
            Ok(all) => all,
            Err(why) => {
                eprintln!("note: skipped {}: {why:#}", artifact.label());
                return Ok(None);
            }
        };
        let ignored_list = self.list(&program, artifact, true, true)?;
        let selected = if self.ignored {
            ignored_list.clone()
        } else {
            self.list(&program, artifact, true, false)?
        };
        let ignored: BTreeSet<String> = ignored_list.into_iter().collect();
        let start = Instant::now();
        let json = self.options.json;
        if !json {
            let n = selected.len();
            emit(&format!(
                "\nrunning {n} test{}\n",
                if n == 1 { "" } else { "s" }
            ));
        }
        let explore = |name: &String| -> Result<TestResult> {
            let is_ignored = ignored.contains(name);
            if is_ignored && !(self.ignored || self.include_ignored) {
                return Ok(TestResult {
                    name: name.clone(),
                    verdict: Verdict::Ignored(String::new()),
                    json: Value::Null,
                });
            }
            self.explore_test(&program, artifact, name, is_ignored)
        };
        let results = self.for_each(&selected, explore, |r| {
            if !json {
                emit(&line(r));
            }
        })?;
        if !json {
            emit(&target_summary(
                &results,
                all.len() - selected.len(),
                start.elapsed(),
            ));
        }
        Ok(Some(results))
    }

    /// Runs `f` on every test, `--jobs` at a time, calling `done` in the
    /// tests' order as results come in.
    fn for_each(
        &self,
        tests: &[String],
        f: impl Fn(&String) -> Result<TestResult> + Sync,
        mut done: impl FnMut(&TestResult),
    ) -> Result<Vec<TestResult>> {
        let jobs = self.options.jobs.clamp(1, tests.len().max(1));
        let next = AtomicUsize::new(0);
        let (tx, rx) = mpsc::channel();
        let mut slots: Vec<Option<TestResult>> = tests.iter().map(|_| None).collect();
        let mut first_error = None;
        std::thread::scope(|scope| {
            for _ in 0..jobs {
                let tx = tx.clone();
                let (next, f) = (&next, &f);
                scope.spawn(move || loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(test) = tests.get(i) else { break };
                    if tx.send((i, f(test))).is_err() {
                        break;
                    }
                });
            }
            drop(tx);
            let mut shown = 0;
            for (i, result) in rx {
                match result {
                    Ok(r) => slots[i] = Some(r),
                    Err(e) => {
                        first_error.get_or_insert(e);
                        next.store(tests.len(), Ordering::SeqCst);
                    }
                }
                while let Some(Some(r)) = slots.get(shown) {
                    done(r);
                    shown += 1;
                }
            }
        });
        if let Some(e) = first_error {
            return Err(e);
        }
        Ok(slots.into_iter().flatten().collect())
    }

    /// The tests libtest lists: all of them, or those the filters select,
    /// or the ignored ones among those.
    fn list(
        &self,
        program: &Program,
        artifact: &Artifact,
        filtered: bool,
        ignored: bool,
    ) -> Result<Vec<String>> {
        let mut args: Vec<String> = vec!["--list".into(), "--format".into(), "terse".into()];
        if filtered {
            args.extend(self.filter.clone());
            if self.exact {
                args.push("--exact".into());
            }
            for s in &self.skip {
                args.extend(["--skip".to_string(), s.clone()]);
            }
        }
        if ignored {
            args.push("--ignored".into());
        }
        let cfg = RunConfig {
            trace: false,
            ..self.run.run_config(&args)?
        };
        let execution = interlace_wasm::run(program, &cfg)?;
        if execution.failure.is_some() || execution.exit_code != Some(0) {
            bail!(
                "{} did not list its tests under `--list`: {}; a `harness = false` target is not a libtest harness (explore it as a program: `interlace-wasm explore {}`)",
                artifact.wasm.display(),
                execution
                    .failure
                    .map(|f| f.to_string())
                    .unwrap_or_else(|| format!("exit status {:?}", execution.exit_code)),
                artifact.wasm.display(),
            );
        }
        let stdout = String::from_utf8_lossy(&execution.stdout);
        Ok(stdout
            .lines()
            .filter_map(|l| l.strip_suffix(": test"))
            .map(str::to_string)
            .collect())
    }

    /// Explores one test; a failing schedule goes to
    /// `target/interlace/<target>/<test>.failure.json`.
    fn explore_test(
        &self,
        program: &Program,
        artifact: &Artifact,
        name: &str,
        include_ignored: bool,
    ) -> Result<TestResult> {
        let mut args: Vec<String> = vec![
            name.into(),
            "--exact".into(),
            "--nocapture".into(),
            "--test-threads=1".into(),
        ];
        if include_ignored {
            args.push("--include-ignored".into());
        }
        let cfg = self.options.config(self.run.run_config(&args)?)?;
        let on_terminal = self.options.jobs <= 1 && self.options.progress_shown();
        let mut progress = |p: &interlace_wasm::Progress| {
            if on_terminal {
                eprint!("\r\x1b[2Ktest {name}: {}", progress_text(p));
            }
        };
        let report = match explore_sharded(program, &cfg, 1, self.options.shard, &mut progress) {
            Ok(report) => report,
            // The tool's error on this test (a limit, a replay that could
            // not repeat a cut execution) is this test's result; the other
            // tests go on.
            Err(e) => {
                if on_terminal {
                    eprint!("\r\x1b[2K");
                }
                return Ok(TestResult {
                    name: name.to_string(),
                    verdict: Verdict::Limit(format!("the tool could not explore it: {e}")),
                    json: json!({"error": e.to_string()}),
                });
            }
        };
        if on_terminal {
            eprint!("\r\x1b[2K");
        }
        // A limit is said before anything is minimised or saved: the
        // execution that met it is no counterexample.
        if let Some(why) = report
            .failure
            .as_ref()
            .and_then(|found| limit_of(found, cfg.run.max_steps))
        {
            return Ok(TestResult {
                name: name.to_string(),
                json: json!({"limit": why}),
                verdict: Verdict::Limit(why),
            });
        }
        let dir = target_dir(&artifact.wasm)
            .join("interlace")
            .join(&artifact.name);
        let path: PathBuf = dir.join(format!("{name}.failure.json"));
        if report.failure.is_some() {
            std::fs::create_dir_all(&dir).map_err(|e| {
                anyhow::anyhow!(
                    "cannot create {} for the failing schedule: {e}",
                    dir.display()
                )
            })?;
        }
        let (_, text) = verdict(
            program,
            &report,
            &cfg,
            &self.options,
            &path,
            &artifact.wasm,
            Some(name),
        )?;
        let json = if self.options.json {
            serde_json::from_str(&text)?
        } else {
            Value::Null
        };
        let verdict = if report.failure.is_some() {
            // With the points the exploration took.
            if interlace_wasm::run_without_preemption(program, &cfg.resolved().run)?
                .failure
                .is_some()
            {
                Verdict::Sequential(format!(
                    "{text}note: an execution without any preemption fails too, so this is not an interleaving bug. If `cargo test` passes natively, it is a limit of wasm: a panic aborts (a test that catches one with catch_unwind cannot pass), and there are no files, sockets or processes.\n"
                ))
            } else {
                Verdict::Failed(text)
            }
        } else if let Some(why) = skipped_by_libtest(&report, name) {
            Verdict::Ignored(why)
        } else if report.single_thread {
            Verdict::Ok("1 execution: it spawns no thread, so it has one interleaving".into())
        } else {
            let first = text.lines().next().unwrap_or_default();
            Verdict::Ok(
                first
                    .strip_prefix("no failing interleaving: ")
                    .unwrap_or(first)
                    .to_string(),
            )
        };
        Ok(TestResult {
            name: name.to_string(),
            verdict,
            json,
        })
    }
}

/// Why libtest itself skipped a test it was asked to run, if it did: on
/// wasm it ignores `#[should_panic]` tests (a panic aborts the process).
fn skipped_by_libtest(report: &interlace_wasm::ExploreReport, name: &str) -> Option<String> {
    let out = report.outcomes.first()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if stdout.contains(&format!("test {name} - should panic ... ignored")) {
        return Some("#[should_panic]: libtest does not run it on wasm, where a panic aborts the process (not explored)".into());
    }
    if stdout.contains(&format!("test {name} ... ignored")) {
        return Some("libtest ignored it".into());
    }
    None
}

/// Why a found failure is a limit (of the tool or of the target), not a
/// verdict on the test: cut by the step bound, out of memory for threads,
/// or the platform lacks what the code needs.
fn limit_of(found: &interlace_wasm::FoundFailure, max_steps: u64) -> Option<String> {
    let failure = found.execution.failure.as_ref()?;
    if failure.kind == FailureKind::StepBound {
        return Some(format!(
            "an execution passed --max-steps ({max_steps} scheduling points) and was cut; a long test is a limit of the tool, not a verdict: raise --max-steps, or give the test a smaller workload"
        ));
    }
    if failure.message.contains("failed to spawn thread") {
        return Some(format!(
            "the test creates more threads than wasm32's memory holds (`{}`); not explored",
            failure.message.lines().last().unwrap_or_default().trim()
        ));
    }
    unsupported(&failure.message).map(|line| {
        format!(
            "the code needs what {} lacks (`{line}`); not a verdict on the test",
            super::build::TARGET
        )
    })
}

/// The line of a panic message that says the platform lacks something
/// (std's `Unsupported` errors, crates' fallbacks for wasm such as
/// parking_lot_core's "Parking not supported on this platform").
fn unsupported(message: &str) -> Option<&str> {
    message.lines().map(str::trim).find(|l| {
        let l = l.to_ascii_lowercase();
        l.contains("not supported on this platform")
            || l.contains("unsupported on this platform")
            || l.contains("operation not supported")
            || l.contains("kind: unsupported")
    })
}

/// `test x ... ok` and what was explored.
fn line(r: &TestResult) -> String {
    match &r.verdict {
        Verdict::Ok(how) => format!("test {} ... ok, {how}\n", r.name),
        Verdict::Failed(_) => format!("test {} ... FAILED\n", r.name),
        Verdict::Sequential(_) => format!(
            "test {} ... FAILED without any preemption (not an interleaving bug)\n",
            r.name
        ),
        Verdict::Limit(why) => format!("test {} ... not explored: {why}\n", r.name),
        Verdict::Ignored(why) if why.is_empty() => format!("test {} ... ignored\n", r.name),
        Verdict::Ignored(why) => format!("test {} ... ignored, {why}\n", r.name),
    }
}

/// The failures' reports and the `test result:` line, in cargo test's shape.
fn target_summary(
    results: &[TestResult],
    filtered_out: usize,
    elapsed: std::time::Duration,
) -> String {
    let mut out = String::new();
    let failures: Vec<&TestResult> = results
        .iter()
        .filter(|r| matches!(r.verdict, Verdict::Failed(_) | Verdict::Sequential(_)))
        .collect();
    if !failures.is_empty() {
        out.push_str("\nfailures:\n");
        for r in &failures {
            if let Verdict::Failed(text) | Verdict::Sequential(text) = &r.verdict {
                out.push_str(&format!("\n---- {} ----\n{text}", r.name));
            }
        }
        out.push_str("\nfailures:\n");
        for r in &failures {
            out.push_str(&format!("    {}\n", r.name));
        }
    }
    let Counts {
        passed,
        sequential,
        limits,
        ignored,
        ..
    } = Counts::of(results);
    let mut extra = String::new();
    if sequential > 0 {
        extra.push_str(&format!(" ({sequential} without preemption)"));
    }
    if limits > 0 {
        extra.push_str(&format!("; {limits} not explored (a limit)"));
    }
    out.push_str(&format!(
        "\ntest result: {}. {passed} passed; {} failed{extra}; {ignored} ignored; 0 measured; {filtered_out} filtered out; finished in {:.2}s\n\n",
        if failures.is_empty() { "ok" } else { "FAILED" },
        failures.len(),
        elapsed.as_secs_f64()
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::unsupported;

    #[test]
    fn platform_gaps_are_recognised_in_panic_messages() {
        let parking = "thread 'main' (1) panicked at .../thread_parker/wasm.rs:26:9:\nParking not supported on this platform";
        assert_eq!(
            unsupported(parking),
            Some("Parking not supported on this platform")
        );
        let io = "called `Result::unwrap()` on an `Err` value: Error { kind: Unsupported, message: \"operation not supported on this platform\" }";
        assert!(unsupported(io).is_some());
        assert_eq!(
            unsupported("assertion `left == right` failed: lost update"),
            None
        );
    }
}
