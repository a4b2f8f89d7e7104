//! The command-line arguments and bodies of the commands that export a run and use the
//! exported blob through `pse-runtime`: `export`, `score`, `annotate`, `generate`, `enroll`
//! and `enroll-eval` (`main.rs` only dispatches to them).

use crate::atomic::write_atomic;
use crate::data::glove::Glove;
use crate::data::inputs::{InputFile, Preprocess};
use crate::data::words;
use crate::data::{self, Dataset, Split};
use crate::eval::stats;
use crate::export::calibrate::{self, DEFAULT_PERCENTILE};
use crate::export::card::{self, ModelCard};
use crate::export::enroll::{self, Plan};
use crate::export::host::{self, BlobFile, Scratchpad};
use crate::export::precision::{self, WeightEncoding};
use crate::export::{self, ExportOptions};
use crate::report::samples;
use crate::train;
use crate::train::checkpoint::Checkpoint;
use clap::Args;
use std::error::Error;
use std::io::Write;
use std::path::{Path, PathBuf};

/// `pse-trainer export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Run folder (from `pse-trainer train`; `metrics.json` from `eval` goes into the card).
    pub run: PathBuf,
    /// Encoding of the encoder trunk and decoder weights (the latent heads and the label
    /// table are f32 in every encoding).
    #[arg(long, value_enum)]
    pub weights: WeightEncoding,
    /// Blob file to write (atomically); the model card goes beside it as FILE with
    /// extension `.json`.
    #[arg(long, short)]
    pub out: PathBuf,
    /// Keep these layers in f32 whatever --weights says: `enc.I` or `dec.I` (0-based;
    /// comma-separated or repeated), e.g. `--keep-f32 enc.0,dec.2`.
    #[arg(long, value_delimiter = ',')]
    pub keep_f32: Vec<String>,
    /// Leave these labels (names or indices; comma-separated or repeated) out of the blob's
    /// label table, e.g. to demonstrate enrolling them on the device. The threshold is then
    /// calibrated on the held-out images of the other labels.
    #[arg(long, value_delimiter = ',', value_name = "LABEL")]
    pub without_label: Vec<String>,
    /// Percentile of the held-out images' best label log-likelihoods used as the
    /// "unknown" threshold (see `pse_trainer::export::calibrate`).
    #[arg(long, default_value_t = DEFAULT_PERCENTILE)]
    pub percentile: f64,
    /// Also write the float ONNX references (encoder, label scores, decoder) into DIR.
    #[cfg(feature = "onnx")]
    #[arg(long, value_name = "DIR")]
    pub onnx: Option<PathBuf>,
    /// Folder with the datasets (filled by scripts/fetch-data.sh).
    #[arg(long, default_value = "data", env = "PSE_DATA")]
    pub data: PathBuf,
}

/// `pse-trainer score`.
#[derive(Debug, Args)]
pub struct ScoreArgs {
    /// The blob.
    #[arg(long)]
    pub model: PathBuf,
    /// Test set to annotate [default: the dataset whose label names the blob carries].
    /// Another dataset measures how often out-of-distribution images are called unknown.
    #[arg(long, value_enum)]
    pub dataset: Option<Dataset>,
    /// Print the score as one JSON object (as the model card's `runtime_test`) instead of the
    /// text.
    #[arg(long)]
    pub json: bool,
    /// Folder with the datasets (filled by scripts/fetch-data.sh).
    #[arg(long, default_value = "data", env = "PSE_DATA")]
    pub data: PathBuf,
}

/// `pse-trainer calibrate`.
#[derive(Debug, Args)]
pub struct CalibrateArgs {
    /// The blob (any format version).
    #[arg(long)]
    pub model: PathBuf,
    /// The blob to write (format 2, with the open-world bounds); its model card, when one
    /// lies beside --model, is written beside it with the new figures.
    #[arg(long, short)]
    pub out: PathBuf,
    /// Share (%) of held-out images the whole verdict may call unknown, shared by its three
    /// tests (latent likelihood, reconstruction, likelihood ratio).
    #[arg(long, default_value_t = calibrate::DEFAULT_PERCENTILE)]
    pub percentile: f64,
    /// Held-out images: the last N of the dataset's training file (as the recipes hold
    /// them out; 5000 in both).
    #[arg(long, default_value_t = 5000)]
    pub holdout: usize,
    /// Folder with the datasets (filled by scripts/fetch-data.sh).
    #[arg(long, default_value = "data", env = "PSE_DATA")]
    pub data: PathBuf,
}

