//! The payload: serde structs that borrow every array from the blob (zero-copy).
//!
//! postcard writes the fields in declaration order; `runtime/FORMAT.md` spells the wire
//! layout out field by field. Weight, bias, scale and label arrays are little-endian byte
//! slices decoded element by element with `from_le_bytes`, so the blob needs no alignment
//! and can be used straight from flash.
//!
//! These structs carry no invariants: [`crate::model::Model::from_payload`] (which
//! [`crate::blob::encode`] and [`crate::model::Model::from_bytes`] call) checks them.

use core::fmt;

use serde::de::{SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::MAX_LAYERS;

/// What objective the model was trained with (informational; inference is the same).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ModelKind {
    /// PSE: reconstruction + KL to the label Gaussian.
    Pse,
    /// PSE*: PSE plus a classifier loss on the reconstruction.
    PseStar,
}

/// A layer's activation function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Activation {
    /// `y = x`.
    Identity,
    /// `y = max(x, 0)` (NaN becomes 0).
    Relu,
    /// `y = 1 / (1 + expf(-x))`, with `libm::expf`.
    Sigmoid,
}

/// How a layer's weight matrix is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// IEEE binary32, 4 bytes per weight.
    F32,
    /// IEEE binary16, 2 bytes per weight.
    F16,
    /// Symmetric int8 per output channel, 1 byte per weight plus one `f32` scale per row.
    I8,
    /// Symmetric int4 per output channel, two weights per byte (each row padded to a whole
    /// byte) plus one `f32` scale per row (format version 3).
    I4,
}

impl Encoding {
    /// Bytes of the weight array of an `out × inp` layer (`None` on overflow).
    pub fn weight_bytes(self, out: usize, inp: usize) -> Option<usize> {
        match self {
            Encoding::F32 => out.checked_mul(inp)?.checked_mul(4),
            Encoding::F16 => out.checked_mul(inp)?.checked_mul(2),
            Encoding::I8 => out.checked_mul(inp),
            Encoding::I4 => out.checked_mul(inp.div_ceil(2)),
        }
    }

    /// Bytes of the scale array of a layer with `out` outputs (0 unless int8 or int4).
    pub fn scale_bytes(self, out: usize) -> Option<usize> {
        match self {
            Encoding::I8 | Encoding::I4 => out.checked_mul(4),
            Encoding::F32 | Encoding::F16 => Some(0),
        }
    }

    /// The short name the exporter and the model cards use (`f32`, `f16`, `i8`, `i4`).
    pub const fn name(self) -> &'static str {
        match self {
            Encoding::F32 => "f32",
            Encoding::F16 => "f16",
            Encoding::I8 => "i8",
            Encoding::I4 => "i4",
        }
    }
}

/// A weight matrix, row-major `[out][in]` (row `o` holds the weights into output `o`, like
/// PyTorch's `Linear.weight` and ONNX `Gemm` with `transB = 1`), little-endian.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Weights<'a> {
    /// `out * in` `f32` values.
    F32(&'a [u8]),
    /// `out * in` IEEE binary16 values.
    F16(&'a [u8]),
    /// `out * in` `i8` values (stored as bytes) and `out` `f32` scales:
    /// `w[o][i] = q[o][i] as f32 * scales[o]`.
    I8 {
        /// The quantised weights.
        q: &'a [u8],
        /// One scale per output channel.
        scales: &'a [u8],
    },
    /// `out * ceil(in / 2)` bytes of 4-bit two's-complement codes (row `o`'s weight `i` in
    /// byte `o * ceil(in / 2) + i / 2`, the low nibble for even `i`) and `out` `f32` scales:
    /// `w[o][i] = q[o][i] as f32 * scales[o]` (format version 3).
    I4 {
        /// The packed quantised weights.
        q: &'a [u8],
        /// One scale per output channel.
        scales: &'a [u8],
    },
}

impl<'a> Weights<'a> {
    /// The encoding.
    pub const fn encoding(&self) -> Encoding {
        match self {
            Weights::F32(_) => Encoding::F32,
            Weights::F16(_) => Encoding::F16,
            Weights::I8 { .. } => Encoding::I8,
            Weights::I4 { .. } => Encoding::I4,
        }
    }

    /// Builds weights of encoding `enc` from arrays written by
    /// [`crate::quant::encode_weights`] (`scales` is ignored unless `enc` is `I8` or `I4`).
    pub const fn from_parts(enc: Encoding, weights: &'a [u8], scales: &'a [u8]) -> Self {
        match enc {
            Encoding::F32 => Weights::F32(weights),
            Encoding::F16 => Weights::F16(weights),
            Encoding::I8 => Weights::I8 { q: weights, scales },
            Encoding::I4 => Weights::I4 { q: weights, scales },
        }
    }
}

/// One dense layer `y = act(W x + b)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layer<'a> {
    /// Input size.
    pub in_dim: u32,
    /// Output size.
    pub out_dim: u32,
    /// Activation applied to `W x + b`.
    pub activation: Activation,
    /// The weight matrix.
    #[serde(borrow)]
    pub weights: Weights<'a>,
    /// `out_dim` little-endian `f32` biases (`f32` in every encoding).
    pub bias: &'a [u8],
}

