//! Training throughput: steps per second of the real training step on one thread, and how
//! much of that time the matrix products take and at what rate.

use crate::adam::Adam;
use crate::matmul;
use crate::model::{Arch, Kind, Net, PAPER_HIDDEN};
use crate::objective::loss_and_grad;
use crate::pse::{Weights, Workspace, one_hot_table};
use crate::rng::{Rng, Stream};
use ndarray::Array2;
use serde::Serialize;
use std::time::Instant;

/// A throughput measurement.
#[derive(Debug, Clone, Serialize)]
pub struct Throughput {
    /// Model measured.
    pub model: String,
    /// Latent dimension.
    pub latent: usize,
    /// Batch size.
    pub batch: usize,
    /// Steps timed (after warm-up).
    pub steps: u64,
    /// Steps per second.
    pub steps_per_second: f64,
    /// Projected time of 2000 steps (the paper's recipe), seconds.
    pub paper_recipe_seconds: f64,
    /// Matrix-product FLOP per step.
    pub matmul_flop_per_step: u64,
    /// Share of step time spent in matrix products.
    pub matmul_time_share: f64,
    /// Matrix-product rate, GFLOP/s.
    pub matmul_gflops: f64,
    /// Whole-step rate counting only matrix-product FLOP, GFLOP/s.
    pub step_gflops: f64,
    /// The single-core peak used for the share below, GFLOP/s.
    pub peak_gflops: f64,
    /// `matmul_gflops / peak_gflops`.
    pub matmul_share_of_peak: f64,
}

/// Times `steps` real training steps (forward, backward, Adam) of `kind` with latent `d` on
/// random images, after `warmup` untimed steps.
pub fn train_throughput(
    kind: Kind,
    d: usize,
    batch: usize,
    steps: u64,
    warmup: u64,
    peak_gflops: f64,
) -> Throughput {
    let arch = Arch {
        kind,
        latent: d,
        label_dim: 10,
        classes: 10,
        pixels: 784,
        hidden: PAPER_HIDDEN,
    };
    let net = Net::new(arch);
    let mut p = net.layout.init(1);
    let mut adam = Adam::new(p.len());
    let mut g = vec![0.0; p.len()];
    let labels = one_hot_table(10);
    let mut rng = Rng::new(1, Stream::Eval, 0);
    let x = Array2::from_shape_fn((batch, 784), |_| rng.uniform() as f32);
    let y: Vec<u8> = (0..batch).map(|i| (i % 10) as u8).collect();
    let mut eps = Array2::zeros((batch * kind.noise_draws(), d));
    let mut ws = Workspace::default();
    let w = Weights { kl: 1.0, ce: 1.0 };
    let mut run = |n: u64| {
        for s in 0..n {
            Rng::new(1, Stream::Noise, s).fill_normal(eps.as_slice_mut().expect("contiguous"));
            g.fill(0.0);
            loss_and_grad(
                &net,
                &p,
                &mut g,
                labels.view(),
                x.view(),
                &y,
                eps.view(),
                w,
                &mut ws,
            );
            adam.update(&mut p, &g, 1e-3);
        }
    };
    run(warmup);
    matmul::reset_stats();
    let t0 = Instant::now();
    run(steps);
    let secs = t0.elapsed().as_secs_f64();
    let (mm_secs, flops) = matmul::stats();
    let per_step = flops / steps.max(1);
    let matmul_gflops = flops as f64 / mm_secs / 1e9;
    Throughput {
        model: kind.paper_name().into(),
        latent: d,
        batch,
        steps,
        steps_per_second: steps as f64 / secs,
        paper_recipe_seconds: 2000.0 * secs / steps as f64,
        matmul_flop_per_step: per_step,
        matmul_time_share: mm_secs / secs,
        matmul_gflops,
        step_gflops: flops as f64 / secs / 1e9,
        peak_gflops,
        matmul_share_of_peak: matmul_gflops / peak_gflops,
    }
}