/// `pse-trainer calibrate`: a blob's unknown threshold and open-world bounds, calibrated on
/// held-out images with the blob itself, written as a format-2 blob (and card).
pub fn run_calibrate(a: CalibrateArgs) -> Result<(), Box<dyn Error>> {
    if !(0.0..100.0).contains(&a.percentile) {
        return Err(format!("--percentile {} is outside 0..100", a.percentile).into());
    }
    let blob = BlobFile::read(&a.model)?;
    let model = blob.model()?;
    let dataset = test_dataset(&model, &a.model, None)?;
    let names = dataset.label_names();
    let known: Vec<bool> = names
        .iter()
        .map(|n| model.label_index(n).is_some())
        .collect();
    let train = data::load(&a.data, dataset, Split::Train)?;
    if a.holdout == 0 || a.holdout >= train.len() {
        return Err(format!("--holdout {} must be in 1..{}", a.holdout, train.len()).into());
    }
    let held = train.split_tail(a.holdout).1;
    let rows: Vec<usize> = (0..held.len())
        .filter(|&i| known[held.y[i] as usize])
        .collect();
    let x = held.x.select(ndarray::Axis(0), &rows);
    let each = a.percentile / 3.0;
    // Calibrate on the model without bounds and threshold, as export does.
    let mut open = *model.payload();
    open.unknown_threshold = f32::NEG_INFINITY;
    open.open_world = None;
    let bare = pse_runtime::Model::from_payload(open)?;
    let threshold = calibrate::calibrate(&bare, x.view(), each)?;
    let bounds = calibrate::calibrate_open_world(&bare, x.view(), each)?
        .ok_or("no held-out images of the blob's labels")?;
    let mut q = *model.payload();
    q.unknown_threshold = threshold.threshold;
    q.open_world = Some(bounds.bounds);
    let mut bytes = vec![0u8; pse_runtime::blob::encoded_len(&q)?];
    let n = pse_runtime::blob::encode(&q, &mut bytes)?;
    bytes.truncate(n);
    let written = pse_runtime::Model::from_bytes(&bytes)?;
    let test = data::load(&a.data, dataset, Split::Test)?;
    let mut pad = Scratchpad::for_model(&written);
    let score = host::score(&written, &mut pad, test.x.view(), &test.y, &names)?;
    write_atomic(&a.out, &bytes).map_err(|e| format!("{}: {e}", a.out.display()))?;
    println!(
        "{}: format {}, threshold {:.3}, reconstruction ≥ {:.1}, likelihood ratio ≥ {:.1} \
         (each at the {each:.3}th percentile of {} held-out images)",
        a.out.display(),
        pse_runtime::blob::FORMAT_VERSION,
        threshold.threshold,
        bounds.bounds.reconstruction_low,
        bounds.bounds.ratio_low,
        rows.len()
    );
    println!(
        "  {dataset} test: annotation {}, unknown {}",
        pct(score.annotation_accuracy),
        pct(score.unknown_rate)
    );
    let card_in = card::card_path(&a.model);
    if let Ok(json) = std::fs::read(&card_in) {
        let mut c: card::ModelCard = serde_json::from_slice(&json)
            .map_err(|e| format!("{}: not a model card: {e}", card_in.display()))?;
        c.file = a
            .out
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        c.bytes = bytes.len();
        c.sha256 = card::sha256_hex(&bytes);
        c.format_version = pse_runtime::blob::FORMAT_VERSION;
        c.runtime_test = score;
        c.unknown_threshold = threshold;
        c.open_world = Some(bounds);
        let card_out = card::card_path(&a.out);
        write_atomic(&card_out, &serde_json::to_vec_pretty(&c)?)
            .map_err(|e| format!("{}: {e}", card_out.display()))?;
        println!("{}", card_out.display());
    }
    Ok(())
}

