//! Export and the host commands that run blobs through `pse-runtime`: a tiny model trained
//! on a synthetic MNIST-shaped dataset, exported in every encoding, checked against the
//! trainer's float inference, and driven through `annotate`, `generate` and `score`.

use pse_runtime::Model;
use pse_runtime::payload::Encoding;
use pse_trainer::data::{self, Dataset, Split};
use pse_trainer::export::host::{self, Scratchpad};
use pse_trainer::export::precision::Precision;
use pse_trainer::export::{Exported, keep_f32, layer_encodings};
use pse_trainer::nn::model::Net;
use pse_trainer::train::checkpoint::Checkpoint;
use pse_trainer::{eval, eval::infer, train};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::synthetic_data;
const BIN: &str = env!("CARGO_BIN_EXE_pse-trainer");

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().expect("binary runs")
}

fn ok(o: Output) -> String {
    assert!(
        o.status.success(),
        "failed: {}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: Output) -> String {
    assert!(
        !o.status.success(),
        "expected a failure, got: {}",
        String::from_utf8_lossy(&o.stdout)
    );
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Trains a tiny PSE* 10-class model (30 steps, d = 2) into `out`.
fn train_run(out: &Path, data: &Path, seed: &str) {
    ok(run(&[
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
        "--out",
        s(out),
        "--data",
        s(data),
    ]));
}

fn export(run_dir: &Path, data: &Path, weights: &str, out: &Path) -> String {
    ok(run(&[
        "export",
        s(run_dir),
        "--weights",
        weights,
        "-o",
        s(out),
        "--data",
        s(data),
    ]))
}

/// A trained tiny run, its data, and its three exports in `models/`.
struct Fixture {
    _tmp: tempfile::TempDir,
    data: PathBuf,
    run: PathBuf,
    models: PathBuf,
}

impl Fixture {
    fn new() -> Fixture {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        synthetic_data(&data, 400, 100);
        let run = tmp.path().join("run");
        train_run(&run, &data, "7");
        let models = tmp.path().join("models");
        std::fs::create_dir_all(&models).unwrap();
        for w in ["f32", "f16", "i8"] {
            export(&run, &data, w, &models.join(format!("m-{w}.pse")));
        }
        Fixture {
            _tmp: tmp,
            data,
            run,
            models,
        }
    }

    fn blob(&self, w: &str) -> PathBuf {
        self.models.join(format!("m-{w}.pse"))
    }
}

#[test]
fn f32_blob_matches_the_float_model_and_exports_are_reproducible() {
    let fx = Fixture::new();

    // Atomic writes: exactly the blobs and their cards, no temporary files.
    let mut names: Vec<String> = std::fs::read_dir(&fx.models)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "m-f16.json",
            "m-f16.pse",
            "m-f32.json",
            "m-f32.pse",
            "m-i8.json",
            "m-i8.pse"
        ]
    );

    let ck = Checkpoint::load(&fx.run.join(train::files::CHECKPOINT)).unwrap();
    let net = Net::new(ck.config.arch);
    let test = data::load(&fx.data, Dataset::Mnist, Split::Test).unwrap();
    let (mu_f, lv_f) = infer::encode(&net, ck.model_params(), test.x.view());
    let (lab_mu, lab_lv) = infer::label_gaussians(
        &net,
        ck.model_params(),
        train::label_table(&ck.config, &fx.data).unwrap().view(),
    );
    let float_pred = eval::annotate(mu_f.view(), lab_mu.view(), lab_lv.view());

    let bytes = std::fs::read(fx.blob("f32")).unwrap();
    let model = Model::from_bytes(&bytes).unwrap();
    assert_eq!(model.latent_dim(), 2);
    assert_eq!(model.image_size(), (28, 28));
    assert_eq!(model.label_count(), 10);
    assert_eq!(model.label_name(7), Some("seven"));
    let mut pad = Scratchpad::for_model(&model);
    let d = model.latent_dim();
    let (mut mu, mut lv) = (vec![0f32; d], vec![0f32; d]);
    let mut worst = 0f32;
    for (i, row) in test.x.rows().into_iter().enumerate() {
        model
            .encode(
                row.as_slice().unwrap(),
                &mut pad.scratch(),
                &mut mu,
                &mut lv,
            )
            .unwrap();
        for k in 0..d {
            worst = worst
                .max((mu[k] - mu_f[[i, k]]).abs())
                .max((lv[k] - lv_f[[i, k]]).abs());
        }
    }
    assert!(worst <= 1e-5, "runtime f32 encode differs by {worst}");
    // The blob's label table is the float label encoder's output.
    for l in 0..10 {
        let g = model.label(l).unwrap();
        for k in 0..d {
            assert_eq!(g.mu()[k], lab_mu[[l, k]]);
            assert_eq!(g.logvar()[k], lab_lv[[l, k]]);
        }
    }
    let ann = host::annotate_rows(&model, &mut pad, test.x.view()).unwrap();
    let blob_pred: Vec<usize> = ann.iter().map(|a| a.best.unwrap()).collect();
    assert_eq!(blob_pred, float_pred);

    // The in-memory export is the file, and validates as a payload.
    let exported = Exported::from_checkpoint(
        &ck,
        &Precision::uniform(&net, Encoding::F32),
        train::label_table(&ck.config, &fx.data).unwrap().view(),
    )
    .unwrap();
    // The blob carries open-world bounds calibrated on the held-out images.
    let ow = model.open_world().expect("calibrated open-world bounds");
    assert!(ow.reconstruction_low.is_finite() && ow.ratio_low.is_finite());
    let mut exported = exported;
    exported.open_world = Some(ow);
    assert_eq!(exported.blob(model.unknown_threshold()).unwrap(), bytes);

    // f16 and i8 load and annotate the (easy) synthetic test set like f32.
    for w in ["f16", "i8"] {
        let b = std::fs::read(fx.blob(w)).unwrap();
        assert!(b.len() < bytes.len(), "{w} blob is smaller than f32");
        let m = Model::from_bytes(&b).unwrap();
        let mut pad = Scratchpad::for_model(&m);
        let a = host::annotate_rows(&m, &mut pad, test.x.view()).unwrap();
        let agree = a.iter().zip(&ann).filter(|(x, y)| x.best == y.best).count();
        assert!(agree >= 95, "{w}: {agree}/100 agree with f32");
    }

    // The card describes the file.
    let card: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fx.models.join("m-i8.json")).unwrap()).unwrap();
    let i8_bytes = std::fs::read(fx.blob("i8")).unwrap();
    assert_eq!(card["bytes"].as_u64().unwrap() as usize, i8_bytes.len());
    assert_eq!(
        card["sha256"].as_str().unwrap(),
        pse_trainer::export::card::sha256_hex(&i8_bytes)
    );
    assert_eq!(card["file"], "m-i8.pse");
    assert_eq!(card["encoding"], "i8");
    assert_eq!(card["dataset"], "mnist");
    assert_eq!(card["training"]["seed"], 7);
    assert_eq!(card["training"]["steps"], 30);
    assert_eq!(card["runtime_test"]["images"], 100);
    assert_eq!(card["unknown_threshold"]["held_out_images"], 50);
    // The default 0.5 % is shared by the verdict's three tests, a third each.
    assert_eq!(card["unknown_threshold"]["percentile"], 0.5 / 3.0);
    assert_eq!(card["open_world"]["percentile"], 0.5 / 3.0);
    assert_eq!(card["open_world"]["held_out_images"], 50);
    let i8_model = Model::from_bytes(&i8_bytes).unwrap();
    assert_eq!(
        card["unknown_threshold"]["threshold"].as_f64().unwrap() as f32,
        i8_model.unknown_threshold()
    );
    let ow = i8_model.open_world().unwrap();
    assert_eq!(
        card["open_world"]["bounds"]["ratio_low"].as_f64().unwrap() as f32,
        ow.ratio_low
    );
    assert_eq!(
        card["open_world"]["bounds"]["reconstruction_low"]
            .as_f64()
            .unwrap() as f32,
        ow.reconstruction_low
    );
    assert!(card["float_metrics"].is_null(), "the run was not evaluated");

    // Same seed, same bytes: a second training run exported again.
    let again = fx.run.with_file_name("again");
    train_run(&again, &fx.data, "7");
    let other = fx.models.join("again.pse");
    export(&again, &fx.data, "i8", &other);
    assert_eq!(std::fs::read(&other).unwrap(), i8_bytes);

    // Scoring through the CLI reports the same accuracy as the card.
    let out = ok(run(&[
        "score",
        "--json",
        "--model",
        s(&fx.blob("i8")),
        "--data",
        s(&fx.data),
    ]));
    let json: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(json, card["runtime_test"]);

    // A blob without a label (for enrollment demos): 9 labels, and sevens are never right.
    let no7 = fx.models.join("no7.pse");
    ok(run(&[
        "export",
        s(&fx.run),
        "--weights",
        "i8",
        "--without-label",
        "seven",
        "-o",
        s(&no7),
        "--data",
        s(&fx.data),
    ]));
    let b = std::fs::read(&no7).unwrap();
    let m = Model::from_bytes(&b).unwrap();
    assert_eq!(m.label_count(), 9);
    assert_eq!(m.label_index("seven"), None);
    assert_eq!(m.label_name(7), Some("eight"));
    let card: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fx.models.join("no7.json")).unwrap()).unwrap();
    assert_eq!(card["labels"].as_array().unwrap().len(), 9);
    assert_eq!(card["runtime_test"]["annotation_per_class"][7], 0.0);
    // 45 of the 50 held-out images are of the other labels.
    assert_eq!(card["unknown_threshold"]["held_out_images"], 45);
}

