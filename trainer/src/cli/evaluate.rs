//! `pse-trainer eval`: the paper's metrics of a run.

use crate::atomic::write_atomic;
use crate::cli::common::{DataArg, ThreadsArg, load_run};
use crate::eval::{self, EvalOptions};
use crate::train::checkpoint::LabelKind;
use clap::Args;
use std::path::PathBuf;

/// `pse-trainer eval`'s arguments.
#[derive(Args)]
pub struct EvalArgs {
    /// Run folder (from `pse-trainer train`).
    run: PathBuf,
    /// Images decoded per label per repeat for generation accuracy.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..))]
    samples: u32,
    /// Repeats of the generation measurement (for mean ± std).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    repeats: u32,
    /// Print the metrics as JSON (as written to RUN/metrics.json) instead of the table.
    #[arg(long)]
    json: bool,
    /// No progress output.
    #[arg(long, short)]
    quiet: bool,
    #[command(flatten)]
    threads: ThreadsArg,
    #[command(flatten)]
    data: DataArg,
}

/// Runs `pse-trainer eval`.
pub fn run_eval(a: EvalArgs) -> Result<(), Box<dyn std::error::Error>> {
    let ck = load_run(&a.run)?;
    let t0 = std::time::Instant::now();
    let opts = EvalOptions {
        samples_per_label: a.samples,
        repeats: a.repeats,
        progress: !a.quiet,
        threads: a.threads.get(),
    };
    let m = eval::evaluate(&ck, &a.data.data, opts)?;
    let json = serde_json::to_vec_pretty(&m)?;
    let out = a.run.join("metrics.json");
    write_atomic(&out, &json).map_err(|e| format!("{}: {e}", out.display()))?;
    if a.json {
        println!("{}", String::from_utf8(json)?);
    } else {
        println!("{}", eval::table(&m));
    }
    if !a.json && !ck.config.left_out.is_empty() {
        let left = ck.config.left_out_names().join(", ");
        let why = match ck.config.labels {
            LabelKind::OneHot => "their labels are untrained",
            LabelKind::Glove => "their labels are placed only by their words (zero-shot)",
        };
        println!(
            "note: {left} left out of training (--leave-out): {why}, so these figures do not \
             compare with the paper's; see `pse-trainer enroll-eval`"
        );
    }
    eprintln!(
        "evaluated in {:.1} s; metrics written to {}",
        t0.elapsed().as_secs_f64(),
        out.display()
    );
    Ok(())
}
