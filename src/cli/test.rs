//! `interlace-wasm test app.wasm`: explore every exported test function.

use super::explore::{verdict, ExploreOptions};
use super::{emit, ModuleArgs};
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct TestCmd {
    #[command(flatten)]
    module: ModuleArgs,
    #[command(flatten)]
    options: ExploreOptions,
    /// Exported functions whose names start with this are tests.
    #[arg(long, default_value = "interlace_test_")]
    prefix: String,
}

impl TestCmd {
    pub fn execute(self) -> Result<ExitCode> {
        let program = self.module.load()?;
        let tests = program.entry_points(&self.prefix);
        if tests.is_empty() {
            anyhow::bail!(
                "the module exports no function whose name starts with `{}`; export tests with interlace_guest_sdk::interlace_test!",
                self.prefix
            );
        }
        let stem = self.module.stem();
        if !self.options.json {
            emit(&format!("running {} tests\n", tests.len()));
        }
        let mut reports = vec![];
        let mut failed = vec![];
        for name in &tests {
            let mut run = self.module.run_config()?;
            run.entry = name.clone();
            let cfg = self.options.config(run)?;
            let report = self.options.explore(&program, &cfg)?;
            let path = PathBuf::from(format!("{stem}.{name}.failure.json"));
            let (_, text) = verdict(
                &program,
                &report,
                &cfg,
                &self.options,
                &path,
                &self.module.module,
                None,
            )?;
            if self.options.json {
                let v: serde_json::Value = serde_json::from_str(&text)?;
                reports.push(serde_json::json!({"test": name, "report": v}));
                if report.failure.is_some() {
                    failed.push(name.clone());
                }
            } else if report.failure.is_some() {
                emit(&format!("test {name} ... FAILED\n{text}"));
                failed.push(name.clone());
            } else {
                let first = text.lines().next().unwrap_or_default();
                emit(&format!("test {name} ... ok ({first})\n"));
            }
        }
        let passed = tests.len() - failed.len();
        if self.options.json {
            let v = serde_json::json!({
                "format": super::json::REPORT_FORMAT,
                "command": "test",
                "verdict": if failed.is_empty() { "pass" } else { "fail" },
                "passed": passed,
                "failed": failed,
                "tests": reports,
            });
            emit(&format!("{v:#}\n"));
            return Ok(ExitCode::from(!failed.is_empty() as u8));
        }
        if failed.is_empty() {
            emit(&format!("\ntest result: ok. {passed} passed; 0 failed\n"));
            return Ok(ExitCode::SUCCESS);
        }
        emit(&format!(
            "\nfailures:\n    {}\n\ntest result: FAILED. {passed} passed; {} failed\n",
            failed.join("\n    "),
            failed.len()
        ));
        Ok(ExitCode::from(1))
    }
}