impl Layer<'_> {
    /// A 0×0 identity layer with no data (fills unused chain slots).
    pub const EMPTY: Layer<'static> = Layer {
        in_dim: 0,
        out_dim: 0,
        activation: Activation::Identity,
        weights: Weights::F32(&[]),
        bias: &[],
    };
}

/// A sequence of layers applied in order, with room for [`MAX_LAYERS`] of them.
///
/// On the wire it is a postcard sequence of [`Layer`]s. Decoding keeps the first
/// [`MAX_LAYERS`] and counts the rest, so that validation can report
/// [`crate::Error::TooManyLayers`] instead of a bare decode error.
#[derive(Clone, Copy)]
pub struct Chain<'a> {
    layers: [Layer<'a>; MAX_LAYERS],
    kept: usize,
    declared: usize,
}

impl<'a> Chain<'a> {
    /// A chain of `layers` (never fails; a chain longer than [`MAX_LAYERS`] is refused when
    /// the payload is validated or encoded).
    pub fn new(layers: &[Layer<'a>]) -> Self {
        let mut chain = Chain {
            layers: [Layer::EMPTY; MAX_LAYERS],
            kept: 0,
            declared: layers.len(),
        };
        for (slot, layer) in chain.layers.iter_mut().zip(layers) {
            *slot = *layer;
            chain.kept = chain.kept.saturating_add(1);
        }
        chain
    }

    /// The layers kept (all of them unless there were more than [`MAX_LAYERS`]).
    pub fn layers(&self) -> &[Layer<'a>] {
        self.layers.get(..self.kept).unwrap_or(&[])
    }

    /// How many layers the chain was given (on the wire, or to [`Chain::new`]).
    pub const fn declared_len(&self) -> usize {
        self.declared
    }
}

impl fmt::Debug for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Chain")
            .field("layers", &self.layers())
            .field("declared", &self.declared)
            .finish()
    }
}

impl PartialEq for Chain<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.declared == other.declared && self.layers() == other.layers()
    }
}

impl Serialize for Chain<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.declared != self.kept {
            return Err(serde::ser::Error::custom("chain longer than MAX_LAYERS"));
        }
        serializer.collect_seq(self.layers())
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Chain<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ChainVisitor;
        impl<'de> Visitor<'de> for ChainVisitor {
            type Value = Chain<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a sequence of layers")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Chain<'de>, A::Error> {
                let mut chain = Chain::new(&[]);
                while let Some(layer) = seq.next_element::<Layer<'de>>()? {
                    if let Some(slot) = chain.layers.get_mut(chain.kept) {
                        *slot = layer;
                        chain.kept = chain.kept.saturating_add(1);
                    }
                    chain.declared = chain.declared.saturating_add(1);
                }
                Ok(chain)
            }
        }
        deserializer.deserialize_seq(ChainVisitor)
    }
}

/// The image encoder `q(z|x)`: a trunk, then two linear heads.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Encoder<'a> {
    /// Layers from the image (`width * height` inputs) to the heads' input.
    #[serde(borrow)]
    pub trunk: Chain<'a>,
    /// Head to `mu` (`d` outputs, identity activation).
    #[serde(borrow)]
    pub mu: Layer<'a>,
    /// Head to `logvar` (`d` outputs, identity activation).
    #[serde(borrow)]
    pub logvar: Layer<'a>,
}

/// The label encoder `q(z|l)` for label vectors (word embeddings): one dense layer per
/// output, from a `k`-dimensional vector to `mu` and `logvar`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelEncoder<'a> {
    /// `k → d`, identity activation.
    #[serde(borrow)]
    pub mu: Layer<'a>,
    /// `k → d`, identity activation.
    #[serde(borrow)]
    pub logvar: Layer<'a>,
}

/// The label table: one diagonal Gaussian per label, stored as flat little-endian `f32`
/// arrays, row-major `[label][d]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Labels<'a> {
    /// Number of labels.
    pub count: u32,
    /// The label names, UTF-8, separated by `'\n'` (empty when `count == 0`).
    pub names: &'a str,
    /// `count * d` means.
    pub mu: &'a [u8],
    /// `count * d` log-variances.
    pub logvar: &'a [u8],
    /// `count * d` values `expf(-logvar)`, exactly as [`crate::gaussian::label_constants`]
    /// computes them.
    pub inv_var: &'a [u8],
    /// `count` log-normalisers, exactly as [`crate::gaussian::label_constants`] returns them.
    pub log_norm: &'a [u8],
}