#[cfg(feature = "onnx")]
#[test]
fn export_writes_onnx_references_on_request() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    synthetic_data(&data, 200, 20);
    let run_dir = tmp.path().join("run");
    train_run(&run_dir, &data, "3");
    let onnx = tmp.path().join("onnx");
    let out = ok(run(&[
        "export",
        s(&run_dir),
        "--weights",
        "f32",
        "-o",
        s(&tmp.path().join("m.pse")),
        "--onnx",
        s(&onnx),
        "--data",
        s(&data),
    ]));
    let listed: Vec<&str> = out.lines().filter(|l| l.ends_with(".onnx")).collect();
    assert!(!listed.is_empty(), "{out}");
    for p in listed {
        assert!(
            Path::new(p).starts_with(&onnx) && Path::new(p).is_file(),
            "{p}"
        );
    }
}

fn write_gray_png(path: &Path, w: u32, h: u32, pixels: &[u8]) {
    let mut bytes = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut bytes, w, h);
        enc.set_color(png::ColorType::Grayscale);
        enc.set_depth(png::BitDepth::Eight);
        let mut wr = enc.write_header().unwrap();
        wr.write_image_data(pixels).unwrap();
    }
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn annotate_and_generate_commands() {
    let fx = Fixture::new();
    let dir = fx.models.parent().unwrap().to_path_buf();
    let model = fx.blob("i8");
    let idx = fx.data.join("mnist/t10k-images-idx3-ubyte");
    let images = pse_trainer::data::idx::read_images(&idx).unwrap();

    // Happy path: a PNG (test image 3, class 3) and a whole IDX file.
    let png = dir.join("three.png");
    write_gray_png(&png, 28, 28, &images.pixels[3 * 784..4 * 784]);
    let out = ok(run(&["annotate", "--model", s(&model), s(&png), s(&idx)]));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 101, "{out}");
    let f: Vec<&str> = lines[0].split('\t').collect();
    assert_eq!(f[0], s(&png));
    let p: f32 = f[2].parse().unwrap();
    assert!((0.0..=1.0).contains(&p), "{}", lines[0]);
    assert!(
        lines[1].starts_with(&format!("{}#0\t", s(&idx))),
        "{}",
        lines[1]
    );
    assert!(lines[100].starts_with(&format!("{}#99\t", s(&idx))));
    // The PNG and the same image inside the IDX file get the same line (bar the name).
    let tail = |l: &str| l.split_once('\t').unwrap().1.to_string();
    assert_eq!(tail(lines[0]), tail(lines[4]));
    // The verdicts are the runtime's: the blob's labels, or "unknown (nearest: X; why)".
    let m = Model::from_bytes(&std::fs::read(&model).unwrap())
        .unwrap()
        .label_count();
    assert_eq!(m, 10);
    for l in &lines {
        let v = l.split('\t').nth(1).unwrap();
        let name = v
            .strip_prefix("unknown (nearest: ")
            .and_then(|r| r.split_once(';'))
            .map(|(n, _)| n)
            .unwrap_or(v);
        assert!(Dataset::Mnist.label_names().contains(&name), "{l}");
    }

    // Bad inputs: one clear line naming the file, non-zero exit.
    let small = dir.join("small.png");
    write_gray_png(&small, 10, 12, &[0u8; 120]);
    let e = err(run(&["annotate", "--model", s(&model), s(&png), s(&small)]));
    assert!(
        e.contains(s(&small)) && e.contains("10x12") && e.contains("28x28"),
        "{e}"
    );
    let garbage = dir.join("garbage.png");
    std::fs::write(&garbage, b"this is not an image at all").unwrap();
    let e = err(run(&["annotate", "--model", s(&model), s(&garbage)]));
    assert!(
        e.contains(s(&garbage)) && e.contains("not a PNG or IDX"),
        "{e}"
    );
    let missing = dir.join("missing.png");
    let e = err(run(&["annotate", "--model", s(&model), s(&missing)]));
    assert!(e.contains(s(&missing)), "{e}");
    let labels_file = fx.data.join("mnist/t10k-labels-idx1-ubyte");
    let e = err(run(&["annotate", "--model", s(&model), s(&labels_file)]));
    assert!(e.contains(s(&labels_file)), "{e}");
    assert_eq!(e.lines().count(), 1, "{e}");

    // A damaged blob: the runtime's typed error, naming the file.
    let bytes = std::fs::read(&model).unwrap();
    let truncated = dir.join("truncated.pse");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let e = err(run(&["annotate", "--model", s(&truncated), s(&png)]));
    assert!(
        e.contains(s(&truncated))
            && e.contains("not a usable model blob")
            && e.contains("Truncated"),
        "{e}"
    );
    let mut flipped = bytes.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x10;
    let bad = dir.join("flipped.pse");
    std::fs::write(&bad, &flipped).unwrap();
    let e = err(run(&[
        "generate",
        "--model",
        s(&bad),
        "--label",
        "1",
        "-o",
        "x.png",
    ]));
    assert!(e.contains("CrcMismatch"), "{e}");

    // generate: by name and by index, seeded or the mean; atomic PNG.
    let pics = dir.join("pics");
    std::fs::create_dir_all(&pics).unwrap();
    let a = pics.join("a.png");
    let b = pics.join("b.png");
    let out = ok(run(&[
        "generate",
        "--model",
        s(&model),
        "--label",
        "seven",
        "--count",
        "12",
        "--seed",
        "5",
        "-o",
        s(&a),
    ]));
    assert_eq!(out.trim(), s(&a));
    ok(run(&[
        "generate",
        "--model",
        s(&model),
        "--label",
        "7",
        "--count",
        "12",
        "--seed",
        "5",
        "-o",
        s(&b),
    ]));
    let (pa, pb) = (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    assert_eq!(&pa[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(pa, pb, "a label by name or by index draws the same images");
    let c = pics.join("c.png");
    ok(run(&[
        "generate",
        "--model",
        s(&model),
        "--label",
        "Seven",
        "--mean",
        "-o",
        s(&c),
    ]));
    assert_ne!(std::fs::read(&c).unwrap(), pa);
    assert_eq!(
        std::fs::read_dir(&pics).unwrap().count(),
        3,
        "no temporary files"
    );
    let e = err(run(&[
        "generate",
        "--model",
        s(&model),
        "--label",
        "eleven",
        "-o",
        s(&c),
    ]));
    assert!(e.contains("eleven") && e.contains("seven"), "{e}");
    let e = err(run(&[
        "generate",
        "--model",
        s(&model),
        "--label",
        "10",
        "-o",
        s(&c),
    ]));
    assert!(e.contains("no such label"), "{e}");
}

/// `--layer` choices reach the blob: each layer is stored in the encoding chosen for it, and
/// the card lists the same.
#[test]
fn per_layer_encodings_reach_the_blob() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    synthetic_data(&data, 400, 100);
    let run_dir = tmp.path().join("run");
    train_run(&run_dir, &data, "3");
    let out = tmp.path().join("mixed.pse");
    let printed = ok(run(&[
        "export",
        s(&run_dir),
        "--weights",
        "i4",
        "--layer",
        "enc.0=i8,dec.2=f16",
        "--layer",
        "dec.0=f32",
        "-o",
        s(&out),
        "--data",
        s(&data),
    ]));
    assert!(
        printed.contains("layer encodings: encoder i8, i4; decoder f32, i4, f16"),
        "{printed}"
    );
    let bytes = std::fs::read(&out).unwrap();
    let model = Model::from_bytes(&bytes).unwrap();
    let names = |layers: &[pse_runtime::payload::Layer<'_>]| -> Vec<&str> {
        layers.iter().map(|l| l.weights.encoding().name()).collect()
    };
    let p = model.payload();
    assert_eq!(names(p.encoder.unwrap().trunk.layers()), ["i8", "i4"]);
    assert_eq!(names(p.decoder.layers()), ["f32", "i4", "f16"]);
    let card: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.with_extension("json")).unwrap()).unwrap();
    assert_eq!(
        card["layer_encodings"]["decoder"],
        serde_json::json!(["f32", "i4", "f16"])
    );
}

