//! The minibatch every baseline objective reads.

#[cfg(doc)]
use crate::nn::model::Kind;
use ndarray::ArrayView2;

/// One minibatch as the baseline objectives read it.
#[derive(Debug, Clone, Copy)]
pub struct Batch<'a> {
    /// The label table (`classes × label_dim`).
    pub labels: ArrayView2<'a, f32>,
    /// Images, one per row.
    pub x: ArrayView2<'a, f32>,
    /// The class of each image.
    pub y: &'a [u8],
    /// Standard-normal noise: [`Kind::noise_draws`] blocks of `n × d` rows.
    pub eps: ArrayView2<'a, f32>,
}
