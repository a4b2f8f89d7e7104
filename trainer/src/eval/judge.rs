//! The judge: an MLP classifier trained on the training images, used to measure the
//! generation accuracy of any model. Trained once per dataset and cached.
//!
//! Shape `784 → 512 → 64 → 10` (ReLU), the paper's classifier shape; Adam 1e-3 with
//! cosine decay, 12 epochs of batch 100, fixed seed — so every machine trains the same judge.
//! A second judge, trained the same way on augmented images (`crate::data::augment::random`), is
//! the yardstick of the shifted test suite: a discriminative classifier of the encoder's size.

use crate::atomic::write_atomic;
use crate::data::augment;
use crate::data::{self, Dataset, Labelled, PIXELS, Split};
use crate::nn::adam::Adam;
use crate::nn::loss::softmax_ce;
use crate::nn::mlp::{Mlp, MlpCache};
use crate::nn::model::PAPER_HIDDEN;
use crate::nn::params::Layout;
use crate::nn::rng::{Rng, Stream};
use crate::train::BatchOrder;
use crate::train::recipe::Recipe;
use ndarray::{Array2, ArrayView2, s};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Bump when the judge's recipe or shape changes, so stale caches are retrained.
const JUDGE_VERSION: u32 = 1;
const SEED: u64 = 0x5eed_1d9e;
const EPOCHS: u64 = 12;

/// A trained judge and its accuracies.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Judge {
    version: u32,
    /// Dataset it judges.
    pub dataset: Dataset,
    /// Its weights.
    pub params: Vec<f32>,
    /// Accuracy on the training images.
    pub train_accuracy: f64,
    /// Accuracy on the test images.
    pub test_accuracy: f64,
}

fn net() -> (Mlp, Layout) {
    let mut l = Layout::default();
    let [h1, h2] = PAPER_HIDDEN;
    let m = Mlp::new(&mut l, "judge", &[PIXELS, h1, h2, 10], false);
    (m, l)
}

impl Judge {
    /// Predicted class of every row of `x` (pixel probabilities in `[0, 1]`).
    pub fn classify(&self, x: ArrayView2<f32>, cache: &mut MlpCache) -> Vec<u8> {
        let (m, _) = net();
        let mut out = Vec::with_capacity(x.nrows());
        for start in (0..x.nrows()).step_by(crate::eval::infer::CHUNK) {
            let end = (start + crate::eval::infer::CHUNK).min(x.nrows());
            let logits = m.forward(&self.params, x.slice(s![start..end, ..]), cache);
            out.extend(logits.rows().into_iter().map(|r| {
                pse_runtime::gaussian::argmax(r.as_slice().expect("contiguous")).unwrap_or(0) as u8
            }));
        }
        out
    }

    /// Fraction of `set` classified correctly.
    pub fn accuracy(&self, set: &Labelled) -> f64 {
        let pred = self.classify(set.x.view(), &mut MlpCache::default());
        pred.iter().zip(&set.y).filter(|(a, b)| a == b).count() as f64 / set.len() as f64
    }

    fn cache_path(data_dir: &Path, dataset: Dataset, augmented: bool) -> PathBuf {
        let aug = if augmented { "-augmented" } else { "" };
        data_dir
            .join("cache")
            .join(format!("judge-{dataset}{aug}-v{JUDGE_VERSION}.bin"))
    }

    /// The cached judge for `dataset`, training (≈ 15 s) and caching it when missing or stale.
    pub fn load_or_train(
        data_dir: &Path,
        dataset: Dataset,
        progress: bool,
    ) -> Result<Judge, Box<dyn std::error::Error>> {
        Judge::load_or_train_with(data_dir, dataset, false, progress)
    }

    /// The cached judge for `dataset`, trained on augmented images when `augmented`.
    pub fn load_or_train_with(
        data_dir: &Path,
        dataset: Dataset,
        augmented: bool,
        progress: bool,
    ) -> Result<Judge, Box<dyn std::error::Error>> {
        let path = Judge::cache_path(data_dir, dataset, augmented);
        if let Ok(bytes) = std::fs::read(&path)
            && let Ok(j) = postcard::from_bytes::<Judge>(&bytes)
            && j.version == JUDGE_VERSION
            && j.dataset == dataset
            && j.params.len() == net().1.len
        {
            return Ok(j);
        }
        // Load first: missing data is then the only line printed.
        let train = data::load(data_dir, dataset, Split::Train)?;
        let test = data::load(data_dir, dataset, Split::Test)?;
        if progress {
            eprintln!(
                "training the {dataset} judge classifier (cached in {})",
                path.display()
            );
        }
        let j = Judge::train(dataset, &train, &test, augmented);
        std::fs::create_dir_all(path.parent().expect("has a parent"))?;
        write_atomic(&path, &postcard::to_allocvec(&j)?)?;
        Ok(j)
    }

    /// Trains a judge on `train` (augmented when `augmented`), reporting accuracy on `train`
    /// and `test`.
    pub fn train(dataset: Dataset, train: &Labelled, test: &Labelled, augmented: bool) -> Judge {
        let (m, l) = net();
        let n = l.len;
        let mut p = l.init(SEED);
        let batch = 100;
        let steps = EPOCHS * (train.len() / batch) as u64;
        let recipe = Recipe {
            name: "judge".into(),
            steps,
            batch,
            lr: 1e-3,
            lr_warmup: 0,
            lr_final_frac: 0.01,
            kl_warmup: 0,
            kl_start: 0.0,
            kl_weight: 1.0,
            ce_weight: 1.0,
            holdout: 0,
            shards: 1,
            average: 0.0,
            augment: false,
        };
        let mut adam = Adam::new(n);
        let mut g = vec![0.0; n];
        let mut order = BatchOrder::new(SEED, train.len(), batch);
        let (mut idx, mut xb, mut yb) =
            (Vec::new(), Array2::zeros((batch, PIXELS)), vec![0u8; batch]);
        let mut dl = Array2::zeros((batch, 10));
        let mut cache = MlpCache::default();
        for step in 0..steps {
            order.indices(step, &mut idx);
            for (k, &i) in idx.iter().enumerate() {
                let src = train.x.row(i as usize);
                if augmented {
                    let mut rng = Rng::new(SEED, Stream::Augment, step * batch as u64 + k as u64);
                    let dst = xb.row_mut(k).into_slice().expect("contiguous");
                    augment::random(src.as_slice().expect("contiguous"), dst, &mut rng);
                } else {
                    xb.row_mut(k).assign(&src);
                }
                yb[k] = train.y[i as usize];
            }
            g.fill(0.0);
            let out = m.forward(&p, xb.view(), &mut cache);
            softmax_ce(out, &yb, Some(dl.view_mut()), 1.0 / batch as f32);
            m.backward(&p, &mut g, xb.view(), &mut cache, dl.view(), None);
            adam.update(&mut p, &g, recipe.lr_at(step));
        }
        let mut j = Judge {
            version: JUDGE_VERSION,
            dataset,
            params: p,
            train_accuracy: 0.0,
            test_accuracy: 0.0,
        };
        j.train_accuracy = j.accuracy(train);
        j.test_accuracy = j.accuracy(test);
        j
    }
}
