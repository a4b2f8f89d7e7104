//! The `pse-trainer` command line.

use clap::builder::TypedValueParser;
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use pse_trainer::atomic::write_atomic;
use pse_trainer::cli::host_commands;
use pse_trainer::data::Dataset;
use pse_trainer::eval::{self, EvalOptions};
use pse_trainer::nn::model::{Arch, Kind, PAPER_HIDDEN};
use pse_trainer::train::checkpoint::{Checkpoint, LabelKind, RunConfig};
use pse_trainer::train::recipe::Recipe;
use pse_trainer::train::{self, TrainOptions};
use std::path::PathBuf;
use std::process::ExitCode;

/// Train, evaluate, plot and export Probabilistic Semantic Embedding models (PSE / PSE*).
#[derive(Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train a model into a run folder (checkpoint, config.json, train-log.jsonl).
    Train(TrainArgs),
    /// Evaluate a run the paper's way: reconstruction error, annotation accuracy and
    /// generation accuracy (judged by a cached classifier); prints a table beside the
    /// paper's numbers and writes RUN/metrics.json.
    Eval(EvalArgs),
    /// Train (or load from data/cache) the judge classifier that measures generation
    /// accuracy, and print its training and test accuracy.
    Judge(JudgeArgs),
    /// Summarise several evaluated runs as one Markdown table: mean ± std over seeds of
    /// each (dataset, model, latent, labels, left-out classes, recipe), beside the paper's
    /// numbers, and Welch's t-test of GloVe against one-hot labels where both are there.
    Summarize(SummarizeArgs),
    /// Compare PSE and PSE* with the paper's baselines (CVAE, JMVAE, TrELBO, SCAN) under
    /// one recipe: trains every model over several seeds (plus PSE* at a second latent
    /// size), evaluates them with the same code, writes OUT/comparison.md (mean ± std
    /// beside the paper's Tables 1 and 2) and OUT/latent-2d.png (the 2-D latent spaces side
    /// by side, the paper's Fig. 2). Finished runs are kept: calling it again continues.
    Compare(CompareArgs),
    /// Draw a run's pictures: samples per label, interpolation strips between labels and
    /// the latent space of the test images coloured by label (PNG files); for runs trained
    /// on word vectors also mixes of two labels' words and words never seen in training.
    Plot(PlotArgs),
    /// Benchmark training throughput on one thread: steps/s of the real training step and
    /// the rate of its matrix products (prints a table and JSON; not a test).
    Bench(BenchArgs),
    /// Export a run as a pse-runtime blob (f32, f16 or i8 weights), with its "unknown"
    /// threshold calibrated on the held-out images and a JSON model card beside it
    /// (sizes, SHA-256, training, float metrics, the blob's own test-set accuracy).
    Export(host_commands::ExportArgs),
    /// Measure a blob on a test set through pse-runtime: annotation accuracy and the share
    /// of images it calls unknown.
    Score(host_commands::ScoreArgs),
    /// Measure a blob's "unknown" verdict on out-of-distribution images (noise, blank,
    /// saturated, inverted digits, the other dataset) against its own test set: the share
    /// flagged and the AUROC of each score.
    Ood(host_commands::OodArgs),
    /// Calibrate a blob's unknown threshold and open-world bounds on held-out images with
    /// the blob itself, and write it as a format-2 blob (upgrades format-1 blobs).
    Calibrate(host_commands::CalibrateArgs),
    /// Print a shell completion script, e.g. `pse-trainer completions bash >
    /// ~/.local/share/bash-completion/completions/pse-trainer`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Annotate PNG or IDX images with a blob through pse-runtime: one line per image
    /// (file[#index], label or "unknown (nearest: X)", posterior of the best label).
    Annotate(host_commands::AnnotateArgs),
    /// Draw images of a label with a blob through pse-runtime, as a PNG grid; or, for models
    /// trained on word vectors, of any word (--word) or mix of two (--words --mix).
    Generate(host_commands::GenerateArgs),
    /// Add a label to a blob, learnt from a few images through pse-runtime's enrollment
    /// (the device's arithmetic): a new class without retraining.
    Enroll(host_commands::EnrollArgs),
    /// Measure enrollment: enroll a class the blob lacks from a few random training images
    /// of it, several times, and compare test-set annotation accuracy before and after
    /// (the class itself and every other class).
    EnrollEval(host_commands::EnrollEvalArgs),
    /// Word vectors (GloVe): nearest neighbours of a word among the vocabulary and among a
    /// model's labels.
    Words(pse_trainer::data::words::WordsArgs),
}

