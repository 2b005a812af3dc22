//! `interlace-wasm explore app.wasm`

use super::json;
use super::report::failure_report;
use super::{emit, ModuleArgs};
use anyhow::Result;
use clap::{Args, ValueEnum};
use interlace_wasm::{
    explore_sharded, ExploreConfig, ExploreReport, Program, Progress, RunConfig, Shard, Strategy,
    DEFAULT_ITERATIONS,
};
use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// PCT's default bug depth: two change points (a lost update needs one,
/// an ABA or a three-step race two).
const DEFAULT_PCT_DEPTH: u32 = 3;

#[derive(Clone, Copy, ValueEnum)]
enum StrategyArg {
    /// The default: random, pos, pct (depth 2) and pct (depth 3) share the
    /// budget, execution i run by member i mod 4.
    Portfolio,
    /// Random walk that preempts at visible operations: atomics, thread events,
    /// and memory more than one thread touched.
    Random,
    /// Uniform random choice at every scheduling point (a baseline).
    Uniform,
    /// PCT: random thread priorities, d−1 priority change points (--depth).
    Pct,
    /// POS: partial-order sampling, a random priority per event, drawn again
    /// when a racing event runs.
    Pos,
    /// Exhaustive: every interleaving up to equivalence (source-DPOR with sleep sets).
    Dpor,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum PointsArg {
    /// Every scheduling point (the instruction level).
    All,
    /// Only guest-sdk markers (and yields, blocking, thread ends).
    Markers,
}

/// How to explore: shared by `explore` and `test`.
#[derive(Args)]
pub struct ExploreOptions {
    /// Exploration strategy.
    #[arg(long, value_enum, default_value_t = StrategyArg::Portfolio)]
    strategy: StrategyArg,
    /// Seed of a random strategy: the same seed explores the same executions.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Executions to run at most.
    #[arg(long, visible_alias = "max-executions", default_value_t = DEFAULT_ITERATIONS)]
    pub iterations: u64,
    /// Also stop starting executions after this much wall time (`90`, `90s`,
    /// `10m`); each execution stays deterministic, how many run depends on
    /// the machine.
    #[arg(long, value_name = "DURATION", value_parser = parse_time)]
    pub time: Option<std::time::Duration>,
    /// DPOR: explore only executions with at most this many preemptions.
    #[arg(long)]
    preemption_bound: Option<u32>,
    /// PCT: the bug depth d (d−1 priority change points per execution).
    #[arg(long)]
    depth: Option<u32>,
    /// DPOR: make every library access (Rust std, wasi-libc) a scheduling
    /// point of its own instead of running library code between two
    /// program steps as one block (finer, many more executions).
    #[arg(long)]
    split_library: bool,
    /// DPOR: iterative preemption bounding: bound 0, then 1, 2, ... then
    /// none, in one budget; finds bugs needing few preemptions first and is
    /// still exhaustive in the end.
    #[arg(long)]
    deepen: bool,
    /// Where a thread may be preempted: every scheduling point, or only at
    /// guest-sdk markers (coarse and fast, as the interlace seed's markers).
    #[arg(long, value_enum, default_value_t = PointsArg::All)]
    points: PointsArg,
    /// Keep a found schedule as it is instead of searching for one with
    /// fewer preemptions that fails the same way.
    #[arg(long)]
    pub no_minimise: bool,
    /// Print the report as JSON (schema `interlace-wasm-report/1`, see docs/reports.md).
    #[arg(long)]
    pub json: bool,
    /// A live progress line on stderr: on a terminal only (auto), always, never.
    #[arg(long, value_enum, default_value_t = ProgressArg::Auto)]
    pub progress: ProgressArg,
    /// Write the failing interleaving as a self-contained HTML page
    /// (swimlanes per thread; open it in any browser).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Run executions on this many OS threads (random, pct, pos, uniform, and
    /// dpor, which splits its tree); the
    /// findings are the same as with one.
    #[arg(long, default_value_t = 1)]
    pub jobs: usize,
    /// Run one deterministic slice k of N (0-based) of the executions, to
    /// split an exploration across machines; merge the `--json` reports
    /// with `interlace-wasm merge`.
    #[arg(long, value_name = "k/N", value_parser = parse_shard)]
    pub shard: Option<Shard>,
}

fn parse_time(text: &str) -> std::result::Result<std::time::Duration, String> {
    let bad = || {
        format!(
            "--time takes seconds, or a number with s, m or h (e.g. 90, 30s, 10m), got `{text}`"
        )
    };
    let t = text.trim();
    let (number, unit) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&t[..i], c),
        _ => (t, 's'),
    };
    let value: f64 = number.trim().parse().map_err(|_| bad())?;
    let seconds = match unit {
        's' => value,
        'm' => value * 60.0,
        'h' => value * 3600.0,
        _ => return Err(bad()),
    };
    if !(seconds.is_finite() && seconds > 0.0) {
        return Err(bad());
    }
    Ok(std::time::Duration::from_secs_f64(seconds))
}

