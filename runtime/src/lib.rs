//! `pse-runtime`: heap-free, panic-free inference for PSE / PSE* models.
//!
//! A model travels as a blob ([`format`], from `FORMAT.md`): a 14-byte header and a postcard
//! payload whose weight arrays are borrowed straight from the blob. [`Model::from_bytes`] validates
//! everything once; afterwards the operations can only fail on their own arguments:
//!
//! - [`Model::encode`] — `q(z|x)`: an image's `mu` and `logvar`;
//! - [`Model::annotate`] — best label or "unknown" (the latent threshold and, with a format-2
//!   blob, the open-world verdict of [`openworld`]), per-label log-likelihoods, posteriors;
//! - [`Model::image_scores`] — the open-world scores of an image;
//! - [`Model::generate`] — decode a label's mean or a seeded sample;
//! - [`Model::interpolate`] — decode `(1 - t) mu_a + t mu_b`;
//! - [`Model::generate_from_vector`] — decode from a word vector via the label encoder;
//! - [`Model::enroll_image`] + [`enroll::Enroller`] + [`enroll::LabelTable`] — new labels
//!   on the device, used by `annotate` and `generate_from_gaussian` beside the model's own.
//!
//! Memory is the caller's: a [`Scratch`] of the sizes [`Model::scratch_len`] reports, and
//! fixed-size outputs. Host and device compute the same bits: fixed summation order, no
//! fused multiply-add, `libm` for every transcendental function, integer dot products for
//! int8 layers.
//!
//! Speed: the kernels are portable safe Rust that LLVM vectorises; with the `std` feature on
//! x86-64 they switch at run time to AVX2 builds when the CPU has it, and on `thumbv7em`
//! (Cortex-M4/M7) int8 layers use the DSP instructions `SXTB16`/`SMLAD` — both give the same
//! bits as the portable code.
//!
//! A committed MNIST model, from bytes to a verdict:
//!
//! ```
//! use pse_runtime::{AnnotateOut, Model, Scratch, Verdict};
//!
//! let bytes = include_bytes!("../../models/mnist-pse-star-10d-i8.pse");
//! let model = Model::from_bytes(bytes)?;
//! assert_eq!((model.image_size(), model.label_count()), ((28, 28), 10));
//! let need = model.scratch_len();
//! let (mut act, mut quant) = (vec![0.0f32; need.f32s], vec![0i8; need.i8s]);
//! let mut scratch = Scratch::new(&mut act, &mut quant);
//! let mut out = AnnotateOut::new();
//! // Uniform noise is no digit: the open-world verdict says so.
//! let noise: Vec<u8> = (0..784u32).map(|i| (i.wrapping_mul(2654435761) >> 24) as u8).collect();
//! let verdict = model.annotate(&noise[..], &[], &mut scratch, &mut out)?;
//! assert!(matches!(verdict, Verdict::Unknown { .. }), "{:?}", out.unknown_reason());
//! // A generated "seven" is a seven.
//! let mut seven = [0.0f32; 784];
//! model.generate(model.label_index("seven").unwrap(), pse_runtime::Sample::Mean, &mut scratch, &mut seven)?;
//! let verdict = model.annotate(&seven[..], &[], &mut scratch, &mut out)?;
//! assert_eq!(verdict, Verdict::Label(model.label_index("seven").unwrap()));
//! # Ok::<(), pse_runtime::Error>(())
//! ```
//!
//! Writing blobs (the trainer's exporter): encode each weight matrix with
//! [`quant::encode_weights`], biases and label arrays with [`quant::encode_f32`], label
//! constants with [`labels::write_label_constants`], assemble a [`payload::Payload`]
//! borrowing those buffers, and call [`blob::encode`]. Weight matrices are row-major
//! `[out][in]` (transpose an `[in][out]` matrix first).
//!
//! ```
//! use pse_runtime::payload::*;
//! use pse_runtime::{blob, labels, quant, AnnotateOut, Model, Sample, Scratch, Verdict};
//!
//! // A toy model: 2×1 images, d = 2, mu = x, logvar = 0, decoder sigmoid(z).
//! let eye = [1.0f32, 0.0, 0.0, 1.0];
//! let enc = Encoding::I8; // the trunk/decoder encoding; heads stay f32
//! let layer_bytes = |enc: Encoding, w: &[f32]| {
//!     let mut wb = vec![0u8; enc.weight_bytes(2, 2).unwrap()];
//!     let mut sb = vec![0u8; enc.scale_bytes(2).unwrap()];
//!     quant::encode_weights(enc, w, 2, 2, &mut wb, &mut sb).unwrap();
//!     (wb, sb)
//! };
//! let (eye_f32, _) = layer_bytes(Encoding::F32, &eye);
//! let (zero_f32, _) = layer_bytes(Encoding::F32, &[0.0; 4]);
//! let (eye_q, eye_scales) = layer_bytes(enc, &eye);
//! let mut zero_bias = [0u8; 8];
//! quant::encode_f32(&[0.0, 0.0], &mut zero_bias).unwrap();
//! let layer = |weights, activation| Layer {
//!     in_dim: 2, out_dim: 2, activation, weights, bias: &zero_bias[..],
//! };
//!
//! // Two labels at (1, 0) and (0, 1) with unit variance.
//! let (mu_l, lv_l) = ([1.0f32, 0.0, 0.0, 1.0], [0.0f32; 4]);
//! let (mut mu_b, mut lv_b, mut iv_b, mut ln_b) = ([0u8; 16], [0u8; 16], [0u8; 16], [0u8; 8]);
//! quant::encode_f32(&mu_l, &mut mu_b).unwrap();
//! quant::encode_f32(&lv_l, &mut lv_b).unwrap();
//! labels::write_label_constants(&lv_l, 2, &mut iv_b, &mut ln_b).unwrap();
//!
//! let payload = Payload {
//!     kind: ModelKind::Pse,
//!     latent_dim: 2,
//!     image_width: 2,
//!     image_height: 1,
//!     unknown_threshold: f32::NEG_INFINITY,
//!     labels: Labels {
//!         count: 2, names: "left\nright",
//!         mu: &mu_b, logvar: &lv_b, inv_var: &iv_b, log_norm: &ln_b,
//!     },
//!     label_encoder: None,
//!     encoder: Some(Encoder {
//!         trunk: Chain::new(&[layer(Weights::from_parts(enc, &eye_q, &eye_scales), Activation::Relu)]),
//!         mu: layer(Weights::F32(&eye_f32), Activation::Identity),
//!         logvar: layer(Weights::F32(&zero_f32), Activation::Identity),
//!     }),
//!     decoder: Chain::new(&[layer(Weights::from_parts(enc, &eye_q, &eye_scales), Activation::Sigmoid)]),
//!     open_world: None,
//! };
//! let mut blob_bytes = vec![0u8; blob::encoded_len(&payload).unwrap()];
//! blob::encode(&payload, &mut blob_bytes).unwrap();
//!
//! // On the device: validate once, then run.
//! let model = Model::from_bytes(&blob_bytes).unwrap();
//! let need = model.scratch_len();
//! let (mut act, mut q) = (vec![0f32; need.f32s], vec![0i8; need.i8s]);
//! let mut scratch = Scratch::new(&mut act, &mut q);
//! let mut out = AnnotateOut::new();
//! let verdict = model.annotate(&[30u8, 220], &[], &mut scratch, &mut out).unwrap();
//! assert_eq!(verdict, Verdict::Label(1));
//! assert_eq!(model.label_name(1), Some("right"));
//! let mut pixels = [0f32; 2];
//! model.generate(0, Sample::Seed(42), &mut scratch, &mut pixels).unwrap();
//! ```
#![no_std]
// `unsafe` is allowed in one module only, `simd` (the AVX2 dispatch and the Cortex-M4 DSP
// kernel); its documentation gives the measurements that asked for it.
#![deny(unsafe_code)]
#![deny(missing_docs)]
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::arithmetic_side_effects,
    clippy::unreachable,
    clippy::todo,
    clippy::unimplemented
)]