/// `pse-trainer ood`.
#[derive(Debug, Args)]
pub struct OodArgs {
    /// The blob.
    #[arg(long)]
    pub model: PathBuf,
    /// Images per out-of-distribution set.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub count: u32,
    /// Print the report as JSON instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Folder with the datasets (filled by scripts/fetch-data.sh).
    #[arg(long, default_value = "data", env = "PSE_DATA")]
    pub data: PathBuf,
}

/// `pse-trainer ood`: the out-of-distribution suite ([`crate::export::ood`]).
pub fn run_ood(a: OodArgs) -> Result<(), Box<dyn Error>> {
    let blob = BlobFile::read(&a.model)?;
    let model = blob.model()?;
    let dataset = test_dataset(&model, &a.model, None)?;
    let report = crate::export::ood::measure(&model, &a.data, dataset, a.count as usize)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "{}: its own {dataset} test set and {} out-of-distribution sets\n",
            a.model.display(),
            report.rows.len() - 1
        );
        print!("{}", crate::export::ood::table(&report));
    }
    Ok(())
}

/// `pse-trainer annotate`.
#[derive(Debug, Args)]
pub struct AnnotateArgs {
    /// The blob.
    #[arg(long)]
    pub model: PathBuf,
    /// PNG files (one image each, the blob's image size) or IDX image files (every image
    /// inside, raw or .gz).
    #[arg(required = true, value_name = "IMAGES")]
    pub images: Vec<PathBuf>,
    /// `mnist`: take pictures of any size and polarity and make them MNIST-like first (the
    /// runtime's `preprocess::mnist_like`: invert a light background, crop to the ink, fit
    /// 20x20, centre by mass in 28x28).
    #[arg(long, value_enum, default_value = "none")]
    pub preprocess: Preprocess,
    /// One JSON object per image (file, verdict, label, posterior, reason) instead of the
    /// tab-separated lines.
    #[arg(long)]
    pub json: bool,
}

/// `pse-trainer generate`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("what").required(true)))]
pub struct GenerateArgs {
    /// The blob.
    #[arg(long)]
    pub model: PathBuf,
    /// Label to draw, by name (e.g. `seven`) or 0-based index.
    #[arg(long, group = "what")]
    pub label: Option<String>,
    /// A word or phrase to draw through the model's label encoder (models trained with
    /// `--labels glove`), also one never seen in training, e.g. `--word jeans`.
    #[arg(long, group = "what")]
    pub word: Option<String>,
    /// Two words or phrases to compose (see --mix), e.g. `--words sneaker "ankle boot"`.
    #[arg(long, group = "what", num_args = 2, value_names = ["A", "B"])]
    pub words: Vec<String>,
    /// With --words: the label vector is (1 − t)·A + t·B for t = this.
    #[arg(long, default_value_t = 0.5, requires = "words")]
    pub mix: f32,
    /// Folder with the GloVe vectors, for --word and --words (`scripts/fetch-data.sh
    /// --glove`).
    #[arg(long, default_value = "data", env = "PSE_DATA")]
    pub data: PathBuf,
    /// Number of images (seeds SEED, SEED+1, …).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub count: u32,
    /// First seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Decode the label's mean instead (one image; --count and --seed do not apply).
    #[arg(long, conflicts_with_all = ["count", "seed"])]
    pub mean: bool,
    /// PNG file to write (atomically).
    #[arg(long, short)]
    pub out: PathBuf,
}

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

