//! `cargo interlace run` and `cargo interlace explore`: a package's binary
//! or example, built for the target and handed to `run` / `explore`.

use super::build::{build, target_dir, Build, CargoArgs};
use crate::cli::explore::{ExploreCmd, ExploreOptions};
use crate::cli::run::{RunCmd, RunOptions};
use crate::cli::{ModuleArgs, RunArgs};
use anyhow::{bail, Result};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

/// Which binary: `--bin NAME`, `--example NAME`, or the package's only one.
#[derive(Args)]
pub struct Which {
    /// The binary to build and run.
    #[arg(long, value_name = "NAME", conflicts_with = "example")]
    bin: Option<String>,
    /// The example to build and run.
    #[arg(long, value_name = "NAME")]
    example: Option<String>,
}

impl Which {
    /// Builds it and returns its module.
    fn build(&self, cargo: &CargoArgs) -> Result<PathBuf> {
        let selector = match (&self.bin, &self.example) {
            (Some(b), _) => vec!["--bin".to_string(), b.clone()],
            (None, Some(e)) => vec!["--example".to_string(), e.clone()],
            (None, None) => vec!["--bins".to_string()],
        };
        let artifacts = build(cargo, Build::Binary(&selector))?;
        match artifacts.as_slice() {
            [one] => Ok(one.wasm.clone()),
            [] => bail!(
                "the package has no binary to run; name one with --bin NAME or --example NAME"
            ),
            many => bail!(
                "the package has several binaries ({}); choose one with --bin NAME",
                many.iter()
                    .map(|a| a.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

/// What both commands take: the binary, how to build it, how to run it,
/// and its arguments.
#[derive(Args)]
pub struct Binary {
    #[command(flatten)]
    which: Which,
    #[command(flatten)]
    cargo: CargoArgs,
    #[command(flatten)]
    run: RunArgs,
    /// Arguments for the program (after `--`).
    #[arg(last = true)]
    guest_args: Vec<String>,
}

impl Binary {
    /// Builds it; the module and how to run it.
    fn module_args(self) -> Result<ModuleArgs> {
        Ok(ModuleArgs {
            module: self.which.build(&self.cargo)?,
            run: self.run,
            guest_args: self.guest_args,
        })
    }
}

#[derive(Args)]
pub struct CargoRunCmd {
    #[command(flatten)]
    binary: Binary,
    #[command(flatten)]
    options: RunOptions,
}

impl CargoRunCmd {
    pub fn execute(self) -> Result<ExitCode> {
        RunCmd {
            module: self.binary.module_args()?,
            options: self.options,
        }
        .execute()
    }
}

#[derive(Args)]
pub struct CargoExploreCmd {
    #[command(flatten)]
    binary: Binary,
    #[command(flatten)]
    options: ExploreOptions,
    /// Where to save a failing schedule [default:
    /// target/interlace/<binary>.failure.json].
    #[arg(long)]
    save: Option<PathBuf>,
}

impl CargoExploreCmd {
    pub fn execute(self) -> Result<ExitCode> {
        let module = self.binary.module_args()?;
        let save = self.save.clone().unwrap_or_else(|| {
            let dir = target_dir(&module.module).join("interlace");
            let _ = std::fs::create_dir_all(&dir);
            dir.join(format!("{}.failure.json", module.stem()))
        });
        ExploreCmd {
            module,
            options: self.options,
            save: Some(save),
        }
        .execute()
    }
}
