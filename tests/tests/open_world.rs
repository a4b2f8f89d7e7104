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
