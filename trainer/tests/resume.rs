//! Interruption and divergence, on a real `pse-trainer train` process: killed with SIGKILL
//! and resumed, it ends with exactly the bytes of an uninterrupted run; a kill at any moment
//! leaves a checkpoint that loads; a diverging run stops with one line naming the step and
//! the term, and keeps its last good checkpoint.

use pse_trainer::train::checkpoint::Checkpoint;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::synthetic_data;
const BIN: &str = env!("CARGO_BIN_EXE_pse-trainer");
const SIGKILL: i32 = 9;

/// `train` arguments for a small run of `steps` steps into `out`.
fn train_args(out: &Path, data: &Path, steps: u64, every: u64, extra: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = [
        "train",
        "--latent",
        "2",
        "--batch",
        "10",
        "--holdout",
        "50",
        "--seed",
        "5",
        "--quiet",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for (k, v) in [
        ("--steps", steps.to_string()),
        ("--checkpoint-every", every.to_string()),
        ("--out", out.display().to_string()),
        ("--data", data.display().to_string()),
    ] {
        a.push(k.into());
        a.push(v);
    }
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

fn spawn(args: &[String]) -> Child {
    Command::new(BIN)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary starts")
}

fn run(args: &[String]) -> Output {
    Command::new(BIN).args(args).output().expect("binary runs")
}

fn ok(o: Output) -> Output {
    assert!(
        o.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn checkpoint(run: &Path) -> PathBuf {
    run.join("checkpoint.bin")
}

/// The checkpoint's step, if the run folder holds one; panics if it holds a damaged one.
fn loads(run: &Path) -> Option<u64> {
    let p = checkpoint(run);
    if !p.exists() {
        return None;
    }
    let ck = Checkpoint::load(&p).unwrap_or_else(|e| panic!("damaged checkpoint: {e}"));
    Some(ck.step)
}

/// Kills `child` with SIGKILL; returns false if it had already finished by itself.
fn kill(mut child: Child) -> bool {
    child.kill().unwrap();
    let status = child.wait().unwrap();
    if status.signal() == Some(SIGKILL) {
        return true;
    }
    assert!(status.success(), "the run failed before the kill: {status}");
    false
}

#[test]
fn killed_and_resumed_run_ends_with_the_bytes_of_an_uninterrupted_one() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    synthetic_data(&data, 300, 10);
    let (whole, cut) = (tmp.path().join("whole"), tmp.path().join("cut"));
    let (steps, every) = (200, 10);

    // Both at once: the uninterrupted reference, and the run to kill (with the weights'
    // moving average, which the checkpoint must carry too, and augmented images, drawn from
    // (seed, step, row)).
    let avg = ["--average", "0.9", "--augment"];
    let reference = spawn(&train_args(&whole, &data, steps, every, &avg));
    let victim = spawn(&train_args(&cut, &data, steps, every, &avg));
    // Kill it once it holds a checkpoint from the middle of the run.
    let t0 = Instant::now();
    let at = loop {
        if let Some(step) = loads(&cut).filter(|&s| s >= 3 * every) {
            break step;
        }
        assert!(t0.elapsed() < Duration::from_secs(120), "no checkpoint");
        std::thread::sleep(Duration::from_millis(2));
    };
    assert!(kill(victim), "the run finished before it could be killed");
    let killed_at = loads(&cut).unwrap();
    assert!(
        killed_at >= at && killed_at < steps,
        "killed with its checkpoint at step {killed_at}"
    );

    // `--resume --out RUN` alone: the run's options come from its config.json.
    let resume: Vec<String> = ["train", "--resume", "--quiet", "--out"]
        .iter()
        .map(|s| s.to_string())
        .chain([
            cut.display().to_string(),
            "--data".into(),
            data.display().to_string(),
        ])
        .collect();
    ok(run(&resume));
    let o = reference.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (a, b) = (
        std::fs::read(checkpoint(&whole)).unwrap(),
        std::fs::read(checkpoint(&cut)).unwrap(),
    );
    assert_eq!(Checkpoint::load(&checkpoint(&cut)).unwrap().step, steps);
    assert!(
        a == b,
        "resumed from step {killed_at}: the final checkpoint differs from the uninterrupted run's"
    );
}

/// The same seed and shards give the same checkpoint bytes on 1, 2 or 3 threads (with the
/// recipe's 2 shards and with 3; with 3 shards the augmented images are drawn on every
/// thread too).
#[test]
fn the_thread_count_changes_no_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    synthetic_data(&data, 300, 10);
    for (shards, augment) in [("2", None), ("3", Some("--augment"))] {
        let mut bytes = Vec::new();
        for threads in ["1", "2", "3"] {
            let out = tmp.path().join(format!("s{shards}-t{threads}"));
            let mut extra = vec!["--shards", shards, "--threads", threads, "--average", "0.9"];
            extra.extend(augment);
            ok(run(&train_args(&out, &data, 40, 20, &extra)));
            bytes.push(std::fs::read(checkpoint(&out)).unwrap());
        }
        assert!(
            bytes.windows(2).all(|w| w[0] == w[1]),
            "{shards} shards: the thread count changed the checkpoint"
        );
    }
}

/// A small xorshift generator for the kill times (seeded from the clock, printed).
struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[test]
fn kills_at_random_moments_never_damage_the_checkpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    synthetic_data(&data, 300, 10);
    let (whole, cut) = (tmp.path().join("whole"), tmp.path().join("cut"));
    // A checkpoint every step: the kills often land inside a write.
    let (steps, every) = (60, 1);
    let reference = spawn(&train_args(&whole, &data, steps, every, &[]));

    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    let mut rng = XorShift(seed);
    let mut kills = Vec::new();
    for attempt in 0.. {
        // Every call is `--resume`: before the first checkpoint it starts from step 0.
        let args = train_args(&cut, &data, steps, every, &["--resume"]);
        if attempt == 8 {
            ok(run(&args));
            break;
        }
        let child = spawn(&args);
        let ms = rng.below(700);
        std::thread::sleep(Duration::from_millis(ms));
        let killed = kill(child);
        let step = loads(&cut);
        if !killed {
            break;
        }
        kills.push((ms, step));
    }
    // A kill inside a write leaves the temporary file beside the checkpoint.
    let inside_a_write = std::fs::read_dir(&cut)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with(".checkpoint.bin.tmp")
        })
        .count();
    println!(
        "kill seed {seed}: (ms after start, checkpoint step) = {kills:?}; \
         {inside_a_write} kill(s) inside a checkpoint write"
    );
    assert!(!kills.is_empty());

    let o = reference.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        std::fs::read(checkpoint(&whole)).unwrap(),
        std::fs::read(checkpoint(&cut)).unwrap(),
        "kill seed {seed}, kills {kills:?}: the final checkpoint differs from the uninterrupted run's"
    );
}

