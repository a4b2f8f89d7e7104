//! `pse-trainer bench`: training throughput on 1 thread and on every core.

use crate::cli::common::ThreadsArg;
use crate::nn::model::Kind;
use clap::Args;
use clap::builder::TypedValueParser;

/// `pse-trainer bench`'s arguments.
#[derive(Args)]
pub struct BenchArgs {
    /// Objective to time (`--model`, its former name, still works).
    #[arg(long, value_enum, default_value = "pse-star", alias = "model")]
    objective: Kind,
    /// Latent dimension.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u16).range(1..=64))]
    latent: u16,
    /// Minibatch size.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    batch: u32,
    /// Shards each batch is cut into (the recipes use 2).
    #[arg(long, default_value_t = crate::train::recipe::DEFAULT_SHARDS, value_parser = clap::value_parser!(u16).range(1..=256).map(usize::from))]
    shards: usize,
    /// Timed steps per measurement.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..))]
    steps: u64,
    /// Print one JSON object (the peaks and every measurement) instead of the table.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    threads: ThreadsArg,
}

/// Runs `pse-trainer bench`.
pub fn run_bench(a: BenchArgs) -> Result<(), Box<dyn std::error::Error>> {
    use crate::{nn::peak, train::bench};
    let threads = a.threads.get();
    if !a.json {
        eprintln!(
            "measuring this CPU's multiply-add peak, then {} steps per row…",
            a.steps
        );
    }
    let (single, all) = (peak::single_core(), peak::all_cores(threads));
    let mut rows = Vec::new();
    for t in [1, threads] {
        if rows.iter().any(|r: &bench::Throughput| r.threads == t) {
            continue;
        }
        let setup = bench::BenchSetup {
            kind: a.objective,
            latent: a.latent as usize,
            batch: a.batch as usize,
            shards: a.shards,
            threads: t,
            steps: a.steps,
            warmup: 20,
        };
        rows.push(bench::train_throughput(setup, single));
    }
    if a.json {
        let report = serde_json::json!({
            "peak_gflops_single_core": single,
            "peak_gflops_all_cores": all,
            "threads": threads,
            "measurements": rows,
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    let r0 = &rows[0];
    println!(
        "training throughput: {} {}D, batch {} in {} shards, {} timed steps per row",
        r0.model, r0.latent, r0.batch, r0.shards, r0.steps
    );
    println!(
        "multiply-add peak of this CPU: {single:.1} GFLOP/s on one core, {all:.1} GFLOP/s on {threads}"
    );
    println!(
        "{:>8} {:>9} {:>13} {:>14} {:>16} {:>14} {:>15}",
        "threads",
        "steps/s",
        "2000 steps s",
        "time in matmul",
        "matmul GFLOP/s",
        "share of peak",
        "speed-up vs 1"
    );
    for r in &rows {
        println!(
            "{:>8} {:>9.1} {:>13.1} {:>13.1}% {:>16.1} {:>13.1}% {:>14.2}×",
            r.threads,
            r.steps_per_second,
            r.paper_recipe_seconds,
            100.0 * r.matmul_time_share,
            r.matmul_gflops,
            100.0 * r.matmul_share_of_peak,
            r.steps_per_second / r0.steps_per_second
        );
    }
    println!(
        "(matmul GFLOP/s and share of peak are per thread, against one core's peak; \
         --json for machine-readable output)"
    );
    Ok(())
}
