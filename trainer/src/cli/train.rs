//! `pse-trainer train`: the run's options, the recipe they override, and the run itself.

use crate::cli::common::{DataArg, ThreadsArg};
use crate::data::Dataset;
use crate::nn::model::{Arch, Kind, PAPER_HIDDEN};
use crate::train::checkpoint::{LabelKind, RunConfig};
use crate::train::recipe::Recipe;
use crate::train::{self, TrainOptions};
use clap::Args;
use clap::builder::TypedValueParser;
use std::path::PathBuf;

/// `pse-trainer train`'s arguments.
#[derive(Args)]
pub struct TrainArgs {
    /// Dataset to train on.
    #[arg(long, value_enum, default_value = "mnist")]
    dataset: Dataset,
    /// Objective: PSE, or PSE* (adds a classifier on the reconstruction); or one of the
    /// paper's baselines, for comparison (`pse-trainer compare` trains them all): cvae,
    /// jmvae, trelbo, scan. Only PSE and PSE* can be exported to the runtime. (`--model`,
    /// its former name, still works; elsewhere `--model` names a blob file.)
    #[arg(long, value_enum, default_value = "pse-star", alias = "model")]
    objective: Kind,
    /// Latent dimension (the paper uses 2, 10 and 20).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=64))]
    latent: u16,
    /// Hidden widths H1,H2 of the encoder (pixels → H1 → H2) and decoder (d → H2 → H1 →
    /// pixels): the paper's 512,64, or smaller for a microcontroller with little flash.
    #[arg(
        long,
        value_name = "H1,H2",
        value_delimiter = ',',
        default_values_t = PAPER_HIDDEN.map(|h| h as u16),
        value_parser = clap::value_parser!(u16).range(1..=4096)
    )]
    hidden: Vec<u16>,
    /// Label encoding: one-hot, or GloVe word vectors of the class names (needs
    /// `scripts/fetch-data.sh --glove`; the model can then draw words it never saw).
    #[arg(long, value_enum, default_value = "one-hot")]
    labels: LabelKind,
    /// Seed for initialisation, batch order and noise: same seed, same bytes.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Training recipe: `paper` (2000 steps, batch 100, Adam 1e-3, no tricks), `default`
    /// (30,000 steps, KL weight annealed 3 → 1, cosine learning-rate decay) or `robust`
    /// (PSE and PSE*: the default's schedules over 120,000 steps with `--augment` and
    /// `--ce-weight 5`, for digits from outside MNIST; ~20 minutes on 2 cores for 10D).
    #[arg(long, default_value = "default", value_parser = Recipe::NAMES)]
    recipe: String,
    /// Override the recipe's number of steps.
    #[arg(long)]
    steps: Option<u64>,
    /// Override the recipe's minibatch size.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    batch: Option<u32>,
    /// Override the recipe's peak learning rate.
    #[arg(long, allow_negative_numbers = true)]
    lr: Option<f32>,
    /// Override the recipe's KL warm-up steps.
    #[arg(long)]
    kl_warmup: Option<u64>,
    /// Override the KL weight at step 0 (it moves linearly to --kl-weight over --kl-warmup steps).
    #[arg(long)]
    kl_start: Option<f32>,
    /// Override the weight β on the KL term after warm-up (the paper: 1).
    #[arg(long)]
    kl_weight: Option<f32>,
    /// Override the weight γ on the PSE* classifier term (the paper: 1).
    #[arg(long)]
    ce_weight: Option<f32>,
    /// Override the learning rate's final fraction (cosine decay; 1 = constant).
    #[arg(long)]
    lr_final: Option<f32>,
    /// Override how many training images are held out for validation.
    #[arg(long)]
    holdout: Option<usize>,
    /// Override the shards each batch is cut into (their gradients run on separate threads
    /// and are summed in a fixed order: the bytes depend on this, never on --threads).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=256).map(usize::from))]
    shards: Option<usize>,
    /// Override the decay of the weights' moving average that evaluation and export use
    /// (0 = none; e.g. 0.999).
    #[arg(long, value_parser = unit_interval)]
    average: Option<f32>,
    /// PSE and PSE*: the encoder reads randomly transformed images (rotation ±15°, scale
    /// 0.85–1.15, shear ±0.25, shift ±2.5 px, and with probability 0.15 each thicker or
    /// thinner strokes, blur or 2× pixelation) and the decoder reconstructs the originals;
    /// drawn from (seed, step, row), so resumed runs stay byte-identical.
    #[arg(long)]
    augment: bool,
    /// Keep these classes (names or 0-based indices; comma-separated or repeated) out of
    /// training: their images are never seen, so their labels can be enrolled afterwards
    /// from a few images (`pse-trainer enroll`), e.g. `--leave-out seven`.
    #[arg(long, value_delimiter = ',', value_name = "LABEL")]
    leave_out: Vec<String>,
    /// Run folder to create (or to continue, with --resume).
    #[arg(long, short)]
    out: PathBuf,
    /// Continue the run in --out from its last checkpoint: alone, as its config.json says
    /// (the other options then only say how to run); with run options, they must be those
    /// of the first call. A run stopped before its
    /// first checkpoint starts again from step 0.
    #[arg(long)]
    resume: bool,
    /// Steps between checkpoints.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    checkpoint_every: u64,
    /// No progress output.
    #[arg(long, short)]
    quiet: bool,
    /// Testing aid: make the loss NaN at this step, as if training diverged there.
    #[arg(long, hide = true, value_name = "STEP")]
    inject_nan_at: Option<u64>,
    #[command(flatten)]
    threads: ThreadsArg,
    #[command(flatten)]
    data: DataArg,
}

