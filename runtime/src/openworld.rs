//! The open-world verdict: is this image something the model knows at all?
//!
//! The latent likelihood of `mu_x` alone (the `unknown_threshold`) is high for many images
//! that are no digit: an encoder maps noise, blank frames or clothes somewhere near the
//! labels. The decoder knows better. For an image `x` (pixels in `[0, 1]`):
//!
//! - `R` = `log p(x | decoder(mu_x))`, the Bernoulli log-likelihood of the image under its own
//!   reconstruction (nats): low for anything the model cannot draw, such as noise;
//! - `G` = the log-likelihood of `x` under a fixed, generic model of images: each pixel is
//!   Bernoulli with probability `0.02 + 0.96 · (left + up) / 2` of its left and upper
//!   neighbours (0 outside the image) — a measure of how simple the image is, needing no
//!   training;
//! - the likelihood ratio `R − G`: how much better the model explains the image than the
//!   generic model does. It corrects `R` for the image's complexity (simple images such as
//!   blank frames or plain clothes get a high `R` from any model), as the input-complexity
//!   and likelihood-ratio remedies of the out-of-distribution literature do.
//!
//! A blob of format version 2 may carry [`OpenWorld`](crate::payload::OpenWorld) bounds, calibrated by the exporter on
//! held-out training images; annotation then answers "unknown" when `R` or `R − G` is below
//! its bound, besides the latent threshold ([`UnknownReason`] says which test failed).
//!
//! Probabilities are clamped to `[1e-6, 1 − 1e-6]`; logarithms are `libm::logf`; sums run in
//! pixel order in `f32`: every target computes the same bits.

use crate::image::Image;
use crate::model::Scratch;
use crate::{Error, Model};

/// An image's open-world scores (nats).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ImageScores {
    /// `R`: log-likelihood of the image under its reconstruction `decoder(mu_x)`.
    pub reconstruction: f32,
    /// `G`: log-likelihood of the image under the generic neighbour model.
    pub generic: f32,
}

impl ImageScores {
    /// The likelihood ratio `R − G`.
    pub fn ratio(&self) -> f32 {
        self.reconstruction - self.generic
    }
}

impl Model<'_> {
    /// The open-world scores of `image` ([`crate::openworld`]): encodes it, decodes `mu_x`
    /// into `recon` (`width * height` long, caller-owned; it holds the reconstruction
    /// afterwards) and scores the image against it and against the generic model. Works on
    /// every blob (the exporter calibrates the bounds with it).
    pub fn image_scores<'x>(
        &self,
        image: impl Into<Image<'x>>,
        scratch: &mut Scratch<'_>,
        recon: &mut [f32],
    ) -> Result<ImageScores, Error> {
        let image = image.into();
        let mut mu = [0.0f32; crate::MAX_LATENT];
        let mu = mu.get_mut(..self.latent_dim()).unwrap_or_default();
        self.encode_impl(image, scratch, mu, None)?;
        self.scores_of(image, mu, scratch, recon)
    }

    /// The open-world scores of `image` whose `mu_x` is `mu`, decoding into `recon`.
    pub(crate) fn scores_of(
        &self,
        image: Image<'_>,
        mu: &[f32],
        scratch: &mut Scratch<'_>,
        recon: &mut [f32],
    ) -> Result<ImageScores, Error> {
        self.decode(mu, scratch, recon)?;
        Ok(ImageScores {
            reconstruction: reconstruction_log_likelihood(&image, recon),
            generic: generic_log_likelihood(&image, self.image_size().0),
        })
    }
}

/// Why an annotation answered "unknown".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnknownReason {
    /// The best label log-likelihood of `mu_x` is below the model's unknown threshold.
    LatentLikelihood,
    /// The reconstruction log-likelihood `R` is below its bound.
    Reconstruction,
    /// The likelihood ratio `R − G` is below its bound.
    LikelihoodRatio,
}

/// The smallest probability a Bernoulli term uses (and `1 −` it the largest).
pub const P_MIN: f32 = 1e-6;
/// The generic model's probability for a pixel whose neighbours are both 0.
const G_LOW: f32 = 0.02;
/// `G_LOW` plus this is the probability when both neighbours are 1.
const G_SPAN: f32 = 0.96;

/// `x · ln p + (1 − x) · ln(1 − p)` with `p` clamped to `[P_MIN, 1 − P_MIN]`; one logarithm
/// when `x` is exactly 0 or 1.
fn bernoulli(x: f32, p: f32) -> f32 {
    let p = p.clamp(P_MIN, 1.0 - P_MIN);
    if x == 0.0 {
        libm::logf(1.0 - p)
    } else if x == 1.0 {
        libm::logf(p)
    } else {
        x * libm::logf(p) + (1.0 - x) * libm::logf(1.0 - p)
    }
}

