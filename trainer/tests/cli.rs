//! End-to-end tests of the `pse-trainer` binary on a small synthetic IDX dataset.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::synthetic_data;
const BIN: &str = env!("CARGO_BIN_EXE_pse-trainer");

fn run(args: &[&str], data: &Path) -> Output {
    Command::new(BIN)
        .args(args)
        .arg("--data")
        .arg(data)
        .output()
        .expect("binary runs")
}

fn ok(o: Output) -> Output {
    assert!(
        o.status.success(),
        "failed: {}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn err_line(o: &Output) -> String {
    assert!(!o.status.success(), "expected a failure");
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn train_args(out: &Path, seed: &str) -> Vec<String> {
    [
        "train",
        "--latent",
        "2",
        "--steps",
        "30",
        "--batch",
        "20",
        "--holdout",
        "50",
        "--seed",
        seed,
        "--quiet",
        "--checkpoint-every",
        "10",
        "--out",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([out.to_string_lossy().to_string()])
    .collect()
}

fn train(out: &Path, seed: &str, data: &Path) -> Vec<u8> {
    let args = train_args(out, seed);
    ok(run(
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
        data,
    ));
    std::fs::read(out.join("checkpoint.bin")).unwrap()
}

#[test]
fn same_seed_same_bytes_then_eval_and_plot() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    synthetic_data(&data, 400, 100);
    let (a, b, c) = (
        tmp.path().join("a"),
        tmp.path().join("b"),
        tmp.path().join("c"),
    );
    let ka = train(&a, "7", &data);
    assert_eq!(
        ka,
        train(&b, "7", &data),
        "same seed must give identical checkpoint bytes"
    );
    assert_ne!(
        ka,
        train(&c, "8", &data),
        "another seed must give other bytes"
    );
    let config = std::fs::read_to_string(a.join("config.json")).unwrap();
    assert!(
        config.contains("\"steps\": 30") && config.contains("\"batch\": 20"),
        "{config}"
    );
    assert!(
        std::fs::read_to_string(a.join("train-log.jsonl"))
            .unwrap()
            .lines()
            .count()
            >= 1
    );

    let o = ok(run(
        &[
            "eval",
            a.to_str().unwrap(),
            "--samples",
            "20",
            "--repeats",
            "2",
            "--quiet",
        ],
        &data,
    ));
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(table.contains("annotation accuracy"), "{table}");
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.join("metrics.json")).unwrap()).unwrap();
    for k in [
        "annotation_accuracy",
        "generation_accuracy",
        "judge_test_accuracy",
    ] {
        let v = m[k].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&v), "{k} = {v}");
    }
    assert!(m["reconstruction"].as_f64().unwrap() > 0.0);
    // The judge is cached for the next evaluation.
    assert!(data.join("cache").read_dir().unwrap().count() == 1);

    let o = ok(run(&["plot", a.to_str().unwrap()], &data));
    let listed: Vec<PathBuf> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(PathBuf::from)
        .collect();
    assert_eq!(listed.len(), 3);
    for p in listed {
        let bytes = std::fs::read(&p).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{}", p.display());
    }
}

#[test]
fn bad_input_gives_one_clear_line() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("nothing-here");
    let out = tmp.path().join("run");
    let e = err_line(&run(
        &["train", "--steps", "5", "--out", out.to_str().unwrap()],
        &empty,
    ));
    assert!(
        e.contains("is missing") && e.contains("scripts/fetch-data.sh"),
        "{e}"
    );

    let e = err_line(&run(&["eval", tmp.path().to_str().unwrap()], &empty));
    assert!(e.contains("no checkpoint here"), "{e}");

    // A corrupt checkpoint is named as such.
    let bad = tmp.path().join("bad");
    std::fs::create_dir_all(&bad).unwrap();
    std::fs::write(
        bad.join("checkpoint.bin"),
        b"PSECKPT\0garbage garbage garbage",
    )
    .unwrap();
    let e = err_line(&run(&["eval", bad.to_str().unwrap()], &empty));
    assert!(e.contains("not a usable checkpoint"), "{e}");

    // Out-of-range arguments are refused by the parser.
    let e = err_line(&run(&["train", "--latent", "0", "--out", "x"], &empty));
    assert!(e.contains("--latent"), "{e}");
    let e = err_line(&run(&["train", "--recipe", "fast", "--out", "x"], &empty));
    assert!(e.contains("paper") && e.contains("default"), "{e}");
}

#[test]
fn existing_run_is_not_overwritten() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    synthetic_data(&data, 200, 20);
    let out = tmp.path().join("run");
    let first = train(&out, "1", &data);
    let args = train_args(&out, "1");
    let e = err_line(&run(
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
        &data,
    ));
    assert!(e.contains("--resume"), "{e}");
    assert_eq!(std::fs::read(out.join("checkpoint.bin")).unwrap(), first);
    // Resuming a finished run leaves it as it is.
    let mut resume = args.clone();
    resume.push("--resume".into());
    ok(run(
        &resume.iter().map(String::as_str).collect::<Vec<_>>(),
        &data,
    ));
    assert_eq!(std::fs::read(out.join("checkpoint.bin")).unwrap(), first);
}
