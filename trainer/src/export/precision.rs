//! How a model is encoded for the runtime: the weight encodings the command line offers,
//! the encoding of each layer, and the image shape a pixel count stands for.

use crate::nn::model::Net;
use pse_runtime::payload::Encoding;

/// A weight encoding as the command line names it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum WeightEncoding {
    /// IEEE binary32: the trained values.
    F32,
    /// IEEE binary16, round to nearest even.
    F16,
    /// Symmetric int8 per output channel with `f32` scales.
    I8,
    /// Symmetric int4 per output channel (two weights a byte, the clipping of least squared
    /// error per row) with `f32` scales; activations stay int8.
    I4,
}

impl WeightEncoding {
    /// The runtime's encoding.
    pub fn encoding(self) -> Encoding {
        match self {
            WeightEncoding::F32 => Encoding::F32,
            WeightEncoding::F16 => Encoding::F16,
            WeightEncoding::I8 => Encoding::I8,
            WeightEncoding::I4 => Encoding::I4,
        }
    }

    /// The short name used in file names and model cards (`f32`, `f16`, `i8`, `i4`).
    pub fn name(self) -> &'static str {
        self.encoding().name()
    }
}

/// Which parts of the model a blob holds (`pse-trainer export --part`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum BlobPart {
    /// Everything: encoder, heads, label table, decoder, the open-world verdict.
    #[default]
    All,
    /// What annotation needs: encoder, heads, label table (and label encoder). No decoder,
    /// so no generation and no open-world verdict (the latent threshold alone says
    /// "unknown").
    Annotate,
    /// What generation needs: label table (and label encoder) and decoder. No image
    /// encoder, so no annotation, enrollment or verdict (blob format 4).
    Generate,
}

impl BlobPart {
    /// The name used on the command line and in model cards.
    pub fn name(self) -> &'static str {
        match self {
            BlobPart::All => "all",
            BlobPart::Annotate => "annotate",
            BlobPart::Generate => "generate",
        }
    }
}

/// The encoding of every encoder-trunk and decoder layer (the heads are always `f32`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Precision {
    /// One encoding per encoder trunk layer, input first.
    pub trunk: Vec<Encoding>,
    /// One encoding per decoder layer, latent first.
    pub decoder: Vec<Encoding>,
}

impl Precision {
    /// Every trunk and decoder layer of `net` in `enc`.
    pub fn uniform(net: &Net, enc: Encoding) -> Precision {
        Precision {
            trunk: vec![enc; net.enc.layers.len()],
            decoder: vec![enc; net.dec.layers.len()],
        }
    }
}

/// `(width, height)` of images with `pixels` pixels: square when `pixels` is a square
/// (28 × 28 for MNIST and Fashion-MNIST), else one row.
pub fn image_size(pixels: usize) -> (usize, usize) {
    let side = pixels.isqrt();
    if side * side == pixels {
        (side, side)
    } else {
        (pixels, 1)
    }
}