/// Pixel `i` of `image` in `[0, 1]` (bytes are divided by 255, as the encoder does).
fn pixel(image: &Image<'_>, i: usize) -> f32 {
    match image {
        Image::U8(b) => b.get(i).map_or(0.0, |&v| v as f32 / 255.0),
        Image::F32(x) => x.get(i).copied().unwrap_or(0.0),
    }
}

/// [`bernoulli`] remembering its last arguments and result: images are mostly background,
/// where the same `(x, p)` comes again and again (`p` clamped to `P_MIN`, or the generic
/// model's `G_LOW`), and the logarithm is most of the cost on a microcontroller. The result
/// is the same bits as calling [`bernoulli`] every time.
struct Memo {
    x: f32,
    p: f32,
    value: f32,
}

impl Memo {
    fn new() -> Self {
        Memo {
            x: f32::NAN,
            p: f32::NAN,
            value: 0.0,
        }
    }

    fn bernoulli(&mut self, x: f32, p: f32) -> f32 {
        // Compared as bits: NaN never matches, and -0.0 / 0.0 stay apart.
        if x.to_bits() != self.x.to_bits() || p.to_bits() != self.p.to_bits() {
            *self = Memo {
                x,
                p,
                value: bernoulli(x, p),
            };
        }
        self.value
    }
}

/// `R`: the Bernoulli log-likelihood of `image` under pixel probabilities `p` (same length).
pub fn reconstruction_log_likelihood(image: &Image<'_>, p: &[f32]) -> f32 {
    let mut memo = Memo::new();
    p.iter().enumerate().fold(0.0f32, |s, (i, &pi)| {
        // Clamped here (as `bernoulli` clamps) so that every clamped `p` shares one memo
        // entry; the generic model's `p` needs no clamp.
        s + memo.bernoulli(pixel(image, i), pi.clamp(P_MIN, 1.0 - P_MIN))
    })
}

/// `G`: the log-likelihood of `image` (row-major, `width` pixels per row) under the generic
/// neighbour model of the module docs.
pub fn generic_log_likelihood(image: &Image<'_>, width: usize) -> f32 {
    let width = width.max(1);
    let mut memo = Memo::new();
    (0..image.len()).fold(0.0f32, |s, i| {
        let left = if i.is_multiple_of(width) {
            0.0
        } else {
            pixel(image, i.wrapping_sub(1))
        };
        let up = i.checked_sub(width).map_or(0.0, |j| pixel(image, j));
        s + memo.bernoulli(pixel(image, i), G_LOW + G_SPAN * 0.5 * (left + up))
    })
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn bernoulli_terms() {
        assert_eq!(bernoulli(1.0, 1.0), libm::logf(1.0 - P_MIN));
        assert_eq!(bernoulli(0.0, 1.0), libm::logf(1.0 - (1.0 - P_MIN)));
        assert!((bernoulli(0.5, 0.5) - libm::logf(0.5)).abs() < 1e-6);
        assert!(bernoulli(0.3, 0.3) > bernoulli(0.3, 0.9));
    }

    #[test]
    fn the_memo_gives_the_same_bits_as_every_call() {
        let mut memo = Memo::new();
        for &(x, p) in &[
            (0.0f32, 0.02f32),
            (0.0, 0.02),
            (1.0, 0.02),
            (0.0, -0.0),
            (0.0, 0.0),
            (0.5, 1e-9),
            (0.5, 1e-9),
            (0.0, 0.02),
        ] {
            assert_eq!(memo.bernoulli(x, p).to_bits(), bernoulli(x, p).to_bits());
        }
    }

    #[test]
    fn reconstruction_is_highest_for_the_image_itself() {
        let x = [0u8, 255, 255, 0, 128, 0];
        let img = Image::U8(&x);
        let exact: [f32; 6] = core::array::from_fn(|i| x[i] as f32 / 255.0);
        let blurred = [0.3f32; 6];
        assert!(
            reconstruction_log_likelihood(&img, &exact)
                > reconstruction_log_likelihood(&img, &blurred)
        );
        assert_eq!(
            reconstruction_log_likelihood(&img, &exact),
            reconstruction_log_likelihood(&Image::F32(&exact), &exact),
            "bytes and their f32 values score alike"
        );
    }

    #[test]
    fn the_generic_model_finds_blank_simple_and_noise_hard() {
        let blank = [0u8; 64];
        let mut stroke = [0u8; 64];
        for r in 2..6 {
            stroke[r * 8 + 3] = 255;
            stroke[r * 8 + 4] = 255;
        }
        // A fixed pseudo-random pattern.
        let noise: [u8; 64] = core::array::from_fn(|i| ((i * 97 + 13) % 251) as u8);
        let g = |b: &[u8]| generic_log_likelihood(&Image::U8(b), 8);
        assert!(g(&blank) > g(&stroke) && g(&stroke) > g(&noise));
        assert!((g(&blank) - 64.0 * libm::logf(1.0 - G_LOW)).abs() < 1e-3);
        let s = ImageScores {
            reconstruction: -10.0,
            generic: -30.0,
        };
        assert_eq!(s.ratio(), 20.0);
    }
}
