//! The training loop: deterministic batches and noise, Adam, progress, atomic checkpoints.

pub mod bench;
pub mod checkpoint;
pub mod recipe;
pub mod step;

use crate::atomic::write_atomic;
use crate::data::augment;
use crate::data::glove::{Glove, GloveError};
use crate::data::{self, DataError, Labelled, Split};
use crate::nn::adam::{self, Adam};
use crate::nn::model::Net;
use crate::nn::rng::{Rng, Stream};
use crate::objectives::pse::{Terms, Weights, one_hot_table};
use crate::train::checkpoint::{Checkpoint, CheckpointError, LabelKind, RunConfig};
use crate::train::step::ShardedStep;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use ndarray::{Array2, ArrayView2, ArrayViewMut2, Axis};
use std::fmt;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// File names inside a run folder.
pub mod files {
    /// The latest checkpoint.
    pub const CHECKPOINT: &str = "checkpoint.bin";
    /// The run's configuration and recipe, as JSON.
    pub const CONFIG: &str = "config.json";
    /// Loss terms every few steps, one JSON object per line.
    pub const LOG: &str = "train-log.jsonl";
}

/// Why training stopped early.
#[derive(Debug)]
pub enum TrainError {
    /// The data could not be loaded.
    Data(DataError),
    /// A checkpoint could not be read or written.
    Checkpoint(CheckpointError),
    /// The word vectors of the labels could not be loaded.
    Labels(GloveError),
    /// Another file could not be written.
    Io(PathBuf, std::io::Error),
    /// The options ask for something the model cannot do.
    Unsupported(String),
    /// The run folder already holds a run (and `--resume` was not given), or holds a
    /// different one than the options describe.
    RunExists(PathBuf, String),
    /// A loss term, the gradient or the updated parameters stopped being finite.
    NonFinite {
        /// Step at which it happened (0-based).
        step: u64,
        /// Which term.
        term: &'static str,
        /// The last good checkpoint, kept as it was: its step and file (`None` when no
        /// checkpoint had been written yet).
        kept: Option<(u64, PathBuf)>,
    },
}

impl fmt::Display for TrainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrainError::Data(e) => e.fmt(f),
            TrainError::Checkpoint(e) => e.fmt(f),
            TrainError::Labels(e) => e.fmt(f),
            TrainError::Io(p, e) => write!(f, "{}: {e}", p.display()),
            TrainError::RunExists(p, why) => write!(f, "{}: {why}", p.display()),
            TrainError::Unsupported(why) => f.write_str(why),
            TrainError::NonFinite { step, term, kept } => {
                write!(
                    f,
                    "training diverged at step {step}: the {term} is not finite; "
                )?;
                match kept {
                    Some((at, p)) => write!(
                        f,
                        "the last good checkpoint (step {at}) is kept at {}",
                        p.display()
                    ),
                    None => write!(f, "no checkpoint had been written yet"),
                }
            }
        }
    }
}

impl std::error::Error for TrainError {}

/// How to run (not what to train: that is the [`RunConfig`]).
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// Folder holding `mnist/` and `fashion/`.
    pub data_dir: PathBuf,
    /// Run folder.
    pub out: PathBuf,
    /// Continue from the run folder's checkpoint (from step 0 when it has none yet).
    pub resume: bool,
    /// Steps between checkpoints (one is always written at the end).
    pub checkpoint_every: u64,
    /// Show a progress bar (or, without a terminal, a line every 10 %).
    pub progress: bool,
    /// Testing aid: the reconstruction term of this step is replaced by NaN, as if training
    /// diverged there (the tests of the divergence stop use it: a real blow-up cannot be
    /// placed after a given checkpoint reliably).
    pub inject_nan_at: Option<u64>,
    /// Threads the steps run on: the checkpoint bytes are the same for every count.
    pub threads: usize,
}

/// Indices of the examples in batch `step`: epochs are fresh permutations of the
/// training set drawn from `(seed, epoch)`, read in order.
pub struct BatchOrder {
    seed: u64,
    n: usize,
    batch: usize,
    epoch: Option<(u64, Vec<u32>)>,
}

impl BatchOrder {
    /// Batches of `batch` from `n` examples.
    pub fn new(seed: u64, n: usize, batch: usize) -> BatchOrder {
        BatchOrder {
            seed,
            n,
            batch,
            epoch: None,
        }
    }

