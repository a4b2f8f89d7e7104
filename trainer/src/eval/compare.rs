//! `pse-trainer compare`: every model of the paper's Tables 1 and 2 (CVAE, JMVAE, TrELBO,
//! SCAN, PSE, PSE*, and PSE* at a second latent size) trained under one recipe over several
//! seeds, evaluated by the same code, tabulated beside the paper's numbers; plus the 2-D
//! latent spaces of all models side by side (the paper's Fig. 2).
//!
//! Every run keeps its own folder under the output folder; a run whose `metrics.json` is
//! already there for the same configuration is not trained again, so an interrupted
//! comparison continues where it stopped.

use crate::atomic::write_atomic;
use crate::data::{Dataset, PIXELS};
use crate::eval::judge::Judge;
use crate::eval::stats::mean_std;
use crate::eval::{self, EvalOptions, Metrics, paper_numbers};
use crate::nn::model::{Arch, Kind, PAPER_HIDDEN};
use crate::report::picture::{Canvas, tile};
use crate::report::plot::latent_scatter;
use crate::train::checkpoint::{Checkpoint, LabelKind, RunConfig};
use crate::train::recipe::Recipe;
use crate::train::{self, TrainOptions};
use clap::ValueEnum;
use std::collections::VecDeque;
use std::error::Error;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

/// What to compare and where.
#[derive(Debug, Clone)]
pub struct CompareOptions {
    /// Dataset.
    pub dataset: Dataset,
    /// Latent dimension of the table's rows.
    pub latent: usize,
    /// Seeds `0..seeds` per model.
    pub seeds: u64,
    /// The recipe every model trains with.
    pub recipe: Recipe,
    /// Models in the table, in order.
    pub models: Vec<Kind>,
    /// Also train PSE* at this latent dimension, when PSE* is one of `models` (the paper's
    /// last row: 20).
    pub extra_latent: Option<usize>,
    /// Latent dimension of the side-by-side figure (`None`: no figure).
    pub figure_latent: Option<usize>,
    /// Output folder (one subfolder per run, `comparison.md`, `latent-<d>d.png`).
    pub out: PathBuf,
    /// Folder with the datasets.
    pub data_dir: PathBuf,
    /// Generation sampling.
    pub eval: EvalOptions,
    /// Runs trained at the same time.
    pub jobs: usize,
    /// Threads in all: each of the `jobs` runs trains and evaluates on `threads / jobs` of
    /// them (at least one). The results are the same for every count.
    pub threads: usize,
}

/// One training run of the comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// Its configuration.
    pub config: RunConfig,
    /// Its folder.
    pub dir: PathBuf,
    /// Whether it is evaluated (the figure's runs are only drawn).
    pub evaluate: bool,
}

/// The command-line name of a kind (`pse-star`, `cvae`, …).
pub fn slug(kind: Kind) -> String {
    kind.to_possible_value()
        .map(|v| v.get_name().to_string())
        .unwrap_or_else(|| kind.paper_name().to_lowercase())
}

fn config(o: &CompareOptions, kind: Kind, latent: usize, seed: u64) -> RunConfig {
    let classes = o.dataset.label_names().len();
    RunConfig {
        dataset: o.dataset,
        arch: Arch {
            kind,
            latent,
            label_dim: LabelKind::OneHot.label_dim(classes),
            classes,
            pixels: PIXELS,
            hidden: PAPER_HIDDEN,
        },
        labels: LabelKind::OneHot,
        seed,
        recipe: o.recipe.clone(),
        left_out: Vec::new(),
    }
}

