//! Training throughput: steps per second of the real training step (sharded, on any number
//! of threads), and how much of that time the matrix products take and at what rate.

use crate::nn::adam::Adam;
use crate::nn::matmul;
use crate::nn::model::{Arch, Kind, Net, PAPER_HIDDEN};
use crate::nn::rng::{Rng, Stream};
use crate::objectives::pse::{Weights, one_hot_table};
use crate::train::step::ShardedStep;
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
    /// Shards per batch.
    pub shards: usize,
    /// Threads the step ran on.
    pub threads: usize,
    /// Steps timed (after warm-up).
    pub steps: u64,
    /// Steps per second.
    pub steps_per_second: f64,
    /// Projected time of 2000 steps (the paper's recipe), seconds.
    pub paper_recipe_seconds: f64,
    /// Matrix-product FLOP per step.
    pub matmul_flop_per_step: u64,
    /// Share of the threads' time spent in matrix products.
    pub matmul_time_share: f64,
    /// Matrix-product rate per thread, GFLOP/s.
    pub matmul_gflops: f64,
    /// Whole-step rate counting only matrix-product FLOP, GFLOP/s.
    pub step_gflops: f64,
    /// The single-core peak measured on this CPU, GFLOP/s.
    pub peak_gflops: f64,
    /// `matmul_gflops / peak_gflops`: how close one thread's matrix products come to one
    /// core's peak.
    pub matmul_share_of_peak: f64,
}

/// What [`train_throughput`] times.
#[derive(Debug, Clone, Copy)]
pub struct BenchSetup {
    /// Objective.
    pub kind: Kind,
    /// Latent dimension.
    pub latent: usize,
    /// Minibatch size.
    pub batch: usize,
    /// Shards per batch.
    pub shards: usize,
    /// Threads.
    pub threads: usize,
    /// Timed steps.
    pub steps: u64,
    /// Untimed steps first.
    pub warmup: u64,
}

/// Times `steps` real training steps (forward, backward, Adam, as `train` runs them) on
/// random images, after `warmup` untimed steps; `peak_gflops` is this CPU's single-core peak.
pub fn train_throughput(b: BenchSetup, peak_gflops: f64) -> Throughput {
    let BenchSetup {
        kind,
        latent: d,
        batch,
        shards,
        threads,
        steps,
        warmup,
    } = b;
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
    let mut step = ShardedStep::new(batch, shards, p.len());
    let labels = one_hot_table(10);
    let mut rng = Rng::new(1, Stream::Eval, 0);
    let x = Array2::from_shape_fn((batch, 784), |_| rng.uniform() as f32);
    let y: Vec<u8> = (0..batch).map(|i| (i % 10) as u8).collect();
    let mut eps = Array2::zeros((batch * kind.noise_draws(), d));
    let w = Weights { kl: 1.0, ce: 1.0 };
    let mut run = |n: u64| {
        for s in 0..n {
            Rng::new(1, Stream::Noise, s).fill_normal(eps.as_slice_mut().expect("contiguous"));
            step.run(
                &net,
                &p,
                labels.view(),
                x.view(),
                None,
                &y,
                eps.view(),
                w,
                threads,
            );
            let grads: Vec<(&[f32], f32)> = step.grads().collect();
            adam.update_sum(&mut p, &grads, 1e-3, None, threads);
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
    let busy = threads.clamp(1, shards.max(1)) as f64;
    Throughput {
        model: kind.paper_name().into(),
        latent: d,
        batch,
        shards,
        threads,
        steps,
        steps_per_second: steps as f64 / secs,
        paper_recipe_seconds: 2000.0 * secs / steps as f64,
        matmul_flop_per_step: per_step,
        matmul_time_share: mm_secs / (secs * busy),
        matmul_gflops,
        step_gflops: flops as f64 / secs / 1e9,
        peak_gflops,
        matmul_share_of_peak: matmul_gflops / peak_gflops,
    }
}
