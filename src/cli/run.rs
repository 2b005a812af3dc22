//! `interlace-wasm run app.wasm [--schedule S] -- args`

use super::report::failure_report;
use super::{emit, ModuleArgs};
use anyhow::{Context, Result};
use clap::Args;
use interlace_wasm::StepSchedule;
use std::io::Write;
use std::process::ExitCode;

#[derive(Args)]
pub struct RunCmd {
    #[command(flatten)]
    pub module: ModuleArgs,
    #[command(flatten)]
    pub options: RunOptions,
}

/// How to run once: shared with `cargo interlace run`.
#[derive(Args)]
pub struct RunOptions {
    /// Print the interleaving (to stderr) even when the run succeeds.
    #[arg(long)]
    trace: bool,
    /// Follow a schedule of marker steps: a JSON file, or the JSON itself
    /// (`{"steps": [{"thread": "t1", "marker": "read_balance"}, ...]}`).
    #[arg(long, value_name = "FILE|JSON")]
    schedule: Option<String>,
    /// Print the report as JSON (schema `interlace-wasm-report/1`, see docs/reports.md).
    #[arg(long)]
    json: bool,
}

impl RunOptions {
    fn steps(&self) -> Result<Option<StepSchedule>> {
        let Some(s) = &self.schedule else {
            return Ok(None);
        };
        let text = if s.trim_start().starts_with('{') {
            s.clone()
        } else {
            std::fs::read_to_string(s).with_context(|| format!("cannot read schedule file {s}"))?
        };
        Ok(Some(StepSchedule::parse(&text)?))
    }
}

impl RunCmd {
    pub fn execute(self) -> Result<ExitCode> {
        let steps = self.options.steps()?;
        let program = self.module.load()?;
        let mut cfg = self.module.run_config()?;
        cfg.trace = true;
        let (execution, unsatisfied) = match &steps {
            Some(steps) => interlace_wasm::run_steps(&program, steps, &cfg)?,
            None => (interlace_wasm::run(&program, &cfg)?, None),
        };
        if self.options.json {
            let mut json =
                super::json::single_report(&program, &self.module.module, "run", &execution);
            json["schedule_not_followed"] = unsatisfied.clone().into();
            emit(&format!("{json:#}\n"));
            let failed = execution.failure.is_some() || unsatisfied.is_some();
            return Ok(ExitCode::from(failed as u8));
        }
        if let Some(why) = unsatisfied {
            emit(&format!(
                "SCHEDULE NOT FOLLOWED: {why}\n{}",
                failure_report(&program, &execution)
            ));
            return Ok(ExitCode::from(1));
        }
        if execution.failure.is_none() {
            let _ = std::io::stdout().write_all(&execution.stdout);
            let _ = std::io::stderr().write_all(&execution.stderr);
            if let (true, Some(trace)) = (self.options.trace, &execution.trace) {
                eprint!(
                    "{}",
                    interlace_wasm::format_trace_with(
                        trace,
                        program.sites(),
                        usize::MAX,
                        usize::MAX
                    )
                );
            }
            return Ok(ExitCode::SUCCESS);
        }
        emit(&failure_report(&program, &execution));
        Ok(ExitCode::from(1))
    }
}