#[cfg(any(test, feature = "std"))]
extern crate std;

pub mod annotate;
pub mod blob;
mod crc;
pub mod dense;
pub mod enroll;
pub mod error;
#[doc = include_str!("../FORMAT.md")]
pub mod format {}
pub mod gaussian;
pub mod generate;
pub mod image;
mod kernel;
pub mod labels;
pub mod model;
pub mod openworld;
pub mod payload;
pub mod preprocess;
pub mod quant;
pub mod reference;
pub mod rng;
#[allow(unsafe_code)]
mod simd;
pub mod validate;

mod le;

#[cfg(test)]
mod robustness;
#[cfg(test)]
mod testutil;

pub use annotate::{AnnotateOut, Verdict};
pub use enroll::{Enroller, LabelTable};
pub use error::Error;
pub use generate::Sample;
pub use image::Image;
pub use labels::LabelGaussian;
pub use model::{Model, Scratch, ScratchLen};

/// Largest latent size `d`.
pub const MAX_LATENT: usize = 64;
/// Largest number of labels (in a blob, and in one annotation counting extra labels).
pub const MAX_LABELS: usize = 64;
/// Largest number of layers in the encoder trunk and in the decoder.
pub const MAX_LAYERS: usize = 8;
/// Largest layer width and pixel count (keeps int8 dot products inside `i32`).
pub const MAX_DIM: usize = 1 << 16;