    /// Fills `out` with the indices of batch `step`.
    pub fn indices(&mut self, step: u64, out: &mut Vec<u32>) {
        out.clear();
        let start = step * self.batch as u64;
        for k in 0..self.batch as u64 {
            let pos = start + k;
            let (e, off) = (pos / self.n as u64, (pos % self.n as u64) as usize);
            if self.epoch.as_ref().is_none_or(|(cur, _)| *cur != e) {
                self.epoch = Some((
                    e,
                    Rng::new(self.seed, Stream::Shuffle, e).permutation(self.n),
                ));
            }
            out.push(self.epoch.as_ref().expect("set above").1[off]);
        }
    }
}

/// The label table the label encoder sees for a run (`classes × label_dim`): one-hot rows,
/// or the GloVe vectors of the class names (read from `data_dir`'s GloVe cache).
pub fn label_table(cfg: &RunConfig, data_dir: &Path) -> Result<Array2<f32>, GloveError> {
    match cfg.labels {
        LabelKind::OneHot => Ok(one_hot_table(cfg.arch.classes)),
        LabelKind::Glove => word_table(&Glove::load(data_dir)?, &cfg.dataset.label_names()),
    }
}

/// The GloVe vectors of `names` (phrases: the mean of their words), one row each.
pub fn word_table(glove: &Glove, names: &[&str]) -> Result<Array2<f32>, GloveError> {
    let mut t = Array2::<f32>::zeros((names.len(), crate::data::glove::DIM));
    for (mut row, name) in t.rows_mut().into_iter().zip(names) {
        for (r, v) in row.iter_mut().zip(glove.phrase(name)?) {
            *r = v;
        }
    }
    Ok(t)
}

/// Loads the training split minus the held-out tail and minus the left-out classes.
pub fn training_set(data_dir: &Path, cfg: &RunConfig) -> Result<Labelled, DataError> {
    let all = data::load(data_dir, cfg.dataset, Split::Train)?;
    Ok(all
        .split_tail(cfg.recipe.holdout)
        .0
        .without_classes(&cfg.left_out))
}

/// The training time a run folder's log reports (seconds at its last line), if any.
pub fn logged_seconds(run: &Path) -> Option<f64> {
    let log = std::fs::read_to_string(run.join(files::LOG)).ok()?;
    let last = log.lines().last()?;
    serde_json::from_str::<serde_json::Value>(last).ok()?["seconds"].as_f64()
}

