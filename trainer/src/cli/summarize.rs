//! `pse-trainer summarize`: one table over evaluated runs.

use crate::train::{self};
use clap::Args;
use std::path::PathBuf;

/// `pse-trainer summarize`'s arguments.
#[derive(Args)]
pub struct SummarizeArgs {
    /// Run folders that hold metrics.json (from `pse-trainer eval`).
    #[arg(required = true)]
    runs: Vec<PathBuf>,
}

/// Runs `pse-trainer summarize`.
pub fn run_summarize(a: SummarizeArgs) -> Result<(), Box<dyn std::error::Error>> {
    let mut rows = Vec::new();
    for run in &a.runs {
        let p = run.join("metrics.json");
        let bytes = std::fs::read(&p).map_err(|e| {
            format!(
                "{}: {e} (run `pse-trainer eval {}` first)",
                p.display(),
                run.display()
            )
        })?;
        let m: crate::eval::Metrics =
            serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", p.display()))?;
        rows.push((m, train::logged_seconds(run)));
    }
    print!("{}", crate::eval::summary::table(&rows));
    Ok(())
}
