//! Enrollment end to end: a tiny model trained without one class (`train --leave-out`),
//! exported without its label, then the class added back from five images with `enroll`
//! and measured with `enroll-eval`.

use pse_runtime::Model;
use std::path::Path;
use std::process::{Command, Output};

mod common;
use common::synthetic_data;
const BIN: &str = env!("CARGO_BIN_EXE_pse-trainer");

fn ok(args: &[&str]) -> String {
    let o: Output = Command::new(BIN).args(args).output().expect("binary runs");
    assert!(
        o.status.success(),
        "{args:?} failed: {}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn a_left_out_class_is_enrolled_from_five_images() {
    let tmp = tempfile::tempdir().unwrap();
    let p = |rel: &str| tmp.path().join(rel);
    let data = p("data");
    synthetic_data(&data, 400, 200);
    let run = p("run");
    #[rustfmt::skip]
    ok(&["train", "--latent", "4", "--steps", "150", "--batch", "20", "--holdout", "50",
         "--leave-out", "seven", "--quiet", "--out", s(&run), "--data", s(&data)]);
    let cfg: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("config.json")).unwrap()).unwrap();
    assert_eq!(cfg["left_out"], serde_json::json!([7]));

    let blob = p("no7.pse");
    #[rustfmt::skip]
    ok(&["export", s(&run), "--weights", "i8", "--without-label", "seven", "-o", s(&blob),
         "--data", s(&data)]);
    let card: serde_json::Value =
        serde_json::from_slice(&std::fs::read(p("no7.json")).unwrap()).unwrap();
    assert_eq!(card["training"]["left_out"], serde_json::json!(["seven"]));

    // The experiment: 5 training images of "seven", 4 draws, before and after.
    let json = p("enroll.json");
    #[rustfmt::skip]
    let out = ok(&["enroll-eval", "--model", s(&blob), "--class", "seven", "--draws", "4",
                   "--json", s(&json), "--data", s(&data)]);
    assert!(
        out.contains("the model never saw seven in training"),
        "{out}"
    );
    assert!(
        out.contains("| seven (20): annotation accuracy | 0.00 % |"),
        "{out}"
    );
    let e: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(e["after"].as_array().unwrap().len(), 4);
    assert_eq!(e["before_split"]["class_accuracy"], 0.0);
    let after: Vec<f64> = e["after_split"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["class_accuracy"].as_f64().unwrap())
        .collect();
    assert!(after.iter().all(|&a| a > 0.5), "{after:?}\n{out}");
    let drawn = e["drawn"][0].as_array().unwrap();
    assert_eq!(drawn.len(), 5);
    // Synthetic class c is image i with i % 10 == c.
    assert!(
        drawn.iter().all(|i| i.as_u64().unwrap() % 10 == 7),
        "{drawn:?}"
    );

    // The command a user runs: enroll from an IDX file of five sevens, then annotate.
    let idx =
        pse_trainer::data::idx::read_images(&data.join("mnist/train-images-idx3-ubyte")).unwrap();
    let sevens: Vec<u8> = [7usize, 17, 27, 37, 47]
        .iter()
        .flat_map(|&i| idx.pixels[i * 784..(i + 1) * 784].to_vec())
        .collect();
    let five = pse_trainer::data::idx::Images {
        count: 5,
        rows: 28,
        cols: 28,
        pixels: sevens,
    };
    std::fs::write(
        p("sevens-idx3-ubyte"),
        pse_trainer::data::idx::encode_images(&five),
    )
    .unwrap();
    let grown = p("with7.pse");
    #[rustfmt::skip]
    let out = ok(&["enroll", "--model", s(&blob), "--label", "seven", "-o", s(&grown),
                   s(&p("sevens-idx3-ubyte"))]);
    assert!(
        out.contains("label \"seven\" (index 9) enrolled from 5 images"),
        "{out}"
    );
    let bytes = std::fs::read(&grown).unwrap();
    let m = Model::from_bytes(&bytes).unwrap();
    assert_eq!(m.label_count(), 10);
    assert_eq!(m.label_index("seven"), Some(9));
    let test = data.join("mnist/t10k-images-idx3-ubyte");
    let out = ok(&["annotate", "--model", s(&grown), s(&test)]);
    // The best label (the verdict, or the nearest label of an "unknown": the open-world
    // verdict may doubt images of a class the decoder never learnt to draw).
    let best = |l: &str| {
        let v = l.split('\t').nth(1).unwrap_or_default().to_string();
        match v.strip_prefix("unknown (nearest: ") {
            Some(r) => r.split(';').next().unwrap_or_default().to_string(),
            None => v,
        }
    };
    let sevens_named = out
        .lines()
        .enumerate()
        .filter(|(i, l)| i % 10 == 7 && best(l) == "seven")
        .count();
    assert!(sevens_named >= 10, "{sevens_named} of 20 sevens\n{out}");
    // The enrollment images themselves pass the grown blob's verdict: `enroll` lowers its
    // open-world bounds to admit them.
    let out = ok(&["annotate", "--model", s(&grown), s(&p("sevens-idx3-ubyte"))]);
    for l in out.lines() {
        assert_eq!(l.split('\t').nth(1), Some("seven"), "{out}");
    }
}
