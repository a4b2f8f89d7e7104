//! `pse-trainer judge`: the classifier that judges generation, and the shifted suite's yardstick.

use crate::cli::common::DataArg;
use crate::data::Dataset;
use crate::eval::{self};
use clap::Args;

/// `pse-trainer judge`'s arguments.
#[derive(Args)]
pub struct JudgeArgs {
    /// Dataset the judge classifies.
    #[arg(long, value_enum, default_value = "mnist")]
    dataset: Dataset,
    /// Also measure the judge, and a second judge trained on augmented images, on the shifted
    /// test suite (the yardstick for `eval`'s shifted annotation accuracy).
    #[arg(long)]
    shifted: bool,
    #[command(flatten)]
    data: DataArg,
}

/// Runs `pse-trainer judge`.
pub fn run_judge(a: JudgeArgs) -> Result<(), Box<dyn std::error::Error>> {
    use crate::eval::judge::Judge;
    let j = Judge::load_or_train(&a.data.data, a.dataset, true)?;
    println!(
        "{} judge: {:.2} % on training images, {:.2} % on test images",
        a.dataset,
        100.0 * j.train_accuracy,
        100.0 * j.test_accuracy
    );
    if a.shifted {
        let aug = Judge::load_or_train_with(&a.data.data, a.dataset, true, true)?;
        let test = crate::data::load(&a.data.data, a.dataset, crate::data::Split::Test)?;
        println!(
            "\n| {} test images, judge MLP 784-512-64-10 (%) | trained plain | trained with augmentation |\n|---|---|---|",
            a.dataset
        );
        println!(
            "| clean | {:.2} | {:.2} |",
            100.0 * j.test_accuracy,
            100.0 * aug.test_accuracy
        );
        let (mut sum, mut sum_aug, mut n) = (0.0, 0.0, 0.0);
        let mut cache = crate::nn::mlp::MlpCache::default();
        for (name, xs) in eval::shifted_sets(test.x.view()) {
            let acc = |j: &Judge, cache: &mut crate::nn::mlp::MlpCache| {
                let pred = j.classify(xs.view(), cache);
                pred.iter().zip(&test.y).filter(|(p, y)| p == y).count() as f64 / test.len() as f64
            };
            let (p, q) = (acc(&j, &mut cache), acc(&aug, &mut cache));
            println!("| {name} | {:.2} | {:.2} |", 100.0 * p, 100.0 * q);
            (sum, sum_aug, n) = (sum + p, sum_aug + q, n + 1.0);
        }
        println!(
            "| **mean of the shifted** | **{:.2}** | **{:.2}** |",
            100.0 * sum / n,
            100.0 * sum_aug / n
        );
    }
    Ok(())
}
