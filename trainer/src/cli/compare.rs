//! `pse-trainer compare`: the paper's baselines beside PSE and PSE*.

use crate::atomic::write_atomic;
use crate::cli::common::{DataArg, ThreadsArg};
use crate::data::Dataset;
use crate::eval::EvalOptions;
use crate::nn::model::Kind;
use crate::train::recipe::Recipe;
use clap::Args;
use std::path::PathBuf;

/// `pse-trainer compare`'s arguments.
#[derive(Args)]
pub struct CompareArgs {
    /// Dataset.
    #[arg(long, value_enum, default_value = "mnist")]
    dataset: Dataset,
    /// Latent dimension of the table (the paper's Tables 1 and 2: 10).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=64))]
    latent: u16,
    /// Seeds per model (0, 1, …).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=100))]
    seeds: u64,
    /// Recipe every model trains with: `paper` (2000 steps, as the paper's tables) or
    /// `default` (30,000 steps with schedules; ~15× longer).
    #[arg(long, default_value = "paper", value_parser = ["paper", "default"])]
    recipe: String,
    /// Override the recipe's number of steps.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    steps: Option<u64>,
    /// Override how many training images are held out for validation.
    #[arg(long)]
    holdout: Option<usize>,
    /// Objectives in the table (comma-separated; `--models`, its former name, still works).
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "cvae,jmvae,trelbo,scan,pse,pse-star",
        alias = "models"
    )]
    objectives: Vec<Kind>,
    /// Also train PSE* at this latent dimension (the paper's last row), when PSE* is one of
    /// --objectives; 0 for none.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u16).range(0..=64))]
    extra_latent: u16,
    /// Latent dimension of the side-by-side figure (one seed per model); 0 for none.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(0..=64))]
    figure_latent: u16,
    /// Images decoded per label per repeat for generation accuracy.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..))]
    samples: u32,
    /// Repeats of the generation measurement.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    repeats: u32,
    /// Runs trained at the same time; they share the --threads.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=64))]
    jobs: u32,
    #[command(flatten)]
    threads: ThreadsArg,
    /// Output folder [default: runs/compare/DATASET-LATENTd-RECIPE, plus -STEPSsteps and
    /// -holdoutN when overridden].
    #[arg(long, short)]
    out: Option<PathBuf>,
    #[command(flatten)]
    data: DataArg,
}

/// Runs `pse-trainer compare`.
pub fn run_compare(a: CompareArgs) -> Result<(), Box<dyn std::error::Error>> {
    use crate::eval::compare;
    let mut recipe = Recipe::named(&a.recipe).expect("clap restricts the names");
    if let Some(s) = a.steps {
        recipe.steps = s;
    }
    if let Some(h) = a.holdout {
        recipe.holdout = h;
    }
    if a.steps.is_some() || a.holdout.is_some() {
        recipe.name = format!("{}+overrides", recipe.name);
    }
    let mut models: Vec<Kind> = Vec::new();
    for k in &a.objectives {
        if !models.contains(k) {
            models.push(*k);
        }
    }
    let out = a.out.clone().unwrap_or_else(|| {
        // Overridden recipes get folders of their own: runs of other steps would clash.
        let overrides: String = [
            a.steps.map(|s| format!("-{s}steps")),
            a.holdout.map(|h| format!("-holdout{h}")),
        ]
        .into_iter()
        .flatten()
        .collect();
        PathBuf::from(format!(
            "runs/compare/{}-{}d-{}{overrides}",
            a.dataset, a.latent, a.recipe
        ))
    });
    let opts = compare::CompareOptions {
        dataset: a.dataset,
        latent: a.latent as usize,
        seeds: a.seeds,
        recipe,
        models,
        extra_latent: (a.extra_latent > 0).then_some(a.extra_latent as usize),
        figure_latent: (a.figure_latent > 0).then_some(a.figure_latent as usize),
        out: out.clone(),
        data_dir: a.data.data.clone(),
        eval: EvalOptions {
            samples_per_label: a.samples,
            repeats: a.repeats,
            progress: false,
            threads: 1,
        },
        jobs: a.jobs as usize,
        threads: a.threads.get(),
    };
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    compare::run_all(&opts).map_err(|e| e.to_string())?;
    let table = compare::table(&opts).map_err(|e| e.to_string())?;
    let path = compare::table_path(&out);
    write_atomic(&path, table.as_bytes()).map_err(|e| format!("{}: {e}", path.display()))?;
    print!("{table}");
    eprintln!("table written to {}", path.display());
    if let (Some(fig), Some(path)) = (
        compare::figure(&opts).map_err(|e| e.to_string())?,
        compare::figure_path(&opts),
    ) {
        fig.write_png(&path)?;
        eprintln!("figure written to {}", path.display());
    }
    Ok(())
}