#[derive(Args)]
struct BenchArgs {
    /// Objective to time.
    #[arg(long, value_enum, default_value = "pse-star")]
    model: Kind,
    /// Latent dimension.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u16).range(1..=64))]
    latent: u16,
    /// Minibatch size.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    batch: u32,
    /// Shards each batch is cut into (the recipes use 2).
    #[arg(long, default_value_t = pse_trainer::train::recipe::DEFAULT_SHARDS, value_parser = clap::value_parser!(u16).range(1..=256).map(usize::from))]
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

#[derive(Args)]
struct ThreadsArg {
    /// Threads to use [default: every core of this machine]. Results are the same bytes
    /// for every count; only the time changes.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024).map(usize::from))]
    threads: Option<usize>,
}

impl ThreadsArg {
    fn get(&self) -> usize {
        self.threads
            .unwrap_or_else(pse_trainer::train::step::available_threads)
    }
}

#[derive(Args)]
struct JudgeArgs {
    /// Dataset the judge classifies.
    #[arg(long, value_enum, default_value = "mnist")]
    dataset: Dataset,
    /// Also measure the judge, and a second judge trained on augmented images, on the shifted
    /// test suite (the yardstick for `eval`'s shifted annotation accuracy).
    #[arg(long)]
    shifted: bool,
    #[command(flatten)]
    data: DataArg,
}

#[derive(Args)]
struct SummarizeArgs {
    /// Run folders that hold metrics.json (from `pse-trainer eval`).
    #[arg(required = true)]
    runs: Vec<PathBuf>,
}

#[derive(Args)]
struct CompareArgs {
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
    /// Models in the table (comma-separated).
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "cvae,jmvae,trelbo,scan,pse,pse-star"
    )]
    models: Vec<Kind>,
    /// Also train PSE* at this latent dimension (the paper's last row), when PSE* is one of
    /// --models; 0 for none.
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
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    data: DataArg,
}

#[derive(Args)]
struct PlotArgs {
    /// Run folder (from `pse-trainer train`).
    run: PathBuf,
    /// Folder for the PNGs [default: RUN/plots].
    #[arg(long, short)]
    out: Option<PathBuf>,
    #[command(flatten)]
    data: DataArg,
}

#[derive(Args)]
struct EvalArgs {
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

#[derive(Args)]
struct DataArg {
    /// Folder with the datasets (filled by scripts/fetch-data.sh).
    #[arg(long, default_value = "data", global = true, env = "PSE_DATA")]
    data: PathBuf,
}

#[derive(Args)]
struct TrainArgs {
    /// Dataset to train on.
    #[arg(long, value_enum, default_value = "mnist")]
    dataset: Dataset,
    /// Objective: PSE, or PSE* (adds a classifier on the reconstruction); or one of the
    /// paper's baselines, for comparison (`pse-trainer compare` trains them all): cvae,
    /// jmvae, trelbo, scan. Only PSE and PSE* can be exported to the runtime.
    #[arg(long, value_enum, default_value = "pse-star")]
    model: Kind,
    /// Latent dimension (the paper uses 2, 10 and 20).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=64))]
    latent: u16,
    /// Label encoding: one-hot, or GloVe word vectors of the class names (needs
    /// `scripts/fetch-data.sh --glove`; the model can then draw words it never saw).
    #[arg(long, value_enum, default_value = "one-hot")]
    labels: LabelKind,
    /// Seed for initialisation, batch order and noise: same seed, same bytes.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Training recipe: `paper` (2000 steps, batch 100, Adam 1e-3, no tricks) or `default`
    /// (longer, with KL warm-up and cosine learning-rate decay).
    #[arg(long, default_value = "default", value_parser = ["paper", "default"])]
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
    #[arg(long)]
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
            kind: a.model,
            latent: a.latent as usize,
            label_dim: a.labels.label_dim(classes),
            classes,
            pixels: pse_trainer::data::PIXELS,
            hidden: PAPER_HIDDEN,
        },
        labels: a.labels,
        seed: a.seed,
        recipe: recipe_of(a),
        left_out,
    })
}

