//! `interlace-wasm replay app.wasm failure.json`

use super::report::failure_report;
use super::{emit, GranularityArg, ModuleArgs};
use anyhow::Result;
use clap::Args;
use interlace_wasm::{replay, ScheduleFile};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct ReplayCmd {
    #[command(flatten)]
    pub module: ModuleArgs,
    /// Schedule file written by `explore`.
    pub schedule: PathBuf,
    /// Print the report as JSON (schema `interlace-wasm-report/1`, see docs/reports.md).
    #[arg(long)]
    pub json: bool,
    /// Write the interleaving as a self-contained HTML page.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

impl ReplayCmd {
    pub fn execute(self) -> Result<ExitCode> {
        let schedule = ScheduleFile::load(&self.schedule)?;
        // Replay runs the module as it was explored.
        let mut module = self.module.clone();
        module.run.granularity = match schedule.granularity.as_str() {
            "atomics" => GranularityArg::Atomics,
            _ => GranularityArg::All,
        };
        let program = module.load()?;
        let execution = replay(&program, &schedule, &self.module.run_config()?)?;
        if let Some(page) = &self.html {
            super::explore::write_html(page, &self.module.module, &execution, &program)?;
        }
        if self.json {
            let json =
                super::json::single_report(&program, &self.module.module, "replay", &execution);
            emit(&format!("{json:#}\n"));
            let code = if execution.failure.is_some() { 1 } else { 0 };
            return Ok(ExitCode::from(code));
        }
        if execution.failure.is_none() {
            emit(&format!(
                "replayed {} scheduling points: no failure\n",
                execution.steps
            ));
            return Ok(ExitCode::SUCCESS);
        }
        emit(&failure_report(&program, &execution));
        Ok(ExitCode::from(1))
    }
}