/// Trains (or resumes) a run; returns the final checkpoint, also saved in the run folder.
pub fn train(cfg: RunConfig, opts: &TrainOptions) -> Result<Checkpoint, TrainError> {
    let ck_path = opts.out.join(files::CHECKPOINT);
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |e| TrainError::Io(p, e)
    };
    let kind = cfg.arch.kind;
    if kind.is_baseline() && cfg.labels != LabelKind::OneHot {
        return Err(TrainError::Unsupported(format!(
            "{} is trained on one-hot labels only (its label decoder is a softmax over the \
             classes); use --labels one-hot",
            kind.paper_name()
        )));
    }
    if kind.is_baseline() && cfg.recipe.augment {
        return Err(TrainError::Unsupported(format!(
            "augmentation (--augment, and the robust recipe) trains PSE and PSE* only ({} reconstructs its own input)",
            kind.paper_name()
        )));
    }
    let net = Net::new(cfg.arch);
    let other_options = || {
        TrainError::RunExists(
            opts.out.clone(),
            "was started with other options than these (see its config.json); resume with the options of the first call, or use another --out".into(),
        )
    };
    // The training images and the label table, loaded once the run folder's state is known
    // good and before anything is written to it: a run that cannot start leaves no folder.
    let inputs = || -> Result<(Labelled, Array2<f32>), TrainError> {
        let train = training_set(&opts.data_dir, &cfg).map_err(TrainError::Data)?;
        if train.is_empty() {
            return Err(TrainError::Data(DataError::Unexpected(format!(
                "no training images are left after the held-out tail ({} images) and the \
                 left-out classes ({:?})",
                cfg.recipe.holdout, cfg.left_out
            ))));
        }
        let labels = label_table(&cfg, &opts.data_dir).map_err(TrainError::Labels)?;
        Ok((train, labels))
    };
    let cp = opts.out.join(files::CONFIG);
    let (mut params, mut adam, mut average, start, train, labels) = if opts.resume
        && ck_path.exists()
    {
        let ck = Checkpoint::load(&ck_path).map_err(TrainError::Checkpoint)?;
        if ck.config != cfg {
            return Err(other_options());
        }
        let (train, labels) = inputs()?;
        (ck.params, ck.adam, ck.average, ck.step, train, labels)
    } else {
        if ck_path.exists() {
            return Err(TrainError::RunExists(
                opts.out.clone(),
                "already holds a run: pass --resume to continue it, or choose another --out".into(),
            ));
        }
        // `--resume` on a run stopped before its first checkpoint starts it again from step
        // 0, unless its config.json says it was another run.
        if opts.resume && cp.exists() {
            let same = std::fs::read(&cp)
                .ok()
                .and_then(|b| serde_json::from_slice::<RunConfig>(&b).ok())
                .is_some_and(|c| c == cfg);
            if !same {
                return Err(other_options());
            }
        }
        let (train, labels) = inputs()?;
        std::fs::create_dir_all(&opts.out).map_err(io(&opts.out))?;
        let json = serde_json::to_vec_pretty(&cfg).expect("config serialises");
        write_atomic(&cp, &json).map_err(io(&cp))?;
        let params = net.layout.init(cfg.seed);
        let n = params.len();
        let average = (cfg.recipe.average > 0.0).then(|| params.clone());
        (params, Adam::new(n), average, 0, train, labels)
    };

    let r = cfg.recipe.clone();
    let (b, d) = (r.batch, cfg.arch.latent);
    let mut order = BatchOrder::new(cfg.seed, train.len(), b);
    let mut idx = Vec::with_capacity(b);
    let mut xb = Array2::<f32>::zeros((b, cfg.arch.pixels));
    // With augmentation, the encoder reads transformed images and the decoder is scored
    // against the originals in `xb`.
    let mut xa = Array2::<f32>::zeros(if r.augment {
        (b, cfg.arch.pixels)
    } else {
        (0, 0)
    });
    let mut yb = vec![0u8; b];
    let mut eps = Array2::<f32>::zeros((b * kind.noise_draws(), d));
    let mut sharded = ShardedStep::new(b, r.shards, params.len());

    let log_path = opts.out.join(files::LOG);
    let mut log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(io(&log_path))?;
    let bar = progress_bar(opts.progress, r.steps, start);
    let t0 = Instant::now();
    let mut avg = Terms::default();
    let mut avg_n = 0u32;
    let mut last_line = start;
    // The checkpoint on disk: the one resumed from, then each one written below.
    let mut kept = (start > 0).then(|| (start, ck_path.clone()));
    let save = |step: u64, params: &[f32], adam: &Adam, average: &Option<Vec<f32>>| {
        let ck = Checkpoint {
            config: cfg.clone(),
            step,
            params: params.to_vec(),
            adam: adam.clone(),
            average: average.clone(),
        };
        ck.save(&ck_path).map_err(TrainError::Checkpoint)
    };

    for step in start..r.steps {
        order.indices(step, &mut idx);
        for (k, &i) in idx.iter().enumerate() {
            xb.row_mut(k).assign(&train.x.row(i as usize));
            yb[k] = train.y[i as usize];
        }
        if r.augment {
            augment_batch(xb.view(), xa.view_mut(), cfg.seed, step, opts.threads);
        }
        Rng::new(cfg.seed, Stream::Noise, step)
            .fill_normal(eps.as_slice_mut().expect("contiguous"));
        let w = Weights {
            kl: r.kl_weight_at(step),
            ce: r.ce_weight,
        };
        let (x_in, target) = if r.augment {
            (xa.view(), Some(xb.view()))
        } else {
            (xb.view(), None)
        };
        let mut t = sharded.run(
            &net,
            &params,
            labels.view(),
            x_in,
            target,
            &yb,
            eps.view(),
            w,
            opts.threads,
        );
        if opts.inject_nan_at == Some(step) {
            t.bce = f64::NAN;
        }
        for (term, v) in [
            ("reconstruction term", t.bce),
            ("KL term", t.kl),
            ("classifier term", t.ce),
        ] {
            if !v.is_finite() {
                return Err(TrainError::NonFinite { step, term, kept });
            }
        }
        let grads: Vec<(&[f32], f32)> = sharded.grads().collect();

        // The parameters of `step` gave finite terms and a finite gradient: only such
        // parameters are checkpointed, so the file kept when training diverges is a good one.
        if step > start && step % opts.checkpoint_every == 0 {
            if !adam::gradient_is_finite(&grads) {
                return Err(diverged(step, "gradient", kept));
            }
            save(step, &params, &adam, &average)?;
            kept = Some((step, ck_path.clone()));
        }
        let check = adam.update_sum(
            &mut params,
            &grads,
            r.lr_at(step),
            average.as_deref_mut().map(|a| (a, r.average)),
            opts.threads,
        );
        if !check.grad_finite {
            return Err(diverged(step, "gradient", kept));
        }
        if !check.params_finite {
            return Err(diverged(step, "parameter vector after the update", kept));
        }
        avg.bce += t.bce;
        avg.kl += t.kl;
        avg.ce += t.ce;
        avg_n += 1;

        let done = step + 1;
        if done % 50 == 0 || done == r.steps {
            let k = avg_n as f64;
            let m = Terms {
                bce: avg.bce / k,
                kl: avg.kl / k,
                ce: avg.ce / k,
            };
            (avg, avg_n) = (Terms::default(), 0);
            let line = format!(
                "{{\"step\":{done},\"bce\":{:.4},\"kl\":{:.4},\"ce\":{:.5},\"lr\":{:.3e},\"kl_weight\":{:.4},\"seconds\":{:.2}}}\n",
                m.bce,
                m.kl,
                m.ce,
                r.lr_at(step),
                w.kl,
                t0.elapsed().as_secs_f64()
            );
            log.write_all(line.as_bytes()).map_err(io(&log_path))?;
            let msg = format!("bce {:.1}  kl {:.2}  ce {:.3}", m.bce, m.kl, m.ce);
            bar.set_position(done);
            bar.set_message(msg.clone());
            let plain = opts.progress && bar.is_hidden();
            if plain && ((done - last_line) * 10 >= r.steps || done == r.steps) {
                let rate = (done - start) as f64 / t0.elapsed().as_secs_f64();
                let eta = (r.steps - done) as f64 / rate.max(1e-9);
                eprintln!(
                    "step {done}/{}  {msg}  {rate:.1} steps/s  ETA {}m{:02}s",
                    r.steps,
                    (eta / 60.0) as u64,
                    eta as u64 % 60
                );
                last_line = done;
            }
        }
    }
    bar.finish_and_clear();
    if start >= r.steps {
        return Checkpoint::load(&ck_path).map_err(TrainError::Checkpoint);
    }
    save(r.steps, &params, &adam, &average)?;
    Ok(Checkpoint {
        config: cfg,
        step: r.steps,
        params,
        adam,
        average,
    })
}