fn run_train(a: TrainArgs, run_options_given: bool) -> Result<(), Box<dyn std::error::Error>> {
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

fn load_run(run: &std::path::Path) -> Result<Checkpoint, Box<dyn std::error::Error>> {
    let p = run.join(train::files::CHECKPOINT);
    if !p.exists() {
        return Err(format!(
            "{}: no checkpoint here; train one with `pse-trainer train --out {}`",
            run.display(),
            run.display()
        )
        .into());
    }
    Ok(Checkpoint::load(&p)?)
}

fn run_eval(a: EvalArgs) -> Result<(), Box<dyn std::error::Error>> {
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

fn run_judge(a: JudgeArgs) -> Result<(), Box<dyn std::error::Error>> {
    use pse_trainer::eval::judge::Judge;
    let j = Judge::load_or_train(&a.data.data, a.dataset, true)?;
    println!(
        "{} judge: {:.2} % on training images, {:.2} % on test images",
        a.dataset,
        100.0 * j.train_accuracy,
        100.0 * j.test_accuracy
    );
    if a.shifted {
        let aug = Judge::load_or_train_with(&a.data.data, a.dataset, true, true)?;
        let test =
            pse_trainer::data::load(&a.data.data, a.dataset, pse_trainer::data::Split::Test)?;
        println!(
            "\n| {} test images, judge MLP 784-512-64-10 (%) | trained plain | trained with augmentation |\n|---|---|---|",
            a.dataset
        );
        println!(
            "| clean | {:.2} | {:.2} |",
            100.0 * j.test_accuracy,
            100.0 * aug.test_accuracy
        );
        let (mut sum, mut sum_aug, mut n) = (0.0, 0.0, 0.0);
        let mut cache = pse_trainer::nn::mlp::MlpCache::default();
        for (name, xs) in eval::shifted_sets(test.x.view()) {
            let acc = |j: &Judge, cache: &mut pse_trainer::nn::mlp::MlpCache| {
                let pred = j.classify(xs.view(), cache);
                pred.iter().zip(&test.y).filter(|(p, y)| p == y).count() as f64 / test.len() as f64
            };
            let (p, q) = (acc(&j, &mut cache), acc(&aug, &mut cache));
            println!("| {name} | {:.2} | {:.2} |", 100.0 * p, 100.0 * q);
            (sum, sum_aug, n) = (sum + p, sum_aug + q, n + 1.0);
        }
        println!(
            "| **mean of the shifted** | **{:.2}** | **{:.2}** |",
            100.0 * sum / n,
            100.0 * sum_aug / n
        );
    }
    Ok(())
}

fn run_summarize(a: SummarizeArgs) -> Result<(), Box<dyn std::error::Error>> {
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
        let m: pse_trainer::eval::Metrics =
            serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", p.display()))?;
        rows.push((m, train::logged_seconds(run)));
    }
    print!("{}", pse_trainer::eval::summary::table(&rows));
    Ok(())
}

fn run_compare(a: CompareArgs) -> Result<(), Box<dyn std::error::Error>> {
    use pse_trainer::eval::compare;
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
    for k in &a.models {
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

fn run_plot(a: PlotArgs) -> Result<(), Box<dyn std::error::Error>> {
    let ck = load_run(&a.run)?;
    let dir = a.out.unwrap_or_else(|| a.run.join("plots"));
    for p in pse_trainer::report::plot::plot(&ck, &a.data.data, &dir)? {
        println!("{}", p.display());
    }
    Ok(())
}

fn run_bench(a: BenchArgs) -> Result<(), Box<dyn std::error::Error>> {
    use pse_trainer::{nn::peak, train::bench};
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
            kind: a.model,
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

/// The `train` options that describe the run (everything but where, how fast and how
/// verbosely it runs): `train --resume --out RUN` without any of them continues RUN as its
/// config.json describes it.
const RUN_OPTIONS: [&str; 19] = [
    "dataset",
    "model",
    "latent",
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

fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let run_options_given = matches.subcommand_matches("train").is_some_and(|m| {
        RUN_OPTIONS
            .iter()
            .any(|id| m.value_source(id) == Some(clap::parser::ValueSource::CommandLine))
    });
    let result = match cli.command {
        Command::Train(a) => run_train(a, run_options_given),
        Command::Eval(a) => run_eval(a),
        Command::Plot(a) => run_plot(a),
        Command::Summarize(a) => run_summarize(a),
        Command::Compare(a) => run_compare(a),
        Command::Judge(a) => run_judge(a),
        Command::Bench(a) => run_bench(a),
        Command::Export(a) => host_commands::run_export(a),
        Command::Score(a) => host_commands::run_score(a),
        Command::Ood(a) => host_commands::run_ood(a),
        Command::Calibrate(a) => host_commands::run_calibrate(a),
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "pse-trainer",
                &mut std::io::stdout(),
            );
            Ok(())
        }
        Command::Annotate(a) => host_commands::run_annotate(a),
        Command::Generate(a) => host_commands::run_generate(a),
        Command::Enroll(a) => host_commands::run_enroll(a),
        Command::EnrollEval(a) => host_commands::run_enroll_eval(a),
        Command::Words(a) => match a.command {
            pse_trainer::data::words::WordsCommand::Nearest(n) => {
                pse_trainer::data::words::run_nearest(n)
            }
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