#[test]
fn divergence_names_step_and_term_and_keeps_the_last_good_checkpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    synthetic_data(&data, 300, 10);

    // An absurd learning rate: the first update sends the weights to ~1e30.
    let first = tmp.path().join("first");
    let o = run(&train_args(&first, &data, 50, 5, &["--lr", "1e30"]));
    assert_eq!(o.status.code(), Some(1));
    let e = String::from_utf8_lossy(&o.stderr);
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(
        e.starts_with("error: training diverged at step 1: the ")
            && e.contains(" is not finite; no checkpoint had been written yet"),
        "{e}"
    );
    assert!(loads(&first).is_none());

    // A run that goes well for 23 steps, writing checkpoints, then blows up. (A real blow-up
    // cannot be placed after a checkpoint reliably: a learning rate ramped up to 100 and
    // beyond still trains, its ReLUs dead; so the run's hidden testing option makes step
    // 23's loss NaN.)
    let late = tmp.path().join("late");
    let every = 5;
    // (The paper's recipe: a constant learning rate, so step 20 does not depend on --steps.)
    let paper = ["--recipe", "paper"];
    let args = train_args(
        &late,
        &data,
        50,
        every,
        &[&paper[..], &["--inject-nan-at", "23"]].concat(),
    );
    let o = run(&args);
    assert_eq!(o.status.code(), Some(1));
    let e = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(
        e.trim_end(),
        format!(
            "error: training diverged at step 23: the reconstruction term is not finite; \
             the last good checkpoint (step 20) is kept at {}",
            checkpoint(&late).display()
        )
    );
    let ck = Checkpoint::load(&checkpoint(&late)).unwrap();
    assert_eq!(ck.step, 20);
    assert!(ck.params.iter().all(|p| p.is_finite()));
    // ... and it is the checkpoint an undisturbed run writes at step 20.
    let twin = tmp.path().join("twin");
    ok(run(&train_args(&twin, &data, 20, every, &paper)));
    assert_eq!(
        ck.params,
        Checkpoint::load(&checkpoint(&twin)).unwrap().params
    );

    // Resumed, it diverges again at the same step, and keeps the same checkpoint.
    let o = run(&[args, vec!["--resume".into()]].concat());
    assert_eq!(String::from_utf8_lossy(&o.stderr), e);
    assert_eq!(Checkpoint::load(&checkpoint(&late)).unwrap(), ck);
    // Without the fault, the resumed run finishes.
    ok(run(&train_args(
        &late,
        &data,
        50,
        every,
        &[&paper[..], &["--resume"]].concat(),
    )));
    assert_eq!(loads(&late), Some(50));
}
