//! Digits nobody here wrote, end to end from the command line: the 30 pictures under
//! `tests/digits/` (drawn by `scripts/draw-digits.py`: other sizes, dark ink on light and
//! light on dark, thin, thick and slanted strokes; the expected label leads each file name)
//! go through `pse-trainer annotate --preprocess mnist --json` with the committed MNIST model.

use std::path::PathBuf;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_pse-trainer");
const NAMES: [&str; 10] = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// How many of the drawn digits `blob` annotates right (and not "unknown"), with a report.
fn right_of(blob: &str, files: &[PathBuf]) -> (usize, String) {
    let out = Command::new(BIN)
        .args(["annotate", "--preprocess", "mnist", "--json", "--model"])
        .arg(root().join("models").join(blob))
        .args(files)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), files.len());
    let mut right = 0;
    let mut report = String::new();
    for (file, v) in files.iter().zip(&lines) {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let digit: usize = name[..1].parse().unwrap();
        let label = v["label"].as_str().unwrap_or("none");
        let ok = label == NAMES[digit] && v["unknown"] == false;
        right += usize::from(ok);
        report += &format!("{name}: {label} (unknown: {})\n", v["unknown"]);
    }
    (right, report)
}

#[test]
fn drawn_digits_are_annotated_after_mnist_preprocessing() {
    let dir = root().join("tests/digits");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "png"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 30, "tests/digits holds the 30 drawn digits");
    // 24 of 30 when this test was written; a regression below 22 fails.
    let (right, report) = right_of("mnist-pse-star-10d-i8.pse", &files);
    assert!(right >= 22, "{right} of 30 right:\n{report}");
    // The robust recipe's model: 27 of 30 when committed; below 25 fails.
    let (right, report) = right_of("mnist-pse-star-10d-robust-i8.pse", &files);
    assert!(right >= 25, "robust model: {right} of 30 right:\n{report}");
    // Without preprocessing the same pictures are refused: wrong size.
    let out = Command::new(BIN)
        .args(["annotate", "--model"])
        .arg(root().join("models/mnist-pse-star-10d-i8.pse"))
        .arg(&files[0])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("28x28"));
}