/// Every run the comparison needs: the table's (model × seed, then PSE* at the extra
/// latent × seed), then the figure's (model, seed 0).
pub fn plan(o: &CompareOptions) -> Vec<Job> {
    let mut jobs = Vec::new();
    let mut rows: Vec<(Kind, usize)> = o.models.iter().map(|&k| (k, o.latent)).collect();
    let extra = o.extra_latent.filter(|&d| d != o.latent);
    if let Some(d) = extra.filter(|_| o.models.contains(&Kind::PseStar)) {
        rows.push((Kind::PseStar, d));
    }
    for (kind, d) in rows {
        for seed in 0..o.seeds {
            jobs.push(Job {
                config: config(o, kind, d, seed),
                dir: o.out.join(format!("{}-{d}d-s{seed}", slug(kind))),
                evaluate: true,
            });
        }
    }
    if let Some(d) = o.figure_latent {
        for &kind in &o.models {
            let dir = o.out.join(format!("{}-{d}d-s0", slug(kind)));
            if jobs.iter().all(|j| j.dir != dir) {
                jobs.push(Job {
                    config: config(o, kind, d, 0),
                    dir,
                    evaluate: false,
                });
            }
        }
    }
    jobs
}

/// The metrics a run left, if they were measured after its last step with `eval`'s
/// sampling.
fn metrics(job: &Job, eval: EvalOptions) -> Option<Metrics> {
    let bytes = std::fs::read(job.dir.join(METRICS)).ok()?;
    let m: Metrics = serde_json::from_slice(&bytes).ok()?;
    (m.steps == job.config.recipe.steps
        && m.generation_repeats == eval.repeats
        && m.generation_samples_per_label == eval.samples_per_label)
        .then_some(m)
}

/// Whether a run is complete: trained to its last step with its configuration, and
/// evaluated with `eval`'s sampling if it is one of the table's. (An incomplete one is
/// trained on from its checkpoint, or only evaluated again.)
fn is_done(job: &Job, eval: EvalOptions) -> bool {
    let trained = Checkpoint::load(&job.dir.join(train::files::CHECKPOINT))
        .is_ok_and(|ck| ck.config == job.config && ck.step >= job.config.recipe.steps);
    trained && (!job.evaluate || metrics(job, eval).is_some())
}

/// File name of a run's metrics (as `pse-trainer eval` writes them).
pub const METRICS: &str = "metrics.json";

type BoxError = Box<dyn Error + Send + Sync>;

/// Threads each of the runs trained at the same time gets.
pub fn threads_per_job(o: &CompareOptions) -> usize {
    (o.threads / o.jobs.max(1)).max(1)
}

