//! The one matrix product every layer uses, on one thread (measured with `pse-trainer bench`:
//! the `gemm` crate reached ~89 GFLOP/s on the training shapes here, stride views free).

use ndarray::{ArrayView2, ArrayViewMut2};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

static NANOS: AtomicU64 = AtomicU64::new(0);
static FLOPS: AtomicU64 = AtomicU64::new(0);

/// Time spent in [`matmul`] and the floating-point operations it did, since the last reset:
/// `(seconds, flops)`. For benchmarks.
pub fn stats() -> (f64, u64) {
    (
        NANOS.load(Ordering::Relaxed) as f64 * 1e-9,
        FLOPS.load(Ordering::Relaxed),
    )
}

/// Zeroes the counters behind [`stats`].
pub fn reset_stats() {
    NANOS.store(0, Ordering::Relaxed);
    FLOPS.store(0, Ordering::Relaxed);
}

/// `c = a · b`, or `c += a · b` when `accumulate`; any strides (transposed views are free).
///
/// Panics if the shapes do not chain: that is a programming error, not a user input.
pub fn matmul(mut c: ArrayViewMut2<f32>, a: ArrayView2<f32>, b: ArrayView2<f32>, accumulate: bool) {
    let (m, k) = a.dim();
    let (k2, n) = b.dim();
    assert_eq!(k, k2, "matmul: inner dimensions differ");
    assert_eq!(c.dim(), (m, n), "matmul: output shape");
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            c.fill(0.0);
        }
        return;
    }
    let t0 = Instant::now();
    let (cs, as_, bs) = (
        c.strides().to_vec(),
        a.strides().to_vec(),
        b.strides().to_vec(),
    );
    // SAFETY: the pointers come from live ndarray views whose shapes were checked above;
    // the strides are the views' own (in elements), so every address gemm forms lies
    // inside the views. `c` is a unique borrow, so it aliases neither `a` nor `b`.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            cs[1],
            cs[0],
            accumulate,
            a.as_ptr(),
            as_[1],
            as_[0],
            b.as_ptr(),
            bs[1],
            bs[0],
            1.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
    NANOS.fetch_add(t0.elapsed().as_nanos() as u64, Ordering::Relaxed);
    FLOPS.fetch_add(2 * (m * n * k) as u64, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    fn naive(a: ArrayView2<f32>, b: ArrayView2<f32>) -> Array2<f32> {
        let mut c = Array2::zeros((a.nrows(), b.ncols()));
        for i in 0..a.nrows() {
            for j in 0..b.ncols() {
                c[[i, j]] = (0..a.ncols())
                    .map(|k| a[[i, k]] as f64 * b[[k, j]] as f64)
                    .sum::<f64>() as f32;
            }
        }
        c
    }

    #[test]
    fn plain_transposed_and_accumulated() {
        let a = Array2::from_shape_fn((7, 5), |(i, j)| (i as f32 - 2.0) * 0.3 + j as f32 * 0.1);
        let b = Array2::from_shape_fn((5, 9), |(i, j)| (j as f32 - i as f32) * 0.2);
        let mut c = Array2::zeros((7, 9));
        matmul(c.view_mut(), a.view(), b.view(), false);
        let r = naive(a.view(), b.view());
        assert!(c.iter().zip(&r).all(|(x, y)| (x - y).abs() < 1e-5));
        // transposed operands as views
        let at = a.t().to_owned();
        let bt = b.t().to_owned();
        let mut c2 = Array2::zeros((7, 9));
        matmul(c2.view_mut(), at.t(), bt.t(), false);
        assert!(c2.iter().zip(&r).all(|(x, y)| (x - y).abs() < 1e-5));
        matmul(c2.view_mut(), a.view(), b.view(), true);
        assert!(c2.iter().zip(&r).all(|(x, y)| (x - 2.0 * y).abs() < 1e-4));
    }
}
