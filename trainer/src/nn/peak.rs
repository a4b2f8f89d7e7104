//! This CPU's f32 multiply-add peak, measured at run time with a register-resident kernel, so
//! `bench` reports shares of the machine it runs on rather than of another one.
//!
//! The kernel runs at the vector width `pulp` dispatches to (AVX2 + FMA on x86-64 machines
//! that have it, as the `gemm` kernels the trainer uses), with twelve independent
//! accumulators: enough to hide the FMA latency on current cores.

use std::time::Instant;

/// Independent accumulator chains in the kernel.
const CHAINS: usize = 12;

struct FmaLoop {
    iters: u64,
}

/// What one run of the kernel did: floating-point operations and a value that depends on
/// all of them (so the loop cannot be removed).
struct Done {
    flop: u64,
    sink: f32,
}

impl pulp::WithSimd for FmaLoop {
    type Output = Done;

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, simd: S) -> Done {
        let a = simd.splat_f32s(0.999_999);
        let b = simd.splat_f32s(1e-7);
        let mut acc = [simd.splat_f32s(1.0); CHAINS];
        for _ in 0..self.iters {
            for x in &mut acc {
                *x = simd.mul_add_f32s(*x, a, b);
            }
        }
        let lanes = (size_of::<S::f32s>() / size_of::<f32>()) as u64;
        let sink = acc
            .iter()
            .map(|&x| simd.reduce_sum_f32s(x))
            .fold(0.0, |s, x| s + x);
        Done {
            flop: 2 * lanes * CHAINS as u64 * self.iters,
            sink,
        }
    }
}

/// Runs the kernel for about `seconds` on this thread; returns GFLOP/s.
fn run_for(seconds: f64) -> f64 {
    let mut iters = 1u64 << 14;
    loop {
        let t0 = Instant::now();
        let done = pulp::Arch::new().dispatch(FmaLoop { iters });
        let dt = t0.elapsed().as_secs_f64();
        std::hint::black_box(done.sink);
        if dt >= seconds || iters >= 1 << 40 {
            return done.flop as f64 / dt / 1e9;
        }
        iters *= 2;
    }
}

/// The single-core peak in GFLOP/s: the best of three runs of about 0.1 s each.
pub fn single_core() -> f64 {
    (0..3).map(|_| run_for(0.1)).fold(0.0, f64::max)
}

/// The peak of `threads` cores running the kernel at once, in GFLOP/s (the sum of their
/// rates; the best of three rounds).
pub fn all_cores(threads: usize) -> f64 {
    (0..3)
        .map(|_| {
            std::thread::scope(|s| {
                let handles: Vec<_> = (0..threads.max(1))
                    .map(|_| s.spawn(|| run_for(0.1)))
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().expect("peak thread"))
                    .sum::<f64>()
            })
        })
        .fold(0.0, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kernel_counts_its_work_and_the_peak_is_positive() {
        let done = pulp::Arch::new().dispatch(FmaLoop { iters: 10 });
        assert!(
            done.flop >= 2 * CHAINS as u64 * 10 && done.flop.is_multiple_of(2 * CHAINS as u64 * 10)
        );
        assert!(done.sink.is_finite() && done.sink > 0.0);
        assert!(run_for(0.001) > 0.0);
    }
}
