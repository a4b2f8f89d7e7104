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

    // The thread count changes no figure; --json prints metrics.json's content.
    for threads in ["1", "3"] {
        let o = ok(run(
            &[
                "eval",
                a.to_str().unwrap(),
                "--samples",
                "20",
                "--repeats",
                "2",
                "--quiet",
                "--json",
                "--threads",
                threads,
            ],
            &data,
        ));
        let printed: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(printed, m, "{threads} threads");
    }

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

#[test]
fn compare_trains_every_model_tabulates_and_continues() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    synthetic_data(&data, 400, 100);
    let out = tmp.path().join("cmp");
    let args = [
        "compare",
        "--latent",
        "3",
        "--seeds",
        "2",
        "--steps",
        "15",
        "--holdout",
        "50",
        "--extra-latent",
        "4",
        "--figure-latent",
        "2",
        "--samples",
        "20",
        "--repeats",
        "2",
        "--out",
        out.to_str().unwrap(),
    ];
    let o = ok(run(&args, &data));
    let table = std::fs::read_to_string(out.join("comparison.md")).unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout), table);
    let rows: Vec<&str> = table
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| model"))
        .collect();
    let names: Vec<&str> = rows
        .iter()
        .map(|r| r.split(" | ").next().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "| CVAE 3D",
            "| JMVAE 3D",
            "| TrELBO 3D",
            "| SCAN 3D",
            "| PSE 3D",
            "| PSE* 3D",
            "| PSE* 4D"
        ],
        "{table}"
    );
    // The CVAE cannot annotate; every row is a mean ± std over the two seeds.
    assert!(rows[0].contains("| N/A |"), "{table}");
    assert!(
        rows.iter().all(|r| r.matches(" ± ").count() >= 2),
        "{table}"
    );
    assert!(
        rows[1].contains("not reported"),
        "latent 3 is in no table of the paper: {table}"
    );
    for kind in ["cvae", "jmvae", "trelbo", "scan", "pse", "pse-star"] {
        for seed in 0..2 {
            assert!(out.join(format!("{kind}-3d-s{seed}/metrics.json")).exists());
        }
        assert!(out.join(format!("{kind}-2d-s0/checkpoint.bin")).exists());
    }
    let png = std::fs::read(out.join("latent-2d.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    // Calling it again trains nothing and writes the same table.
    let again = ok(run(&args, &data));
    assert!(
        String::from_utf8_lossy(&again.stderr)
            .contains("20 runs planned, 20 already done, 0 to train or evaluate"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(out.join("comparison.md")).unwrap(),
        table
    );
    // Other generation sampling: the 14 table runs are evaluated again, none retrained.
    let mut more = args.to_vec();
    let i = more.iter().position(|a| *a == "--samples").unwrap();
    more[i + 1] = "30";
    let o = ok(run(&more, &data));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("20 runs planned, 6 already done, 14 to train or evaluate"),
        "{err}"
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("2 repeats × 30 images per label"));
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("scan-3d-s1/metrics.json")).unwrap())
            .unwrap();
    assert_eq!(m["generation_samples_per_label"], 30);
}

#[test]
fn a_cvae_evaluates_without_annotation_and_plots() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    synthetic_data(&data, 400, 100);
    let run_dir = tmp.path().join("cvae");
    let mut args = train_args(&run_dir, "1");
    args.extend(["--model".to_string(), "cvae".to_string()]);
    ok(run(
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
        &data,
    ));
    // It evaluates (no annotation) and plots.
    ok(run(
        &[
            "eval",
            run_dir.to_str().unwrap(),
            "--samples",
            "10",
            "--repeats",
            "2",
            "--quiet",
        ],
        &data,
    ));
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run_dir.join("metrics.json")).unwrap()).unwrap();
    assert!(m["annotation_accuracy"].is_null(), "{m}");
    assert!(m["generation_accuracy"].as_f64().unwrap() > 0.0, "{m}");
    ok(run(&["plot", run_dir.to_str().unwrap()], &data));
    assert!(run_dir.join("plots/latent.png").exists());
    // Export refusing it is in tests/bad_input.rs.
}

#[test]
fn completions_cover_every_command() {
    for shell in ["bash", "zsh", "fish"] {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_pse-trainer"))
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(o.status.success(), "{shell}");
        let script = String::from_utf8(o.stdout).unwrap();
        for cmd in [
            "train",
            "eval",
            "export",
            "annotate",
            "ood",
            "calibrate",
            "bench",
        ] {
            assert!(script.contains(cmd), "{shell} completions lack {cmd}");
        }
    }
}

#[test]
fn inspect_reads_a_blob_as_text_and_json() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let blob = root.join("models/mnist-pse-star-10d-i4.pse");
    let blob = blob.to_str().unwrap();
    let inspect = |args: &[&str]| {
        Command::new(BIN)
            .arg("inspect")
            .args(args)
            .output()
            .unwrap()
    };
    let o = ok(inspect(&[blob]));
    let text = String::from_utf8_lossy(&o.stdout);
    for want in ["format 3", "i4", "decoder", "STM32F407", "annotate  ~"] {
        assert!(text.contains(want), "no {want:?} in\n{text}");
    }
    let o = ok(inspect(&[
        "--model",
        blob,
        "--json",
        "--target",
        "thumbv7m-none-eabi",
    ]));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["device"]["triple"], "thumbv7m-none-eabi");
    assert_eq!(v["part"], "all");
    assert_eq!(v["layers"].as_array().unwrap().len(), 7);
    assert!(v["device"]["ram_bytes"].as_u64().unwrap() > v["scratch"]["bytes"].as_u64().unwrap());
    // Not a blob: one clear line naming the file.
    let toml = root.join("Cargo.toml");
    let e = err_line(&inspect(&[toml.to_str().unwrap()]));
    assert!(e.contains("Cargo.toml") && e.lines().count() == 1, "{e}");
    // Neither MODEL nor --model.
    assert!(!inspect(&[]).status.success());
}