/// Everything a blob carries after its header.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Payload<'a> {
    /// The objective the model was trained with.
    pub kind: ModelKind,
    /// Latent size `d` (`1..=`[`crate::MAX_LATENT`]).
    pub latent_dim: u32,
    /// Image width in pixels.
    pub image_width: u32,
    /// Image height in pixels.
    pub image_height: u32,
    /// Annotation answers "unknown" when the best label log-likelihood is below this
    /// (`f32::NEG_INFINITY` disables it; NaN is refused).
    pub unknown_threshold: f32,
    /// The label table.
    #[serde(borrow)]
    pub labels: Labels<'a>,
    /// The label encoder, for models trained on word vectors.
    #[serde(borrow)]
    pub label_encoder: Option<LabelEncoder<'a>>,
    /// The image encoder; `None` in a blob exported for generation only (format version 4,
    /// without `open_world`).
    #[serde(borrow)]
    pub encoder: Option<Encoder<'a>>,
    /// The decoder, from `d` inputs to `width * height` sigmoid outputs; empty in a blob
    /// exported for annotation only (format version 3, without `open_world`).
    #[serde(borrow)]
    pub decoder: Chain<'a>,
    /// The calibrated bounds of the open-world verdict (format version 2; `None` in blobs of
    /// version 1, and when the exporter had no held-out images): see [`crate::openworld`].
    pub open_world: Option<OpenWorld>,
}

/// Lower bounds of an image's scores below which annotation answers "unknown" (each
/// `f32::NEG_INFINITY` to disable it; NaN and `+inf` are refused), calibrated on held-out
/// images: see [`crate::openworld`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct OpenWorld {
    /// Bound on the reconstruction log-likelihood `R` (nats).
    pub reconstruction_low: f32,
    /// Bound on the likelihood ratio `R − G` against the generic neighbour model (nats).
    pub ratio_low: f32,
}

/// [`Payload`] as format version 1 stored it: without [`Payload::open_world`].
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
pub(crate) struct PayloadV1<'a> {
    kind: ModelKind,
    latent_dim: u32,
    image_width: u32,
    image_height: u32,
    unknown_threshold: f32,
    #[serde(borrow)]
    labels: Labels<'a>,
    #[serde(borrow)]
    label_encoder: Option<LabelEncoder<'a>>,
    #[serde(borrow)]
    encoder: Encoder<'a>,
    #[serde(borrow)]
    decoder: Chain<'a>,
}

impl<'a> From<PayloadV1<'a>> for Payload<'a> {
    fn from(p: PayloadV1<'a>) -> Payload<'a> {
        Payload {
            kind: p.kind,
            latent_dim: p.latent_dim,
            image_width: p.image_width,
            image_height: p.image_height,
            unknown_threshold: p.unknown_threshold,
            labels: p.labels,
            label_encoder: p.label_encoder,
            encoder: Some(p.encoder),
            decoder: p.decoder,
            open_world: None,
        }
    }
}

/// [`Payload`] as format versions 2 and 3 stored it: the encoder always there. (The tests
/// also write it, to make blobs of those versions.)
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
#[cfg_attr(test, derive(Serialize))]
pub(crate) struct PayloadV3<'a> {
    kind: ModelKind,
    latent_dim: u32,
    image_width: u32,
    image_height: u32,
    unknown_threshold: f32,
    #[serde(borrow)]
    labels: Labels<'a>,
    #[serde(borrow)]
    label_encoder: Option<LabelEncoder<'a>>,
    #[serde(borrow)]
    encoder: Encoder<'a>,
    #[serde(borrow)]
    decoder: Chain<'a>,
    open_world: Option<OpenWorld>,
}

impl<'a> From<PayloadV3<'a>> for Payload<'a> {
    fn from(p: PayloadV3<'a>) -> Payload<'a> {
        Payload {
            kind: p.kind,
            latent_dim: p.latent_dim,
            image_width: p.image_width,
            image_height: p.image_height,
            unknown_threshold: p.unknown_threshold,
            labels: p.labels,
            label_encoder: p.label_encoder,
            encoder: Some(p.encoder),
            decoder: p.decoder,
            open_world: p.open_world,
        }
    }
}

#[cfg(test)]
impl<'a> PayloadV3<'a> {
    /// `p` in the layout of versions 2 and 3, if it has an encoder (those versions always do).
    pub(crate) fn from_current(p: &Payload<'a>) -> Option<Self> {
        Some(PayloadV3 {
            kind: p.kind,
            latent_dim: p.latent_dim,
            image_width: p.image_width,
            image_height: p.image_height,
            unknown_threshold: p.unknown_threshold,
            labels: p.labels,
            label_encoder: p.label_encoder,
            encoder: p.encoder?,
            decoder: p.decoder,
            open_world: p.open_world,
        })
    }
}