fn parse_shard(text: &str) -> std::result::Result<Shard, String> {
    let bad = || format!("--shard takes k/N with 0 <= k < N (e.g. 0/4), got `{text}`");
    let (k, n) = text.split_once('/').ok_or_else(bad)?;
    let index: u64 = k.trim().parse().map_err(|_| bad())?;
    let count: u64 = n.trim().parse().map_err(|_| bad())?;
    if count == 0 || index >= count {
        return Err(bad());
    }
    Ok(Shard { index, count })
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProgressArg {
    Auto,
    Always,
    Never,
}

impl ExploreOptions {
    /// Explores `program` as these options say: on `--jobs` threads, in
    /// `--shard`, with the progress line.
    pub fn explore(&self, program: &Program, cfg: &ExploreConfig) -> Result<ExploreReport> {
        let (shown, mut line) = self.progress_line();
        let report = explore_sharded(program, cfg, self.jobs, self.shard, &mut line)?;
        if shown {
            eprint!("\r\x1b[2K");
        }
        Ok(report)
    }

    /// Whether the live progress line is shown (`--progress`).
    pub fn progress_shown(&self) -> bool {
        use std::io::IsTerminal;
        match self.progress {
            ProgressArg::Auto => std::io::stderr().is_terminal(),
            ProgressArg::Always => true,
            ProgressArg::Never => false,
        }
    }

    /// The progress printer to pass to `explore_sharded`, and whether it prints.
    fn progress_line(&self) -> (bool, impl FnMut(&Progress)) {
        let on = self.progress_shown();
        (on, move |p: &Progress| {
            if on {
                eprint!("\r\x1b[2K{}", progress_text(p));
            }
        })
    }
}

/// One progress line.
pub fn progress_text(p: &Progress) -> String {
    let rate = p.executions as f64 / p.elapsed.as_secs_f64().max(1e-9);
    let mut line = format!(
        "exploring: {} executions, {:.0} executions/s, {} failures",
        p.executions, rate, p.failures
    );
    if let Some(note) = &p.note {
        line.push_str(", ");
        line.push_str(note);
    }
    line
}

impl ExploreOptions {
    /// The exploration settings around `run`.
    pub fn config(&self, run: RunConfig) -> Result<ExploreConfig> {
        if self.preemption_bound.is_some() && !matches!(self.strategy, StrategyArg::Dpor) {
            anyhow::bail!("--preemption-bound applies to --strategy dpor only");
        }
        if self.jobs == 0 {
            anyhow::bail!("--jobs must be at least 1");
        }
        let split = self.jobs > 1 || self.shard.is_some();
        if split && self.points == PointsArg::Markers {
            anyhow::bail!(
                "--jobs and --shard do not apply to --points markers (it runs on one thread)"
            );
        }
        if self.shard.is_some() && matches!(self.strategy, StrategyArg::Dpor) {
            anyhow::bail!("--shard applies to --strategy portfolio, random, pct, pos and uniform; DPOR splits its tree with --jobs on one machine");
        }
        if self.jobs > 1
            && matches!(self.strategy, StrategyArg::Dpor)
            && (self.deepen || self.preemption_bound.is_some())
        {
            anyhow::bail!("--jobs with --strategy dpor runs the unbounded search; drop --deepen and --preemption-bound, or run them on one thread");
        }
        if self.depth.is_some() && !matches!(self.strategy, StrategyArg::Pct) {
            anyhow::bail!("--depth applies to --strategy pct only");
        }
        if self.depth == Some(0) {
            anyhow::bail!("--depth must be at least 1 (1: no change point; 2: one; ...)");
        }
        if self.deepen && self.preemption_bound.is_some() {
            anyhow::bail!("--deepen chooses the preemption bounds itself; drop --preemption-bound");
        }
        if self.deepen && !matches!(self.strategy, StrategyArg::Dpor) {
            anyhow::bail!("--deepen applies to --strategy dpor only");
        }
        if self.split_library && !matches!(self.strategy, StrategyArg::Dpor) {
            anyhow::bail!("--split-library applies to --strategy dpor only");
        }
        let strategy = match self.strategy {
            StrategyArg::Portfolio => Strategy::Portfolio { seed: self.seed },
            StrategyArg::Random => Strategy::Random { seed: self.seed },
            StrategyArg::Uniform => Strategy::Uniform { seed: self.seed },
            StrategyArg::Pos => Strategy::Pos { seed: self.seed },
            StrategyArg::Pct => Strategy::Pct {
                seed: self.seed,
                depth: self.depth.unwrap_or(DEFAULT_PCT_DEPTH),
            },
            StrategyArg::Dpor if self.deepen => Strategy::DporDeepening {
                library_blocks: !self.split_library,
            },
            StrategyArg::Dpor => Strategy::Dpor {
                preemption_bound: self.preemption_bound,
                library_blocks: !self.split_library,
            },
        };
        Ok(ExploreConfig {
            strategy,
            iterations: self.iterations,
            time: self.time,
            markers_only: self.points == PointsArg::Markers,
            run,
        })
    }
}

#[derive(Args)]
pub struct ExploreCmd {
    #[command(flatten)]
    pub module: ModuleArgs,
    #[command(flatten)]
    pub options: ExploreOptions,
    /// Where to save a failing schedule [default: <module-stem>.failure.json].
    #[arg(long)]
    pub save: Option<PathBuf>,
}

/// A portfolio's executions per member, `: random 5, pos 5, ...`; empty
/// for a single strategy.
fn shares(report: &ExploreReport) -> String {
    if report.members.is_empty() {
        return String::new();
    }
    let shares: Vec<String> = report
        .members
        .iter()
        .map(|(name, n)| format!("{name} {n}"))
        .collect();
    format!(": {}", shares.join(", "))
}

/// The line that says what was explored, and never claims more.
fn summary(report: &ExploreReport, iterations: u64) -> String {
    let mut out = String::new();
    if report.single_thread && report.failure.is_none() {
        return "1 execution: the program created no thread but main, so it has one interleaving and every execution would repeat it".to_string();
    }
    let seed = report
        .seed
        .map(|s| format!(", seed {s}"))
        .unwrap_or_default();
    match &report.coverage {
        Some(c) => {
            let _ = write!(
                out,
                "{}: {} executions ({} complete, {} sleep-set blocked",
                c.algorithm, c.executions, c.complete, c.sleep_blocked
            );
            if c.bound_blocked > 0 {
                let _ = write!(out, ", {} cut by the preemption bound", c.bound_blocked);
            }
            out.push(')');
            if report.failure.is_some() {
                out.push_str("; stopped at the first failure");
            } else if c.is_complete() {
                out.push_str("; every interleaving was covered");
            } else if report.out_of_time {
                out.push_str("; NOT complete: stopped at the --time budget");
            } else if !c.exhausted {
                let _ = write!(out, "; NOT complete: stopped at the budget of {iterations} executions (--max-executions)");
            } else {
                let bound = c.preemption_bound.unwrap_or_default();
                let _ = write!(
                    out,
                    "; the search bounded to {bound} preemptions (--preemption-bound) ended, which is NOT a proof: with sleep sets a bounded search can skip interleavings even within the bound; drop the bound (or use --deepen) for one"
                );
            }
        }
        None => {
            let _ = write!(
                out,
                "{} executions (strategy {}{seed}",
                report.executions, report.strategy
            );
            out.push_str(&shares(report));
            if report.out_of_time {
                out.push_str("; stopped at the --time budget");
            }
            out.push(')');
        }
    }
    out
}

fn outcomes(report: &ExploreReport) -> String {
    let mut out = format!(
        "{} distinct outcomes (exit status, stdout)",
        report.outcomes.len()
    );
    if report.outcomes.len() <= 8 {
        for o in &report.outcomes {
            let status = o.exit_code.map_or("-".to_string(), |c| c.to_string());
            let _ = write!(
                out,
                "\n  exit {status}, stdout {:?}: {} executions",
                String::from_utf8_lossy(&o.stdout),
                o.count
            );
        }
    }
    out
}

impl ExploreCmd {
    pub fn execute(self) -> Result<ExitCode> {
        let program = self.module.load()?;
        let cfg = self.options.config(self.module.run_config()?)?;
        let report = self.options.explore(&program, &cfg)?;
        let stem = self.module.stem();
        let path = self
            .save
            .clone()
            .unwrap_or_else(|| PathBuf::from(format!("{stem}.failure.json")));
        let (code, text) = verdict(
            &program,
            &report,
            &cfg,
            &self.options,
            &path,
            &self.module.module,
            None,
        )?;
        emit(&text);
        Ok(code)
    }
}

/// The report of one exploration; a failing schedule is saved to `path`
/// before the text exists.
pub fn verdict(
    program: &Program,
    report: &ExploreReport,
    cfg: &ExploreConfig,
    options: &ExploreOptions,
    path: &Path,
    module: &Path,
    test: Option<&str>,
) -> Result<(ExitCode, String)> {
    let iterations = cfg.iterations;
    // The file names its module and test, so that `cargo interlace replay
    // FILE` needs nothing else.
    let stamped = |s: &interlace_wasm::ScheduleFile| {
        let mut s = s.clone();
        s.module = std::path::absolute(module).ok();
        s.test = test.map(str::to_string);
        s
    };
    // An execution cut by a bound is millions of steps long: minimising
    // would replay it again and again.
    let cut = report.failure.as_ref().is_some_and(|f| {
        f.execution
            .failure
            .as_ref()
            .is_some_and(|x| x.kind.cut_by_bound())
    });
    let minimise = !options.no_minimise && !cut;
    let Some(found) = &report.failure else {
        if options.json {
            let mut json = json::explore_report(program, module, report, None, None, None);
            add_run_info(&mut json, cfg, options);
            return Ok((ExitCode::SUCCESS, format!("{json:#}\n")));
        }
        let text = format!(
            "no failing interleaving: {}\n{}\n",
            summary(report, iterations),
            outcomes(report)
        );
        return Ok((ExitCode::SUCCESS, text));
    };
    stamped(&found.schedule).save(path)?;
    let mut execution = &found.execution;
    let mut note = None;
    let mut json_note = None;
    let minimised;
    let original = original_path(path);
    if minimise {
        match interlace_wasm::minimise(program, &found.schedule, &cfg.run) {
            Ok(m)
                if m.execution.steps < found.execution.steps
                    || m.preemptions_after < m.preemptions_before =>
            {
                stamped(&found.schedule).save(&original)?;
                json_note = Some((m.preemptions_before, m.preemptions_after));
                stamped(&m.schedule).save(path)?;
                note = Some(format!(
                    "minimised from {} to {} preemptions ({} to {} scheduling points, {} executions); the original schedule is in {}",
                    m.preemptions_before,
                    m.preemptions_after,
                    m.steps_before,
                    m.steps_after,
                    m.runs,
                    original.display()
                ));
                minimised = m;
                execution = &minimised.execution;
            }
            Ok(m) => {
                note = Some(format!(
                    "already minimal: {} preemptions (no single switch could go)",
                    m.preemptions_before
                ))
            }
            Err(e) => note = Some(format!("not minimised: {e}")),
        }
    }
    if let Some(page) = &options.html {
        write_html(page, module, execution, program)?;
    }
    if options.json {
        let m = json_note.map(|(b, a)| json::MinimiseNote {
            preemptions_before: b,
            preemptions_after: a,
            original: &original,
        });
        let mut json =
            json::explore_report(program, module, report, Some(path), m, Some(execution));
        add_run_info(&mut json, cfg, options);
        return Ok((ExitCode::from(1), format!("{json:#}\n")));
    }
    let mut out = String::new();
    let how = match (&report.coverage, report.seed) {
        (None, Some(seed)) => format!(
            " (strategy {}, seed {seed}{})",
            report.strategy,
            shares(report)
        ),
        _ => format!(": {}", summary(report, iterations)),
    };
    let _ = writeln!(
        out,
        "found a failing interleaving in execution {}{how}",
        found.index + 1
    );
    if let Some(member) = report.found_by {
        let _ = writeln!(out, "found by the portfolio's {member} member");
    }
    let _ = writeln!(out, "schedule saved to {}", path.display());
    if let Some(page) = &options.html {
        let _ = writeln!(out, "interleaving drawn in {}", page.display());
    }
    if let Some(note) = note {
        let _ = writeln!(out, "{note}");
    }
    let _ = match test {
        Some(_) => writeln!(
            out,
            "replay it with: cargo interlace replay {}",
            path.display()
        ),
        None => writeln!(
            out,
            "replay it with: interlace-wasm replay {} {}",
            module.display(),
            path.display()
        ),
    };
    out.push_str(&failure_report(program, execution));
    Ok((ExitCode::from(1), out))
}

/// The budget and the shard, so that `merge` can check and add reports up.
fn add_run_info(json: &mut serde_json::Value, cfg: &ExploreConfig, options: &ExploreOptions) {
    json["iterations"] = cfg.iterations.into();
    json["library_points"] = cfg.library_points().into();
    json["shard"] = match options.shard {
        Some(s) => serde_json::json!({"index": s.index, "count": s.count}),
        None => serde_json::Value::Null,
    };
}

/// Writes the HTML page of a failing execution.
pub fn write_html(
    page: &Path,
    module: &Path,
    execution: &interlace_wasm::Execution,
    program: &Program,
) -> Result<()> {
    let title = module.file_name().unwrap_or_default().to_string_lossy();
    let html = interlace_wasm::render_html(&title, execution, program.sites());
    std::fs::write(page, html)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", page.display()))?;
    Ok(())
}

/// `x.failure.json` -> `x.failure.original.json`.
fn original_path(path: &Path) -> PathBuf {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let name = match name.strip_suffix(".json") {
        Some(stem) => format!("{stem}.original.json"),
        None => format!("{name}.original"),
    };
    path.with_file_name(name)
}