fn diverged(step: u64, term: &'static str, kept: Option<(u64, PathBuf)>) -> TrainError {
    TrainError::NonFinite { step, term, kept }
}

fn progress_bar(show: bool, steps: u64, start: u64) -> ProgressBar {
    let target = if show && std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(steps), target);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} steps  {msg}  {per_sec}  ETA {eta}")
            .expect("valid template"),
    );
    bar.set_position(start);
    bar.reset_eta();
    bar
}

/// Writes an augmented copy of each row of `xb` into `xa`, row `k` of step `step` drawn from
/// its own stream (so resumed runs and every thread count give the same bytes), the rows
/// split over up to `threads` threads.
fn augment_batch(
    xb: ArrayView2<f32>,
    mut xa: ArrayViewMut2<f32>,
    seed: u64,
    step: u64,
    threads: usize,
) {
    let b = xb.nrows();
    let one = |k0: usize, mut dst: ArrayViewMut2<f32>| {
        for (k, mut row) in (k0..).zip(dst.rows_mut()) {
            let mut rng = Rng::new(seed, Stream::Augment, step * b as u64 + k as u64);
            let src = xb.row(k);
            let (src, dst) = (src.as_slice(), row.as_slice_mut());
            augment::random(src.expect("contiguous"), dst.expect("contiguous"), &mut rng);
        }
    };
    let per = b.div_ceil(threads.clamp(1, b.max(1)));
    if per >= b {
        return one(0, xa);
    }
    std::thread::scope(|scope| {
        let mut chunks = xa.axis_chunks_iter_mut(Axis(0), per).enumerate();
        let first = chunks.next();
        for (c, chunk) in chunks {
            scope.spawn(move || one(c * per, chunk));
        }
        if let Some((_, chunk)) = first {
            one(0, chunk);
        }
    });
}
