//! The paper's metrics (its section 4), computed the same way for every model:
//! reconstruction error, annotation accuracy and generation accuracy.

pub mod compare;
pub mod infer;
pub mod judge;
pub mod stats;
pub mod summary;

use crate::data::augment;
use crate::data::{self, Dataset, Split};
use crate::eval::judge::Judge;
use crate::nn::loss::bce_one;
use crate::nn::mlp::MlpCache;
use crate::nn::model::{Kind, Net};
use crate::nn::rng::{Rng, Stream};
use crate::objectives::vae::{concat, gather, with_labels};
use crate::train::checkpoint::{Checkpoint, LabelKind};
use crate::train::label_table;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use ndarray::{Array2, ArrayView2, s};
use pse_runtime::gaussian;
use serde::{Deserialize, Serialize};
use std::io::IsTerminal;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Every number `eval` reports, as written to `metrics.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Metrics {
    /// Dataset.
    pub dataset: Dataset,
    /// The paper's name of the model ("PSE", "PSE*", "CVAE", …).
    pub model: String,
    /// Latent dimension.
    pub latent: usize,
    /// Recipe name.
    pub recipe: String,
    /// Labels the label encoder saw (absent in files written before word vectors: one-hot).
    #[serde(default)]
    pub labels: LabelKind,
    /// Classes kept out of training (`train --leave-out`; absent in older files: none).
    #[serde(default)]
    pub left_out: Vec<String>,
    /// Steps trained.
    pub steps: u64,
    /// Training seed.
    pub seed: u64,
    /// Mean summed BCE (nats) over the test images, one `z ~ q(z|x)` each.
    pub reconstruction: f64,
    /// Fraction of test images whose `mu_x` is most likely under their own label's Gaussian
    /// (`None` for the CVAE, which has no label Gaussians).
    pub annotation_accuracy: Option<f64>,
    /// Annotation accuracy per class (empty for the CVAE).
    pub annotation_per_class: Vec<f64>,
    /// Mean over repeats of the judge's accuracy on images decoded from `z ~ q(z|l)` (for
    /// the CVAE: `[z, l]` with `z ~ N(0, I)`).
    pub generation_accuracy: f64,
    /// Sample standard deviation of that over repeats.
    pub generation_std: f64,
    /// Repeats of the generation measurement.
    pub generation_repeats: u32,
    /// Images decoded per label per repeat.
    pub generation_samples_per_label: u32,
    /// The judge's accuracy on the training images.
    pub judge_train_accuracy: f64,
    /// The judge's accuracy on the test images.
    pub judge_test_accuracy: f64,
    /// Annotation accuracy on the shifted test suite ([`crate::data::augment::SHIFTED`]), one per
    /// transform (empty for the CVAE, and in files written before the suite existed).
    #[serde(default)]
    pub shifted: Vec<Shifted>,
}

/// Accuracy on one transform of the shifted test suite.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Shifted {
    /// The transform ([`crate::data::augment::SHIFTED`]'s name).
    pub transform: String,
    /// Fraction of the transformed test images annotated (or classified) correctly.
    pub accuracy: f64,
}

/// The test images under each transform of the shifted suite, in its order, one set at a
/// time (each is as large as the test set).
pub fn shifted_sets(
    x: ArrayView2<'_, f32>,
) -> impl Iterator<Item = (&'static str, Array2<f32>)> + '_ {
    augment::SHIFTED.iter().map(move |&(name, t)| {
        let mut out = Array2::zeros(x.dim());
        for (i, (src, mut dst)) in x.rows().into_iter().zip(out.rows_mut()).enumerate() {
            let src = src.to_vec();
            augment::apply_shifted(t, i, &src, dst.as_slice_mut().expect("contiguous"));
        }
        (name, out)
    })
}

/// The mean accuracy over the shifted suite (`None` when empty).
pub fn shifted_mean(s: &[Shifted]) -> Option<f64> {
    (!s.is_empty()).then(|| s.iter().map(|r| r.accuracy).sum::<f64>() / s.len() as f64)
}

/// How much generation sampling to do (the paper: 10,000 per label, 10 repeats).
#[derive(Debug, Clone, Copy)]
pub struct EvalOptions {
    /// Decoded images per label per repeat.
    pub samples_per_label: u32,
    /// Repeats.
    pub repeats: u32,
    /// Show progress.
    pub progress: bool,
    /// Threads for the generation measurement (the figures are the same for every count).
    pub threads: usize,
}

/// A row of the paper's tables: (reconstruction, annotation % and generation % when
/// reported).
pub type PaperRow = (f64, Option<f64>, Option<f64>);

/// The paper's Table 1 / 2 / 3 row for a model, if it reports one (it reports none for
/// SCAN). Word-vector labels are Table 3 (word2vec there, GloVe here), which reports no
/// generation accuracy.
pub fn paper_numbers(
    dataset: Dataset,
    kind: Kind,
    latent: usize,
    labels: LabelKind,
) -> Option<PaperRow> {
    match (dataset, kind, latent, labels) {
        (Dataset::Mnist, Kind::Cvae, 10, LabelKind::OneHot) => Some((79.8, None, Some(97.6))),
        (Dataset::Mnist, Kind::Jmvae, 10, LabelKind::OneHot) => {
            Some((87.7, Some(95.4), Some(92.2)))
        }
        (Dataset::Mnist, Kind::Trelbo, 10, LabelKind::OneHot) => {
            Some((83.1, Some(90.3), Some(61.1)))
        }
        (Dataset::Fashion, Kind::Cvae, 10, LabelKind::OneHot) => Some((219.7, None, Some(81.3))),
        (Dataset::Fashion, Kind::Jmvae, 10, LabelKind::OneHot) => {
            Some((225.4, Some(80.3), Some(71.2)))
        }
        (Dataset::Fashion, Kind::Trelbo, 10, LabelKind::OneHot) => {
            Some((220.3, Some(73.0), Some(47.5)))
        }
        (Dataset::Mnist, Kind::Pse, 10, LabelKind::OneHot) => Some((82.8, Some(96.0), Some(93.9))),
        (Dataset::Mnist, Kind::PseStar, 10, LabelKind::OneHot) => {
            Some((82.3, Some(96.3), Some(94.9)))
        }
        (Dataset::Mnist, Kind::PseStar, 20, LabelKind::OneHot) => {
            Some((75.0, Some(97.1), Some(95.6)))
        }
        (Dataset::Fashion, Kind::Pse, 10, LabelKind::OneHot) => {
            Some((219.1, Some(81.2), Some(75.9)))
        }
        (Dataset::Fashion, Kind::PseStar, 10, LabelKind::OneHot) => {
            Some((219.6, Some(81.3), Some(76.1)))
        }
        (Dataset::Fashion, Kind::PseStar, 20, LabelKind::OneHot) => {
            Some((219.0, Some(81.6), Some(76.2)))
        }
        (Dataset::Fashion, Kind::Pse, 10, LabelKind::Glove) => Some((218.7, Some(81.4), None)),
        (Dataset::Fashion, Kind::PseStar, 10, LabelKind::Glove) => Some((218.8, Some(81.9), None)),
        _ => None,
    }
}

/// Annotates each row of `mu_x` with the label maximising `log N(mu_x; mu_l, var_l)`,
/// using the runtime's scoring code.
pub fn annotate(
    mu_x: ArrayView2<f32>,
    lab_mu: ArrayView2<f32>,
    lab_lv: ArrayView2<f32>,
) -> Vec<usize> {
    let d = lab_mu.ncols();
    let mut inv_var = Array2::<f32>::zeros((lab_mu.nrows(), d));
    let log_norm: Vec<f32> = lab_lv
        .rows()
        .into_iter()
        .zip(inv_var.rows_mut())
        .map(|(lv, mut iv)| {
            gaussian::label_constants(
                lv.as_slice().expect("contiguous"),
                iv.as_slice_mut().expect("contiguous"),
            )
        })
        .collect();
    let mut scores = vec![0.0f32; lab_mu.nrows()];
    mu_x.rows()
        .into_iter()
        .map(|x| {
            let x = x.to_vec();
            for (c, sc) in scores.iter_mut().enumerate() {
                let mu = lab_mu.row(c);
                *sc = gaussian::log_likelihood(
                    &x,
                    mu.as_slice().expect("contiguous"),
                    inv_var.row(c).as_slice().expect("contiguous"),
                    log_norm[c],
                );
            }
            gaussian::argmax(&scores).unwrap_or(0)
        })
        .collect()
}

/// Computes every metric for a trained checkpoint.
pub fn evaluate(
    ck: &Checkpoint,
    data_dir: &Path,
    opts: EvalOptions,
) -> Result<Metrics, Box<dyn std::error::Error>> {
    let cfg = &ck.config;
    let net = Net::new(cfg.arch);
    let p = ck.model_params();
    let test = data::load(data_dir, cfg.dataset, Split::Test)?;
    let judge = Judge::load_or_train(data_dir, cfg.dataset, opts.progress)?;
    let table = label_table(cfg, data_dir)?;
    // The CVAE's encoder and decoder also read each image's label vector.
    let cond = (!cfg.arch.kind.has_label_encoder()).then(|| gather(table.view(), &test.y));
    let enc_in = with_labels(test.x.view(), cond.as_ref().map(|l| l.view()));
    let (mu, lv) = infer::encode(&net, p, enc_in.view());
    let classes = cfg.arch.classes;

    // Annotation.
    let labels = cfg
        .arch
        .kind
        .has_label_encoder()
        .then(|| infer::label_gaussians(&net, p, table.view()));
    let (annotation_accuracy, annotation_per_class) = match &labels {
        Some((lab_mu, lab_lv)) => {
            let pred = annotate(mu.view(), lab_mu.view(), lab_lv.view());
            let (mut hit, mut count) = (vec![0usize; classes], vec![0usize; classes]);
            for (&p, &y) in pred.iter().zip(&test.y) {
                count[y as usize] += 1;
                hit[y as usize] += usize::from(p == y as usize);
            }
            let per_class = hit
                .iter()
                .zip(&count)
                .map(|(&h, &c)| h as f64 / c.max(1) as f64)
                .collect();
            (
                Some(hit.iter().sum::<usize>() as f64 / test.len() as f64),
                per_class,
            )
        }
        None => (None, Vec::new()),
    };
    // The shifted suite: the same annotation on transformed test images.
    let shifted = match &labels {
        Some((lab_mu, lab_lv)) => shifted_sets(test.x.view())
            .map(|(name, xs)| {
                let (mu, _) = infer::encode(&net, p, xs.view());
                let pred = annotate(mu.view(), lab_mu.view(), lab_lv.view());
                let hits = pred
                    .iter()
                    .zip(&test.y)
                    .filter(|(p, y)| **p == **y as usize);
                Shifted {
                    transform: name.into(),
                    accuracy: hits.count() as f64 / test.len() as f64,
                }
            })
            .collect(),
        None => Vec::new(),
    };

    // Reconstruction: one z ~ q(z|x) per test image (the CVAE: q(z|x,l), decoded with the
    // image's label vector).
    let d = cfg.arch.latent;
    let mut cache = MlpCache::default();
    let mut total = 0.0f64;
    for (chunk, start) in (0..test.len()).step_by(infer::CHUNK).enumerate() {
        let end = (start + infer::CHUNK).min(test.len());
        let mut z = Array2::<f32>::zeros((end - start, d));
        Rng::new(cfg.seed, Stream::Eval, chunk as u64)
            .fill_normal(z.as_slice_mut().expect("contiguous"));
        for ((zi, &m), &l) in z
            .iter_mut()
            .zip(mu.slice(s![start..end, ..]))
            .zip(lv.slice(s![start..end, ..]))
        {
            *zi = m + (0.5 * l).exp() * *zi;
        }
        let z = with_labels(z.view(), cond.as_ref().map(|l| l.slice(s![start..end, ..])));
        let logits = infer::decode_logits(&net, p, z.view(), &mut cache);
        for (&l, &t) in logits.iter().zip(test.x.slice(s![start..end, ..])) {
            total += bce_one(l, t) as f64;
        }
    }
    let reconstruction = total / test.len() as f64;

    // Generation: decode z ~ q(z|l), let the judge say which label it sees.
    let n = opts.samples_per_label as usize;
    let work = opts.repeats as u64 * classes as u64;
    let bar = if opts.progress && std::io::stderr().is_terminal() {
        ProgressBar::with_draw_target(Some(work), ProgressDrawTarget::stderr())
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("generation {bar:30} {pos}/{len} label batches  ETA {eta}")
            .expect("valid template"),
    );
    // Each (repeat, label) batch is drawn from its own seed and counted on its own, by
    // whichever thread takes it: the counts, summed in order below, do not depend on threads.
    let batches = opts.repeats as usize * classes;
    let counts: Vec<AtomicUsize> = (0..batches).map(|_| AtomicUsize::new(0)).collect();
    let next = AtomicUsize::new(0);
    let worker = || {
        let (mut cache, mut jcache) = (MlpCache::default(), MlpCache::default());
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= batches {
                break;
            }
            let (r, c) = (i / classes, i % classes);
            let mut z = Array2::<f32>::zeros((n, d));
            Rng::new(
                cfg.seed,
                Stream::Eval,
                1 << 32 | (r as u64) << 16 | c as u64,
            )
            .fill_normal(z.as_slice_mut().expect("contiguous"));
            let z = match &labels {
                Some((lab_mu, lab_lv)) => {
                    for mut row in z.rows_mut() {
                        for ((zi, &m), &l) in row.iter_mut().zip(lab_mu.row(c)).zip(lab_lv.row(c)) {
                            *zi = m + (0.5 * l).exp() * *zi;
                        }
                    }
                    z
                }
                // The CVAE: z from the prior, the label beside it.
                None => concat(z.view(), gather(table.view(), &vec![c as u8; n]).view()),
            };
            let images = infer::decode(&net, p, z.view(), &mut cache);
            let correct = judge
                .classify(images.view(), &mut jcache)
                .iter()
                .filter(|&&k| k as usize == c)
                .count();
            counts[i].store(correct, Ordering::Relaxed);
            bar.inc(1);
        }
    };
    std::thread::scope(|scope| {
        for _ in 1..opts.threads.clamp(1, batches.max(1)) {
            scope.spawn(worker);
        }
        worker();
    });
    bar.finish_and_clear();
    let accs: Vec<f64> = counts
        .chunks(classes.max(1))
        .map(|rep| {
            let correct: usize = rep.iter().map(|k| k.load(Ordering::Relaxed)).sum();
            correct as f64 / (n * classes) as f64
        })
        .collect();
    let mean = accs.iter().sum::<f64>() / accs.len().max(1) as f64;
    let var = if accs.len() > 1 {
        accs.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / (accs.len() - 1) as f64
    } else {
        0.0
    };

    Ok(Metrics {
        dataset: cfg.dataset,
        model: cfg.arch.kind.paper_name().into(),
        latent: d,
        recipe: cfg.recipe.name.clone(),
        labels: cfg.labels,
        left_out: cfg.left_out_names().into_iter().map(String::from).collect(),
        steps: ck.step,
        seed: cfg.seed,
        reconstruction,
        annotation_accuracy,
        annotation_per_class,
        generation_accuracy: mean,
        generation_std: var.sqrt(),
        generation_repeats: opts.repeats,
        generation_samples_per_label: opts.samples_per_label,
        judge_train_accuracy: judge.train_accuracy,
        judge_test_accuracy: judge.test_accuracy,
        shifted,
    })
}

/// The metrics as a Markdown table, beside the paper's numbers where it has them.
pub fn table(m: &Metrics) -> String {
    let paper = Kind::from_paper_name(&m.model)
        .and_then(|kind| paper_numbers(m.dataset, kind, m.latent, m.labels))
        .filter(|_| m.left_out.is_empty());
    let col = |f: fn(&PaperRow) -> Option<f64>, fmt: fn(f64) -> String| {
        paper.as_ref().and_then(f).map_or("—".to_string(), fmt)
    };
    let mut t = format!(
        "{} {}D on {}, {} labels ({} recipe, {} steps, seed {})\n\n| metric | ours | paper |\n|---|---|---|\n",
        m.model,
        m.latent,
        m.dataset,
        m.labels.name(),
        m.recipe,
        m.steps,
        m.seed
    );
    t += &format!(
        "| reconstruction error (nats, lower is better) | {:.1} | {} |\n",
        m.reconstruction,
        col(|p| Some(p.0), |v| format!("{v:.1}"))
    );
    t += &format!(
        "| annotation accuracy (%) | {} | {} |\n",
        m.annotation_accuracy
            .map_or("N/A".into(), |a| format!("{:.2}", 100.0 * a)),
        col(|p| p.1, |v| format!("{v:.1}"))
    );
    t += &format!(
        "| generation accuracy (%, {}×{} per label) | {:.2} ± {:.2} | {} |\n",
        m.generation_repeats,
        m.generation_samples_per_label,
        100.0 * m.generation_accuracy,
        100.0 * m.generation_std,
        col(|p| p.2, |v| format!("{v:.1}"))
    );
    t += &format!(
        "\njudge classifier: {:.2} % on training images, {:.2} % on test images (paper's MNIST judge: 98.09 % / 96.86 %)\n",
        100.0 * m.judge_train_accuracy,
        100.0 * m.judge_test_accuracy
    );
    if let Some(mean) = shifted_mean(&m.shifted) {
        t += "\nannotation accuracy (%) on the shifted test suite (`pse-trainer judge --shifted` gives the judge MLP's, with and without augmentation):\n\n| transform | ours |\n|---|---|\n";
        for s in &m.shifted {
            t += &format!("| {} | {:.2} |\n", s.transform, 100.0 * s.accuracy);
        }
        t += &format!("| **mean** | **{:.2}** |\n", 100.0 * mean);
    }
    t
}