/// A number in [0, 1).
fn unit_interval(s: &str) -> Result<f32, String> {
    match s.parse::<f32>() {
        Ok(v) if (0.0..1.0).contains(&v) => Ok(v),
        Ok(v) => Err(format!("{v} is not in [0, 1)")),
        Err(e) => Err(e.to_string()),
    }
}

/// The named recipe with the options' overrides.
fn recipe_of(a: &TrainArgs) -> Recipe {
    let mut r = Recipe::named(&a.recipe).expect("clap restricts the names");
    let custom = a.steps.is_some()
        || a.batch.is_some()
        || a.lr.is_some()
        || a.kl_warmup.is_some()
        || a.holdout.is_some()
        || a.kl_weight.is_some()
        || a.ce_weight.is_some()
        || a.lr_final.is_some()
        || a.kl_start.is_some()
        || a.shards.is_some()
        || a.average.is_some()
        || a.augment;
    r.augment |= a.augment;
    if let Some(v) = a.shards {
        r.shards = v;
    }
    if let Some(v) = a.average {
        r.average = v;
    }
    if let Some(v) = a.kl_start {
        r.kl_start = v;
    }
    if let Some(v) = a.kl_weight {
        r.kl_weight = v;
    }
    if let Some(v) = a.ce_weight {
        r.ce_weight = v;
    }
    if let Some(v) = a.lr_final {
        r.lr_final_frac = v;
    }
    if let Some(h) = a.holdout {
        r.holdout = h;
    }
    if let Some(s) = a.steps {
        r.steps = s;
    }
    if let Some(b) = a.batch {
        r.batch = b as usize;
    }
    if let Some(lr) = a.lr {
        r.lr = lr;
    }
    if let Some(k) = a.kl_warmup {
        r.kl_warmup = k;
    }
    if custom {
        r.name = format!("{}+overrides", r.name);
    }
    r
}

/// The class ids `--leave-out` names (sorted, without repeats); every class may not go.
fn left_out(dataset: Dataset, args: &[String]) -> Result<Vec<u8>, String> {
    let mut ids = Vec::new();
    for arg in args {
        let id = dataset
            .class_named(arg)
            .map_err(|e| format!("--leave-out {arg}: {e}"))?;
        ids.push(id as u8);
    }
    ids.sort_unstable();
    ids.dedup();
    if ids.len() == dataset.label_names().len() {
        return Err("--leave-out names every class: nothing would be left to train on".into());
    }
    Ok(ids)
}

/// The run `train` is asked for: from the options, or — `--resume` without any option of
/// [`RUN_OPTIONS`], on a folder that has a config.json — from that file.
fn run_config(
    a: &TrainArgs,
    run_options_given: bool,
) -> Result<RunConfig, Box<dyn std::error::Error>> {
    let saved = a.out.join(train::files::CONFIG);
    if a.resume && !run_options_given && saved.exists() {
        let bytes = std::fs::read(&saved).map_err(|e| format!("{}: {e}", saved.display()))?;
        return serde_json::from_slice(&bytes)
            .map_err(|e| format!("{}: not a run configuration: {e}", saved.display()).into());
    }
    if !(a.lr.unwrap_or(1e-3) > 0.0 && a.lr.unwrap_or(1e-3).is_finite()) {
        return Err("--lr must be a positive number".into());
    }
    let classes = a.dataset.label_names().len();
    let left_out = left_out(a.dataset, &a.leave_out)?;
    Ok(RunConfig {
        dataset: a.dataset,
        arch: Arch {
            kind: a.objective,
            latent: a.latent as usize,
            label_dim: a.labels.label_dim(classes),
            classes,
            pixels: crate::data::PIXELS,
            hidden: match a.hidden[..] {
                [h1, h2] => [usize::from(h1), usize::from(h2)],
                _ => return Err("--hidden takes two widths, H1,H2".into()),
            },
        },
        labels: a.labels,
        seed: a.seed,
        recipe: recipe_of(a),
        left_out,
    })
}

/// Runs `pse-trainer train`.
pub fn run_train(a: TrainArgs, run_options_given: bool) -> Result<(), Box<dyn std::error::Error>> {
    let cfg = run_config(&a, run_options_given)?;
    let opts = TrainOptions {
        data_dir: a.data.data.clone(),
        out: a.out.clone(),
        resume: a.resume,
        checkpoint_every: a.checkpoint_every,
        progress: !a.quiet,
        inject_nan_at: a.inject_nan_at,
        threads: a.threads.get(),
    };
    let t0 = std::time::Instant::now();
    let ck = train::train(cfg, &opts)?;
    eprintln!(
        "trained {} {}D on {} for {} steps in {:.1} s -> {}",
        ck.config.arch.kind.paper_name(),
        ck.config.arch.latent,
        ck.config.dataset,
        ck.step,
        t0.elapsed().as_secs_f64(),
        a.out.join(train::files::CHECKPOINT).display()
    );
    Ok(())
}

/// The `train` options that describe the run (everything but where, how fast and how
/// verbosely it runs): `train --resume --out RUN` without any of them continues RUN as its
/// config.json describes it.
pub const RUN_OPTIONS: [&str; 20] = [
    "dataset",
    "objective",
    "latent",
    "hidden",
    "labels",
    "seed",
    "recipe",
    "steps",
    "batch",
    "lr",
    "kl_warmup",
    "kl_start",
    "kl_weight",
    "ce_weight",
    "lr_final",
    "holdout",
    "shards",
    "average",
    "augment",
    "leave_out",
];