fn load_checkpoint(run: &Path) -> Result<Checkpoint, Box<dyn Error>> {
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

fn pct(v: f64) -> String {
    format!("{:.2} %", 100.0 * v)
}

/// `pse-trainer export`: writes the blob and its card, prints what was written.
pub fn run_export(a: ExportArgs) -> Result<(), Box<dyn Error>> {
    let ck = load_checkpoint(&a.run)?;
    if let Some(dir) = a.out.parent().filter(|d| !d.as_os_str().is_empty())
        && !dir.is_dir()
    {
        return Err(format!(
            "cannot write {}: its directory does not exist",
            a.out.display()
        )
        .into());
    }
    let opts = ExportOptions {
        run: a.run.clone(),
        data_dir: a.data.clone(),
        weights: a.weights,
        keep_f32: a.keep_f32.clone(),
        without_labels: a.without_label.clone(),
        percentile: a.percentile,
        out: a.out.clone(),
    };
    let t0 = std::time::Instant::now();
    let r = export::export_run(&ck, &opts)?;
    let c = &r.card;
    let t = &c.runtime_test;
    println!(
        "{}  {} bytes  sha256 {}",
        r.blob.display(),
        c.bytes,
        c.sha256
    );
    println!(
        "  {} {}D on {}, {} weights; test set through pse-runtime: annotation accuracy {}, \
         unknown {}, verdict accuracy {}",
        c.model,
        c.latent,
        c.dataset,
        c.encoding.name(),
        pct(t.annotation_accuracy),
        pct(t.unknown_rate),
        pct(t.verdict_accuracy)
    );
    if let Some(acc) = c
        .float_metrics
        .as_ref()
        .and_then(|m| m.0.get("annotation_accuracy"))
        .and_then(|v| v.as_f64())
    {
        println!(
            "  float model (metrics.json): annotation accuracy {}; blob - float = {:+.2} points",
            pct(acc),
            100.0 * (t.annotation_accuracy - acc)
        );
    }
    let u = &c.unknown_threshold;
    println!(
        "  unknown threshold {:.3} = {}th percentile of {} held-out images ({} below; median {:.3})",
        u.threshold, u.percentile, u.held_out_images, u.held_out_below, u.held_out_median
    );
    println!("{}", r.card_path.display());
    #[cfg(feature = "onnx")]
    if let Some(dir) = &a.onnx {
        let labels = train::label_table(&ck.config, &a.data)?;
        for p in crate::export::onnx::write_references(&ck, labels.view(), dir)? {
            println!("{}", p.display());
        }
    }
    eprintln!("exported in {:.1} s", t0.elapsed().as_secs_f64());
    Ok(())
}

/// The dataset whose label names are the blob's.
fn dataset_of(model: &pse_runtime::Model<'_>) -> Option<Dataset> {
    let names: Vec<&str> = (0..model.label_count())
        .filter_map(|i| model.label_name(i))
        .collect();
    [Dataset::Mnist, Dataset::Fashion]
        .into_iter()
        .find(|d| !names.is_empty() && names.iter().all(|n| d.label_names().contains(n)))
}

/// The dataset to measure the blob at `path` on: `given`, else the one whose label names it
/// carries; its images must be the dataset's size.
fn test_dataset(
    model: &pse_runtime::Model<'_>,
    path: &Path,
    given: Option<Dataset>,
) -> Result<Dataset, String> {
    let dataset = given.or(dataset_of(model)).ok_or_else(|| {
        format!(
            "{}: its labels are not a known dataset's; pass --dataset",
            path.display()
        )
    })?;
    if model.image_size() != precision::image_size(data::PIXELS) {
        return Err(format!(
            "{}: the model's images are {:?}, {dataset}'s are 28x28",
            path.display(),
            model.image_size()
        ));
    }
    Ok(dataset)
}

/// `pse-trainer score`: the blob's annotation accuracy and unknown rate on a test set.
pub fn run_score(a: ScoreArgs) -> Result<(), Box<dyn Error>> {
    let blob = BlobFile::read(&a.model)?;
    let model = blob.model()?;
    let own = dataset_of(&model);
    let dataset = test_dataset(&model, &a.model, a.dataset)?;
    let test = data::load(&a.data, dataset, Split::Test)?;
    let mut pad = Scratchpad::for_model(&model);
    let t0 = std::time::Instant::now();
    let s = host::score(
        &model,
        &mut pad,
        test.x.view(),
        &test.y,
        &dataset.label_names(),
    )?;
    if a.json {
        println!("{}", serde_json::to_string(&s)?);
        return Ok(());
    }
    println!(
        "{}: {} test images of {dataset}, threshold {:.3}",
        a.model.display(),
        s.images,
        model.unknown_threshold()
    );
    if own == Some(dataset) {
        println!("  annotation accuracy  {}", pct(s.annotation_accuracy));
        println!("  verdict accuracy     {}", pct(s.verdict_accuracy));
        if model.label_count() < dataset.label_names().len() {
            println!(
                "  (the blob lacks some of the dataset's labels: their images count as wrong)"
            );
        }
    } else {
        println!("  (not the model's own dataset: only the unknown rate is meaningful)");
    }
    println!("  unknown              {}", pct(s.unknown_rate));
    println!(
        "  {:.1} µs per annotation",
        1e6 * t0.elapsed().as_secs_f64() / s.images.max(1) as f64
    );
    Ok(())
}

/// `pse-trainer annotate`: one line per image.
pub fn run_annotate(a: AnnotateArgs) -> Result<(), Box<dyn Error>> {
    let blob = BlobFile::read(&a.model)?;
    let model = blob.model()?;
    // Read (and check) every input before printing anything.
    let files = InputFile::read_all(&a.images, model.image_size(), a.preprocess)?;
    let mut pad = Scratchpad::for_model(&model);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let name = |i: Option<usize>| {
        i.and_then(|i| model.label_name(i))
            .unwrap_or("(none)")
            .to_string()
    };
    for f in &files {
        for i in 0..f.len() {
            let (what, image) = f.image(i).ok_or("image index out of range")?;
            let ann = host::annotate(&model, &mut pad, image)?;
            let verdict = if ann.unknown {
                let why = ann.reason.map(host::reason_name).unwrap_or("no label");
                format!("unknown (nearest: {}; {why})", name(ann.best))
            } else {
                name(ann.best)
            };
            let line = if a.json {
                serde_json::json!({
                    "image": what,
                    "unknown": ann.unknown,
                    "label": ann.best.and_then(|i| model.label_name(i)),
                    "posterior": ann.posterior,
                    "log_likelihood": ann.log_likelihood,
                    "reason": ann.reason.map(host::reason_name),
                })
                .to_string()
            } else {
                format!("{what}\t{verdict}\t{:.4}", ann.posterior)
            };
            if let Err(e) = writeln!(out, "{line}") {
                return quiet_broken_pipe(e);
            }
        }
    }
    out.flush().or_else(quiet_broken_pipe)
}

/// A closed stdout (`pse-trainer annotate … | head`) ends the command quietly.
fn quiet_broken_pipe(e: std::io::Error) -> Result<(), Box<dyn Error>> {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        Ok(())
    } else {
        Err(format!("writing the annotations: {e}").into())
    }
}