/// `--part generate`: a format-4 blob without the image encoder, that generates like the
/// whole blob and refuses what reads images with a message saying why.
#[test]
fn generate_part_blob_generates_and_refuses_images() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    synthetic_data(&data, 400, 100);
    let run_dir = tmp.path().join("run");
    train_run(&run_dir, &data, "4");
    let (whole, part) = (tmp.path().join("whole.pse"), tmp.path().join("gen.pse"));
    export(&run_dir, &data, "i8", &whole);
    let printed = ok(run(&[
        "export",
        s(&run_dir),
        "--weights",
        "i8",
        "--part",
        "generate",
        "-o",
        s(&part),
        "--data",
        s(&data),
    ]));
    assert!(printed.contains("for generation only"), "{printed}");
    let (wb, pb) = (
        std::fs::read(&whole).unwrap(),
        std::fs::read(&part).unwrap(),
    );
    assert_eq!(u16::from_le_bytes([pb[4], pb[5]]), 4, "format version");
    assert!(
        pb.len() * 100 < wb.len() * 55,
        "{} vs {} bytes",
        pb.len(),
        wb.len()
    );
    let (wm, pm) = (
        Model::from_bytes(&wb).unwrap(),
        Model::from_bytes(&pb).unwrap(),
    );
    assert!(!pm.has_encoder() && pm.has_decoder() && pm.open_world().is_none());
    // Generation: the same pixels as the whole blob's, bit for bit.
    let mut pad = (Scratchpad::for_model(&wm), Scratchpad::for_model(&pm));
    for label in 0..wm.label_count() {
        let sample = pse_runtime::Sample::Seed(label as u64);
        let (mut a, mut b) = (vec![0f32; wm.pixels()], vec![0f32; pm.pixels()]);
        wm.generate(label, sample, &mut pad.0.scratch(), &mut a)
            .unwrap();
        pm.generate(label, sample, &mut pad.1.scratch(), &mut b)
            .unwrap();
        assert_eq!(a, b, "label {label}");
    }
    let card: serde_json::Value =
        serde_json::from_slice(&std::fs::read(part.with_extension("json")).unwrap()).unwrap();
    assert_eq!(card["part"], "generate");
    assert!(card["runtime_test"].is_null() && card["unknown_threshold"].is_null());
    assert_eq!(card["layer_encodings"]["encoder"], serde_json::json!([]));
    // What reads images says what is missing.
    let png = tmp.path().join("x.png");
    write_gray_png(&png, 28, 28, &[0u8; 28 * 28]);
    let o = run(&["annotate", "--model", s(&part), s(&png)]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("--part generate"),
        "{err}"
    );
}

