//! `pse-trainer enroll` and `enroll-eval`: new labels from a few images, through the runtime.

use crate::atomic::write_atomic;
use crate::cli::common::{pct, test_dataset};
use crate::data::inputs::{InputFile, Preprocess};
use crate::data::{self, Dataset, Split};
use crate::eval::stats;
use crate::export::card::{self, ModelCard};
use crate::export::enroll::{self, Plan};
use crate::export::host::{BlobFile, Scratchpad};
use clap::Args;
use std::error::Error;
use std::path::{Path, PathBuf};

/// `pse-trainer enroll`.
#[derive(Debug, Args)]
pub struct EnrollArgs {
    /// The blob.
    #[arg(long)]
    pub model: PathBuf,
    /// Name of the new label (must not be one of the blob's labels).
    #[arg(long)]
    pub label: String,
    #[command(flatten)]
    pub estimate: EstimateArgs,
    /// `mnist`: make the images MNIST-like first (as `annotate --preprocess mnist`).
    #[arg(long, value_enum, default_value = "none")]
    pub preprocess: Preprocess,
    /// Blob file to write (atomically): the model with the label added to its table.
    #[arg(long, short)]
    pub out: PathBuf,
    /// PNG files (one image each) or IDX image files (every image inside) showing the new
    /// label; a handful is enough.
    #[arg(required = true, value_name = "IMAGES")]
    pub images: Vec<PathBuf>,
}

/// How `enroll` and `enroll-eval` estimate the new label's variance.
#[derive(Debug, Args)]
pub struct EstimateArgs {
    /// Variance floor of the enrolled Gaussian (the latent prior has variance 1).
    #[arg(long, default_value_t = pse_runtime::enroll::DEFAULT_VAR_FLOOR)]
    pub var_floor: f32,
    /// Shrink the variance estimated from the images toward the mean variance of the
    /// model's own labels, weighted as this many images (0: no shrinkage). A few images
    /// alone underestimate how wide a class is.
    #[arg(long, default_value_t = enroll::DEFAULT_PRIOR_WEIGHT)]
    pub prior_weight: f32,
}

impl EstimateArgs {
    fn estimate(&self) -> Result<enroll::Estimate, String> {
        if !(self.var_floor > 0.0 && self.var_floor.is_finite()) {
            return Err(format!(
                "--var-floor {}: must be a positive number",
                self.var_floor
            ));
        }
        if !(self.prior_weight >= 0.0 && self.prior_weight.is_finite()) {
            return Err(format!(
                "--prior-weight {}: must be a number >= 0",
                self.prior_weight
            ));
        }
        Ok(enroll::Estimate {
            var_floor: self.var_floor,
            prior_weight: self.prior_weight,
        })
    }
}

/// `pse-trainer enroll-eval`.
#[derive(Debug, Args)]
pub struct EnrollEvalArgs {
    /// The blob, exported without the class (`export --without-label CLASS`), ideally from a
    /// run trained without it (`train --leave-out CLASS`).
    #[arg(long)]
    pub model: PathBuf,
    /// The class to enroll: a name of the dataset's classes or a 0-based index.
    #[arg(long)]
    pub class: String,
    /// Images per enrollment, drawn at random from the class's training images.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub shots: u32,
    /// Independent enrollments (for mean ± std).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub draws: u32,
    /// Seed of the draws.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[command(flatten)]
    pub estimate: EstimateArgs,
    /// Dataset [default: the one whose label names the blob carries].
    #[arg(long, value_enum)]
    pub dataset: Option<Dataset>,
    /// Also write the whole result (every draw's images and per-class scores) as JSON.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Folder with the datasets (filled by scripts/fetch-data.sh).
    #[arg(long, default_value = "data", env = "PSE_DATA")]
    pub data: PathBuf,
}

/// `pse-trainer enroll`: adds a label learnt from a few images to a blob.
pub fn run_enroll(a: EnrollArgs) -> Result<(), Box<dyn Error>> {
    let blob = BlobFile::read(&a.model)?;
    let model = blob.model()?;
    if model.label_index(&a.label).is_some() {
        return Err(format!(
            "{}: already has a label named {:?}",
            a.model.display(),
            a.label
        )
        .into());
    }
    let files = InputFile::read_all(&a.images, model.image_size(), a.preprocess)?;
    let images: Vec<_> = files
        .iter()
        .flat_map(|f| (0..f.len()).filter_map(move |i| f.image(i).map(|(_, im)| im)))
        .collect();
    let mut pad = Scratchpad::for_model(&model);
    let count: usize = files.iter().map(InputFile::len).sum();
    let label = enroll::enroll(
        &model,
        &mut pad,
        images.iter().copied(),
        a.estimate.estimate()?,
    )?;
    // The enrollment images pass the open-world verdict of the grown blob.
    let bytes = enroll::admitting(&enroll::with_label(&blob.bytes, &a.label, &label)?, &images)?;
    write_atomic(&a.out, &bytes).map_err(|e| format!("{}: {e}", a.out.display()))?;
    let var: Vec<f32> = label.logvar().iter().map(|v| v.exp()).collect();
    let (lo, hi) = var
        .iter()
        .fold((f32::INFINITY, 0.0f32), |(l, h), &v| (l.min(v), h.max(v)));
    println!(
        "{}: label {:?} (index {}) enrolled from {count} images; variance {lo:.3}..{hi:.3}",
        a.out.display(),
        a.label,
        model.label_count()
    );
    println!(
        "  {} bytes (was {}); the model card beside {} does not describe this blob",
        bytes.len(),
        blob.bytes.len(),
        a.model.display()
    );
    Ok(())
}

