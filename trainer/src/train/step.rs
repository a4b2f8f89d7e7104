//! One training step's loss and gradient on every core, with a result that does not depend
//! on the number of threads.
//!
//! The batch is cut into a fixed number of shards (a recipe setting, not the thread count).
//! Each shard's objective and gradient are computed on their own, by whichever thread, into
//! the shard's own buffers; the step's terms and gradient are then the shards' weighted sum,
//! always taken in shard order (the sum itself happens inside [`crate::nn::adam::Adam::update_sum`]).
//! So 1, 2 or 8 threads give the same bytes; only the shard count changes the arithmetic.

use crate::nn::model::Net;
use crate::objectives::objective;
use crate::objectives::pse::{Terms, Weights, Workspace};
use ndarray::{Array2, ArrayView2, s};
use std::ops::Range;

/// The number of threads this machine offers (1 when it cannot tell).
pub fn available_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The rows of each of `shards` contiguous, near-equal parts of a batch of `batch` rows
/// (the first `batch % shards` parts one row longer; empty parts dropped).
pub fn shard_rows(batch: usize, shards: usize) -> Vec<Range<usize>> {
    let shards = shards.clamp(1, batch.max(1));
    let (base, extra) = (batch / shards, batch % shards);
    let mut start = 0;
    (0..shards)
        .map(|i| {
            let len = base + usize::from(i < extra);
            let r = start..start + len;
            start += len;
            r
        })
        .filter(|r| !r.is_empty())
        .collect()
}

/// One shard's rows of the batch, its noise, buffers and results.
#[derive(Debug, Default)]
struct Shard {
    rows: Range<usize>,
    /// The shard's noise rows, gathered from each draw's block of the batch's noise.
    eps: Array2<f32>,
    grad: Vec<f32>,
    terms: Terms,
    ws: Workspace,
}

/// The buffers of a sharded training step, reused across steps.
#[derive(Debug)]
pub struct ShardedStep {
    batch: usize,
    shards: Vec<Shard>,
}

impl ShardedStep {
    /// Buffers for batches of `batch` rows cut into `shards` shards, for a model of
    /// `n_params` parameters.
    pub fn new(batch: usize, shards: usize, n_params: usize) -> ShardedStep {
        ShardedStep {
            batch,
            shards: shard_rows(batch, shards)
                .into_iter()
                .map(|rows| Shard {
                    rows,
                    grad: vec![0.0; n_params],
                    ..Shard::default()
                })
                .collect(),
        }
    }

    /// Computes every shard's terms and gradient for the batch `x` (reconstructing `target`
    /// instead when given, see [`objective::loss_and_grad`]), `y` with noise `eps`
    /// ([`crate::nn::model::Kind::noise_draws`] blocks of `batch × d` rows) on up to `threads`
    /// threads, and returns the batch's terms (per-example means, summed over the shards in
    /// order). The gradient is left in the shards: see [`ShardedStep::grads`].
    #[allow(clippy::too_many_arguments)]
    pub fn run(
        &mut self,
        net: &Net,
        params: &[f32],
        labels: ArrayView2<f32>,
        x: ArrayView2<f32>,
        target: Option<ArrayView2<f32>>,
        y: &[u8],
        eps: ArrayView2<f32>,
        w: Weights,
        threads: usize,
    ) -> Terms {
        assert_eq!(x.nrows(), self.batch, "batch size");
        let draws = eps.nrows() / self.batch.max(1);
        let d = eps.ncols();
        for sh in &mut self.shards {
            let (r, n) = (sh.rows.clone(), sh.rows.len());
            if sh.eps.dim() != (n * draws, d) {
                sh.eps = Array2::zeros((n * draws, d));
            }
            for k in 0..draws {
                let from = eps.slice(s![k * self.batch + r.start..k * self.batch + r.end, ..]);
                sh.eps.slice_mut(s![k * n..(k + 1) * n, ..]).assign(&from);
            }
        }
        // The images, targets and classes are read in place: a shard's rows of a row-major
        // batch are contiguous.
        let work = |sh: &mut Shard| {
            let r = sh.rows.clone();
            sh.grad.fill(0.0);
            sh.terms = objective::loss_and_grad(
                net,
                params,
                &mut sh.grad,
                labels,
                x.slice_move(s![r.clone(), ..]),
                target.map(|t| t.slice_move(s![r.clone(), ..])),
                &y[r],
                sh.eps.view(),
                w,
                &mut sh.ws,
            );
        };
        let threads = threads.clamp(1, self.shards.len());
        if threads == 1 {
            self.shards.iter_mut().for_each(work);
        } else {
            let per = self.shards.len().div_ceil(threads);
            std::thread::scope(|scope| {
                let mut chunks = self.shards.chunks_mut(per);
                let mine = chunks.next();
                for chunk in chunks {
                    scope.spawn(move || chunk.iter_mut().for_each(work));
                }
                mine.into_iter().flatten().for_each(work);
            });
        }
        let mut t = Terms::default();
        for (sh, (_, wt)) in self.shards.iter().zip(self.grads()) {
            let wt = wt as f64;
            t.bce += wt * sh.terms.bce;
            t.kl += wt * sh.terms.kl;
            t.ce += wt * sh.terms.ce;
        }
        t
    }

    /// Each shard's gradient (of its own mean loss) with its weight in the batch mean
    /// (`rows / batch`), in shard order.
    pub fn grads(&self) -> impl Iterator<Item = (&[f32], f32)> {
        let b = self.batch as f32;
        self.shards
            .iter()
            .map(move |sh| (sh.grad.as_slice(), sh.rows.len() as f32 / b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::model::Kind;
    use crate::objectives::objective::tests::tiny;

    #[test]
    fn shards_cover_the_batch_in_order() {
        assert_eq!(shard_rows(10, 3), vec![0..4, 4..7, 7..10]);
        assert_eq!(shard_rows(2, 5), vec![0..1, 1..2]);
        assert_eq!(shard_rows(7, 1), vec![0..7]);
    }

    /// The sharded gradient is the batch gradient (up to rounding), and the thread count
    /// changes no bit of it.
    #[test]
    fn sharded_gradient_is_the_batch_gradient_whatever_the_threads() {
        for kind in [Kind::PseStar, Kind::Jmvae] {
            let t = tiny(kind);
            let w = Weights { kl: 0.7, ce: 1.3 };
            let mut whole = vec![0.0; t.p.len()];
            let tw = objective::loss_and_grad(
                &t.net,
                &t.p,
                &mut whole,
                t.labels.view(),
                t.x.view(),
                None,
                &t.y,
                t.eps.view(),
                w,
                &mut Workspace::default(),
            );
            let mut sums = Vec::new();
            for threads in [1, 2, 3] {
                let mut st = ShardedStep::new(4, 3, t.p.len());
                let ts = st.run(
                    &t.net,
                    &t.p,
                    t.labels.view(),
                    t.x.view(),
                    None,
                    &t.y,
                    t.eps.view(),
                    w,
                    threads,
                );
                assert!((ts.total(w) - tw.total(w)).abs() < 1e-5, "{ts:?} {tw:?}");
                let mut g = vec![0.0f32; t.p.len()];
                for (gs, wt) in st.grads() {
                    for (a, b) in g.iter_mut().zip(gs) {
                        *a += wt * b;
                    }
                }
                for (a, b) in g.iter().zip(&whole) {
                    assert!((a - b).abs() <= 1e-5 * (1.0 + b.abs()), "{a} vs {b}");
                }
                sums.push((g, ts));
            }
            assert!(
                sums.windows(2).all(|p| p[0] == p[1]),
                "threads changed bits"
            );
        }
    }
}