#[test]
fn keep_f32_names_layers() {
    let arch = pse_trainer::nn::model::Arch {
        kind: pse_trainer::nn::model::Kind::PseStar,
        latent: 2,
        label_dim: 10,
        classes: 10,
        pixels: 784,
        hidden: [8, 4],
    };
    let net = Net::new(arch);
    let mut p = Precision::uniform(&net, Encoding::I8);
    keep_f32(&mut p, &["enc.0".into(), "dec.2".into()]).unwrap();
    assert_eq!(p.trunk, [Encoding::F32, Encoding::I8]);
    assert_eq!(p.decoder, [Encoding::I8, Encoding::I8, Encoding::F32]);
    for bad in ["enc.2", "head.0", "dec", "dec.x"] {
        assert!(keep_f32(&mut p, &[bad.into()]).is_err(), "{bad}");
    }
    // --layer: any encoding per layer, later choices win.
    let mut p = Precision::uniform(&net, Encoding::I4);
    let specs = ["enc.0=i8", "dec.2=f16", "dec.2=I8", "dec.0 = f32"].map(String::from);
    layer_encodings(&mut p, &specs).unwrap();
    assert_eq!(p.trunk, [Encoding::I8, Encoding::I4]);
    assert_eq!(p.decoder, [Encoding::F32, Encoding::I4, Encoding::I8]);
    for (bad, why) in [
        ("enc.0", "expected LAYER=ENCODING"),
        ("enc.0=i2", "unknown encoding i2"),
        ("enc.5=i8", "the model has 2 enc layers"),
        ("mu.0=i8", "expected enc.I or dec.I"),
    ] {
        let e = layer_encodings(&mut p, &[bad.into()]).unwrap_err();
        assert!(
            e.starts_with(&format!("--layer {bad}: ")) && e.contains(why),
            "{e}"
        );
    }
}