fn run_job(job: &Job, o: &CompareOptions) -> Result<(), BoxError> {
    let opts = TrainOptions {
        data_dir: o.data_dir.clone(),
        out: job.dir.clone(),
        resume: true,
        checkpoint_every: 1000,
        progress: false,
        inject_nan_at: None,
        threads: threads_per_job(o),
    };
    let ck = train::train(job.config.clone(), &opts).map_err(|e| e.to_string())?;
    if job.evaluate {
        let eval = EvalOptions {
            threads: threads_per_job(o),
            ..o.eval
        };
        let m = eval::evaluate(&ck, &o.data_dir, eval).map_err(|e| e.to_string())?;
        let path = job.dir.join(METRICS);
        write_atomic(&path, &serde_json::to_vec_pretty(&m)?)
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

/// Trains and evaluates every planned run not finished yet, `o.jobs` at a time; reports
/// each as it ends on standard error. Stops taking new runs after the first failure and
/// returns it (finished runs stay on disk).
pub fn run_all(o: &CompareOptions) -> Result<(), BoxError> {
    // The judge is trained once, before runs evaluate in parallel.
    Judge::load_or_train(&o.data_dir, o.dataset, true).map_err(|e| e.to_string())?;
    let jobs = plan(o);
    let todo: VecDeque<&Job> = jobs.iter().filter(|j| !is_done(j, o.eval)).collect();
    let total = todo.len();
    eprintln!(
        "compare: {} runs planned, {} already done, {total} to train or evaluate ({} at a time)",
        jobs.len(),
        jobs.len() - total,
        o.jobs
    );
    let queue = Mutex::new(todo);
    let failure: Mutex<Option<BoxError>> = Mutex::new(None);
    let done = Mutex::new(0usize);
    let t0 = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..o.jobs.max(1) {
            s.spawn(|| {
                loop {
                    if failure.lock().expect("not poisoned").is_some() {
                        return;
                    }
                    let Some(job) = queue.lock().expect("not poisoned").pop_front() else {
                        return;
                    };
                    let started = Instant::now();
                    // A panic in one run stops the others from starting, as an error does.
                    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        run_job(job, o)
                    }))
                    .unwrap_or_else(|_| Err("panicked (see the message above)".into()));
                    let mut n = done.lock().expect("not poisoned");
                    *n += 1;
                    let so_far = t0.elapsed().as_secs_f64();
                    // Runs differ in cost (TrELBO decodes twice): a rough ETA.
                    let left = so_far / *n as f64 * (total - *n) as f64;
                    match result {
                        Ok(()) => eprintln!(
                            "compare: [{}/{total}] {} in {:.0} s ({:.0} s so far, about {:.0} min left)",
                            *n,
                            job.dir.display(),
                            started.elapsed().as_secs_f64(),
                            so_far,
                            left / 60.0
                        ),
                        Err(e) => {
                            let e: BoxError = format!("{}: {e}", job.dir.display()).into();
                            failure.lock().expect("not poisoned").get_or_insert(e);
                        }
                    }
                }
            });
        }
    });
    match failure.into_inner().expect("not poisoned") {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// A table row: model, latent size, and each seed's metrics with its training time.
type Row = (Kind, usize, Vec<(Metrics, Option<f64>)>);

/// The comparison table (Markdown): one row per model and latent size, mean ± sample
/// standard deviation over seeds, the paper's numbers beside.
pub fn table(o: &CompareOptions) -> Result<String, BoxError> {
    let jobs = plan(o);
    let mut rows: Vec<Row> = Vec::new();
    for job in jobs.iter().filter(|j| j.evaluate) {
        if !is_done(job, o.eval) {
            return Err(format!("{}: not trained and evaluated yet", job.dir.display()).into());
        }
        let m = metrics(job, o.eval).ok_or_else(|| format!("{}: no metrics", job.dir.display()))?;
        // For a run resumed after an interruption: the time of its last session.
        let secs = train::logged_seconds(&job.dir);
        let (kind, d) = (job.config.arch.kind, job.config.arch.latent);
        match rows.iter_mut().find(|r| r.0 == kind && r.1 == d) {
            Some(r) => r.2.push((m, secs)),
            None => rows.push((kind, d, vec![(m, secs)])),
        }
    }
    let r = &o.recipe;
    let mut t = format!(
        "{}, {} recipe ({} steps, batch {}), seeds 0–{}, one-hot labels; generation: {} repeats × {} images per label{}\n\n",
        o.dataset,
        r.name,
        r.steps,
        r.batch,
        o.seeds.saturating_sub(1),
        o.eval.repeats,
        o.eval.samples_per_label,
        if o.seeds > 1 {
            "; mean ± std over seeds"
        } else {
            "; one seed: generation ± over the repeats"
        }
    );
    t += "| model | reconstruction (nats) | annotation (%) | generation (%) | train time (s) | paper: rec / ann / gen |\n|---|---|---|---|---|---|\n";
    for (kind, d, runs) in &rows {
        let pm = |v: Vec<f64>, digits: usize| {
            let (m, s) = mean_std(&v);
            if v.len() > 1 {
                format!("{m:.digits$} ± {s:.digits$}")
            } else {
                format!("{m:.digits$}")
            }
        };
        let rec = pm(runs.iter().map(|r| r.0.reconstruction).collect(), 1);
        let ann = runs
            .iter()
            .map(|r| r.0.annotation_accuracy.map(|a| 100.0 * a))
            .collect::<Option<Vec<f64>>>()
            .map_or("N/A".to_string(), |a| pm(a, 2));
        let gen_acc = match runs.as_slice() {
            // One seed: ± over the generation repeats, as the paper reports it.
            [(m, _)] => format!(
                "{:.2} ± {:.2}",
                100.0 * m.generation_accuracy,
                100.0 * m.generation_std
            ),
            _ => pm(
                runs.iter()
                    .map(|r| 100.0 * r.0.generation_accuracy)
                    .collect(),
                2,
            ),
        };
        let secs: Vec<f64> = runs.iter().filter_map(|r| r.1).collect();
        let time = if secs.is_empty() {
            "—".to_string()
        } else {
            format!("{:.0}", mean_std(&secs).0)
        };
        let paper = paper_numbers(o.dataset, *kind, *d, LabelKind::OneHot).map_or(
            "not reported".to_string(),
            |p| {
                let a = p.1.map_or("N/A".to_string(), |a| format!("{a:.1}"));
                let g = p.2.map_or("—".to_string(), |g| format!("{g:.1}"));
                format!("{:.1} / {a} / {g}", p.0)
            },
        );
        t += &format!(
            "| {} {d}D | {rec} | {ann} | {gen_acc} | {time} | {paper} |\n",
            kind.paper_name()
        );
    }
    if let Some(first) = rows.first().and_then(|r| r.2.first()) {
        t += &format!(
            "\njudge classifier: {:.2} % on training images, {:.2} % on test images\n",
            100.0 * first.0.judge_train_accuracy,
            100.0 * first.0.judge_test_accuracy
        );
    }
    Ok(t)
}

/// The figure: each model's test-image means in its `figure_latent`-D space, side by side
/// (three to a row); `None` when no figure was asked for.
pub fn figure(o: &CompareOptions) -> Result<Option<Canvas>, BoxError> {
    let Some(d) = o.figure_latent else {
        return Ok(None);
    };
    let mut panels = Vec::new();
    for &kind in &o.models {
        let dir = o.out.join(format!("{}-{d}d-s0", slug(kind)));
        let ck = Checkpoint::load(&dir.join(train::files::CHECKPOINT))
            .map_err(|e| format!("{}: {e}", dir.display()))?;
        panels.push(latent_scatter(&ck, &o.data_dir, 520).map_err(|e| e.to_string())?);
    }
    Ok(Some(tile(&panels, 3)))
}

/// Where [`figure`] is written.
pub fn figure_path(o: &CompareOptions) -> Option<PathBuf> {
    o.figure_latent
        .map(|d| o.out.join(format!("latent-{d}d.png")))
}

/// Where [`table`] is written.
pub fn table_path(out: &Path) -> PathBuf {
    out.join("comparison.md")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> CompareOptions {
        CompareOptions {
            dataset: Dataset::Mnist,
            latent: 10,
            seeds: 2,
            recipe: Recipe::paper(),
            models: Kind::ALL.to_vec(),
            extra_latent: Some(20),
            figure_latent: Some(2),
            out: PathBuf::from("cmp"),
            data_dir: PathBuf::from("data"),
            eval: EvalOptions {
                samples_per_label: 10,
                repeats: 2,
                progress: false,
                threads: 1,
            },
            jobs: 2,
            threads: 5,
        }
    }

    #[test]
    fn plan_has_every_model_and_seed_then_the_extra_row_then_the_figure() {
        assert_eq!(threads_per_job(&opts()), 2);
        let jobs = plan(&opts());
        assert_eq!(jobs.len(), 6 * 2 + 2 + 6);
        assert_eq!(jobs[0].dir, PathBuf::from("cmp/cvae-10d-s0"));
        assert_eq!(jobs[1].dir, PathBuf::from("cmp/cvae-10d-s1"));
        assert_eq!(jobs[12].dir, PathBuf::from("cmp/pse-star-20d-s0"));
        assert_eq!(jobs[14].dir, PathBuf::from("cmp/cvae-2d-s0"));
        assert!(jobs[..14].iter().all(|j| j.evaluate));
        assert!(
            jobs[14..]
                .iter()
                .all(|j| !j.evaluate && j.config.arch.latent == 2)
        );
        assert!(jobs.iter().all(|j| j.config.labels == LabelKind::OneHot));
        // The figure reuses a table run of the same latent size instead of training twice.
        let same = CompareOptions {
            figure_latent: Some(10),
            ..opts()
        };
        assert_eq!(plan(&same).len(), 14);
    }
}