/// `pse-trainer generate`: a PNG grid of images drawn from one label, word or mix of words.
pub fn run_generate(a: GenerateArgs) -> Result<(), Box<dyn Error>> {
    let blob = BlobFile::read(&a.model)?;
    let model = blob.model()?;
    if a.label.is_none() && model.word_dim().is_none() {
        return Err(format!(
            "{}: has no label encoder (it was trained on one-hot labels): draw a --label",
            a.model.display()
        )
        .into());
    }
    if !a.mix.is_finite() {
        return Err(format!("--mix {}: must be a number", a.mix).into());
    }
    let vector;
    let (what, title) = match (&a.label, &a.word, a.words.as_slice()) {
        (Some(l), _, _) => {
            let i = host::resolve_label(&model, l)?;
            let name = model.label_name(i).unwrap_or_default().to_string();
            (samples::What::Label(i), name)
        }
        (_, Some(word), _) => {
            vector = Glove::load(&a.data)?.phrase(word)?;
            (samples::What::Vector(&vector), word.clone())
        }
        (_, _, [x, y]) => {
            vector = words::mix(&Glove::load(&a.data)?, x, y, a.mix)?;
            let title = format!("{:.2}·{x} + {:.2}·{y}", 1.0 - a.mix, a.mix);
            (samples::What::Vector(&vector), title)
        }
        _ => return Err("give --label, --word or --words".into()),
    };
    let images = samples::generate(&model, what, a.count as usize, a.seed, a.mean)?;
    let (w, h) = model.image_size();
    let title = if a.mean {
        format!("{title} (mean)")
    } else {
        title.to_string()
    };
    samples::grid(&images, &title, w, h).write_png(&a.out)?;
    println!("{}", a.out.display());
    Ok(())
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
