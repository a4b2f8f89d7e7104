//! The open-world verdict's scores on the committed models, through the runtime: the
//! likelihood ratio `R − G` tells each model's own test images from noise and from the other
//! dataset, where the latent likelihood alone does not (`pse-trainer ood` prints the full
//! suite; the README has the table).

use pse_runtime::Model;
use pse_tests::{data_dir, models_dir};
use pse_trainer::data::Dataset;
use pse_trainer::export::ood;

fn report(blob: &str, dataset: Dataset) -> ood::Report {
    let bytes = std::fs::read(models_dir().join(blob)).unwrap();
    let model = Model::from_bytes(&bytes).unwrap();
    ood::measure(&model, &data_dir(), dataset, 300).unwrap()
}

fn row<'r>(r: &'r ood::Report, set: &str) -> &'r ood::Row {
    r.rows.iter().find(|x| x.set == set).unwrap()
}

#[test]
fn the_likelihood_ratio_separates_what_the_latent_likelihood_cannot() {
    let m = report("mnist-pse-star-10d-i8.pse", Dataset::Mnist);
    for set in [
        "uniform noise",
        "Gaussian noise",
        "fashion test",
        "mnist test, inverted",
    ] {
        let r = row(&m, set);
        assert!(
            r.auroc_ratio >= 0.99,
            "{set}: AUROC of R - G {}",
            r.auroc_ratio
        );
    }
    // The latent likelihood alone misses noise (the verdict of a format-1 blob).
    let noise = row(&m, "uniform noise");
    assert!(noise.auroc_latent < 0.95, "{}", noise.auroc_latent);
    assert!(
        noise.unknown_latent_only < 0.5,
        "{}",
        noise.unknown_latent_only
    );
    assert_eq!(row(&m, "mnist test (own)").images, 10_000);
}

/// The robust model (`--recipe robust`) keeps the verdict: what the issue asks of an MNIST
/// model, on the sets `pse-trainer ood` draws (300 images each here, 1000 in the README).
#[test]
fn the_robust_model_says_unknown_to_noise_and_fashion_but_not_to_digits() {
    let m = report("mnist-pse-star-10d-robust-i8.pse", Dataset::Mnist);
    assert!(row(&m, "mnist test (own)").unknown <= 0.01);
    for (set, at_least) in [
        ("uniform noise", 0.99),
        ("Gaussian noise", 0.99),
        ("fashion test", 0.95),
    ] {
        let r = row(&m, set);
        assert!(r.unknown >= at_least, "{set}: {} flagged", r.unknown);
    }
}

/// MNIST test digits redrawn dark on light at 3× their size come back through the runtime's
/// `preprocess::mnist_like` close to the originals, and annotated alike.
#[test]
fn preprocessing_brings_back_mnist_digits_from_other_sizes_and_polarity() {
    use pse_runtime::preprocess::{GreyImage, mnist_like};
    use pse_runtime::{AnnotateOut, Scratch};
    use pse_trainer::data::{self, Split};
    let bytes = std::fs::read(models_dir().join("mnist-pse-star-10d-i8.pse")).unwrap();
    let model = Model::from_bytes(&bytes).unwrap();
    let need = model.scratch_len();
    let (mut act, mut quant) = (vec![0.0f32; need.f32s], vec![0i8; need.i8s]);
    let mut s = Scratch::new(&mut act, &mut quant);
    let mut out = AnnotateOut::new();
    let test = data::load(&data_dir(), Dataset::Mnist, Split::Test).unwrap();
    let n = 300;
    let (mut agree, mut diff) = (0, 0.0f64);
    for i in 0..n {
        let orig: Vec<u8> = test
            .x
            .row(i)
            .iter()
            .map(|&v| (v * 255.0).round() as u8)
            .collect();
        let big: Vec<u8> = (0..84 * 84)
            .map(|j| 255 - orig[(j / 84 / 3) * 28 + (j % 84) / 3])
            .collect();
        let mut back = [0u8; 784];
        let info = mnist_like(
            GreyImage {
                pixels: &big,
                width: 84,
                height: 84,
                stride: 84,
            },
            &mut back,
        )
        .unwrap();
        assert!(info.inverted);
        diff += back
            .iter()
            .zip(&orig)
            .map(|(a, b)| (*a as f64 - *b as f64).abs() / 255.0)
            .sum::<f64>()
            / 784.0;
        let a = model.annotate(&orig[..], &[], &mut s, &mut out).unwrap();
        let b = model.annotate(&back[..], &[], &mut s, &mut out).unwrap();
        agree += usize::from(a == b);
    }
    let mean_diff = diff / n as f64;
    assert!(agree * 100 >= 95 * n, "{agree} of {n} annotated alike");
    // Unrelated digits differ by about 0.2; integer placement and the ink threshold (faint
    // edges below 64 are cropped away) leave a few hundredths.
    assert!(
        mean_diff < 0.1,
        "mean absolute pixel difference {mean_diff}"
    );
    eprintln!("{agree}/{n} alike, mean |difference| {mean_diff:.4}");
}