/// What the card beside the blob says about the class, as one sentence.
fn training_note(model: &Path, class: &str) -> String {
    let p = card::card_path(model);
    let bytes = match std::fs::read(&p) {
        Ok(b) => b,
        Err(_) => return format!("no model card at {}: training unknown", p.display()),
    };
    match serde_json::from_slice::<ModelCard>(&bytes) {
        Ok(c) if c.training.left_out.iter().any(|n| n == class) => {
            format!("the model never saw {class} in training (card: --leave-out {class})")
        }
        Ok(_) => format!(
            "the card says the model was trained on {class}'s images: this measures \
             enrollment of a class it saw"
        ),
        Err(e) => format!(
            "the model card {} is unreadable ({e}): training unknown",
            p.display()
        ),
    }
}

/// `pse-trainer enroll-eval`: the enrollment experiment on a test set.
pub fn run_enroll_eval(a: EnrollEvalArgs) -> Result<(), Box<dyn Error>> {
    let blob = BlobFile::read(&a.model)?;
    let model = blob.model()?;
    let dataset = test_dataset(&model, &a.model, a.dataset)?;
    let names = dataset.label_names();
    let class = dataset
        .class_named(&a.class)
        .map_err(|e| format!("--class {}: {e}", a.class))?;
    if model.label_index(names[class]).is_some() {
        return Err(format!(
            "{}: already has the label {:?}; export the run with --without-label {} to \
             measure enrolling it",
            a.model.display(),
            names[class],
            names[class]
        )
        .into());
    }
    let plan = Plan {
        class,
        name: names[class].to_string(),
        shots: a.shots as usize,
        draws: a.draws,
        seed: a.seed,
        estimate: a.estimate.estimate()?,
    };
    let pool = data::load(&a.data, dataset, Split::Train)?;
    let test = data::load(&a.data, dataset, Split::Test)?;
    let t0 = std::time::Instant::now();
    let e = enroll::experiment(&blob.bytes, &pool, &test, &names, &plan)?;
    let name = &plan.name;
    println!(
        "{}: enroll {name:?} from {} random training images of it, {} draws (seed {}); {}",
        a.model.display(),
        plan.shots,
        plan.draws,
        plan.seed,
        training_note(&a.model, name)
    );
    let b = &e.before_split;
    let col = |f: fn(&enroll::Split) -> f64| {
        let v: Vec<f64> = e.after_split.iter().map(f).collect();
        let (m, s) = stats::mean_std(&v);
        format!("{:.2} ± {:.2} %", 100.0 * m, 100.0 * s)
    };
    let others = e.test_counts.iter().sum::<usize>() - e.test_counts[class];
    println!();
    println!("| {dataset} test images | before | after enrolling |");
    println!("|---|---|---|");
    println!(
        "| {name} ({}): annotation accuracy | {} | {} |",
        e.test_counts[class],
        pct(b.class_accuracy),
        col(|s| s.class_accuracy)
    );
    println!(
        "| {name}: called unknown | {} | {} |",
        pct(b.class_unknown),
        col(|s| s.class_unknown)
    );
    println!(
        "| other classes ({others}): annotation accuracy | {} | {} |",
        pct(b.others_accuracy),
        col(|s| s.others_accuracy)
    );
    println!(
        "| all ({}): annotation accuracy | {} | {} |",
        e.before.images,
        pct(b.all_accuracy),
        col(|s| s.all_accuracy)
    );
    println!();
    println!("per class, annotation accuracy before → after (mean over draws):");
    for (c, n) in names.iter().enumerate() {
        let after: Vec<f64> = e.after.iter().map(|s| s.annotation_per_class[c]).collect();
        println!(
            "  {n:>12}  {:>8} → {}",
            pct(e.before.annotation_per_class[c]),
            pct(stats::mean_std(&after).0)
        );
    }
    if let Some(p) = &a.json {
        write_atomic(p, &serde_json::to_vec_pretty(&e)?)
            .map_err(|err| format!("{}: {err}", p.display()))?;
        println!("{}", p.display());
    }
    eprintln!("measured in {:.1} s", t0.elapsed().as_secs_f64());
    Ok(())
}
