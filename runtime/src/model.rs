//! [`Model`]: a validated, borrowed view of a blob, the scratch space it needs, and the two
//! building blocks every operation uses: [`Model::encode`] and [`Model::decode`].
//!
//! Validation happens once, in [`Model::from_payload`] (which [`Model::from_bytes`] calls
//! after checking the envelope); [`crate::validate`] lists what it checks. After that an
//! operation can only fail on its own arguments (lengths, scratch size, label index).

use crate::dense::{run_chain, run_chain_from_a};
use crate::image::Image;
use crate::labels::LabelGaussian;
use crate::payload::{ModelKind, Payload};
use crate::validate::validate;
use crate::{Error, blob};

/// Scratch sizes a model needs ([`Model::scratch_len`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScratchLen {
    /// `f32` elements: `2 * widest hidden layer` (two ping-pong activation buffers), plus
    /// `pixels` (room for a byte image converted to `f32`) unless the encoder's first layer
    /// is int8, which quantises a byte image straight from its bytes, plus `pixels` more
    /// when the blob has an open-world section (annotation then decodes `mu_x`).
    pub f32s: usize,
    /// `i8` elements: `2 * w + 24` for the widest input `w` of an int8 layer (0 when there is
    /// none) — room for the quantised input in the layout the int8 kernels read.
    pub i8s: usize,
}

/// Caller-owned working memory for one operation at a time.
#[derive(Debug)]
pub struct Scratch<'s> {
    pub(crate) act: &'s mut [f32],
    pub(crate) quant: &'s mut [i8],
}

impl<'s> Scratch<'s> {
    /// Scratch from an `f32` buffer and an `i8` buffer at least as long as
    /// [`Model::scratch_len`] says (longer is fine; contents are irrelevant).
    pub fn new(act: &'s mut [f32], quant: &'s mut [i8]) -> Self {
        Scratch { act, quant }
    }
}

/// A validated model borrowing its arrays from the blob (or from the exporter's buffers).
///
/// Load it once with [`Model::from_bytes`]; then every operation takes the caller's
/// [`Scratch`] (sized by [`Model::scratch_len`]) and fixed-size outputs, and fails only on
/// its own arguments. A tour with a committed model (PSE\*, MNIST digits, 10-D latent space,
/// int8 weights):
///
/// ```
/// use pse_runtime::enroll::DEFAULT_VAR_FLOOR;
/// use pse_runtime::{AnnotateOut, LabelTable, Model, Sample, Scratch};
///
/// let blob = include_bytes!("../../models/mnist-pse-star-10d-i8.pse");
/// let model = Model::from_bytes(blob)?;
/// assert_eq!(model.image_size(), (28, 28));
/// assert_eq!(model.label_name(3), Some("three"));
///
/// // Working memory: the caller's, here on the heap; on a device a static or stack array.
/// let need = model.scratch_len();
/// let (mut act, mut quant) = (vec![0f32; need.f32s], vec![0i8; need.i8s]);
/// let mut scratch = Scratch::new(&mut act, &mut quant);
///
/// // Generate the mean "three" (pixel probabilities in [0, 1]).
/// let mut pixels = [0f32; 28 * 28];
/// model.generate(3, Sample::Mean, &mut scratch, &mut pixels)?;
///
/// // Annotate it against the model's ten labels: "three" is the best.
/// let mut out = AnnotateOut::new();
/// model.annotate(&pixels[..], &[], &mut scratch, &mut out)?;
/// assert_eq!(out.best(), Some(3));
///
/// // Enroll a new label from a few images, without retraining; annotation then scores it
/// // after the model's own labels (index 10 here).
/// let mut enroller = model.enroller();
/// for seed in 0..5 {
///     model.generate(3, Sample::Seed(seed), &mut scratch, &mut pixels)?;
///     model.enroll_image(&mut enroller, &pixels[..], &mut scratch)?;
/// }
/// let mut table: LabelTable<4> = LabelTable::new();
/// table.push(enroller.finish(DEFAULT_VAR_FLOOR)?)?;
/// model.annotate(&pixels[..], table.as_slice(), &mut scratch, &mut out)?;
/// assert_eq!(out.posteriors().len(), 11);
///
/// // Generate from the enrolled label like from the model's own.
/// model.generate_from_gaussian(&table.as_slice()[0], Sample::Mean, &mut scratch, &mut pixels)?;
/// # Ok::<(), pse_runtime::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Model<'a> {
    payload: Payload<'a>,
    d: usize,
    pixels: usize,
    /// `f32`s of scratch for a byte image converted to `f32`: `pixels`, or 0 when the first
    /// encoder layer is int8 (it reads the bytes).
    image_buf: usize,
    hidden: usize,
    quant: usize,
    labels: usize,
    word_dim: Option<usize>,
    /// `f32`s of scratch for annotation's reconstruction: `pixels` with an open-world
    /// section, else 0.
    recon_buf: usize,
}

impl<'a> Model<'a> {
    /// Checks the envelope (magic, version, length, CRC), decodes the payload and validates
    /// it ([`Model::from_payload`]). Borrows every array from `bytes`.
    ///
    /// ```
    /// use pse_runtime::{Error, Model};
    ///
    /// let blob = include_bytes!("../../models/mnist-pse-star-10d-i8.pse");
    /// let model = Model::from_bytes(blob)?;
    /// assert_eq!((model.latent_dim(), model.label_count()), (10, 10));
    ///
    /// // A damaged blob is refused with the reason, never run.
    /// let mut damaged = blob.to_vec();
    /// let last = damaged.len() - 1;
    /// damaged[last] ^= 1;
    /// assert!(matches!(Model::from_bytes(&damaged), Err(Error::CrcMismatch { .. })));
    /// assert!(matches!(Model::from_bytes(&blob[..100]), Err(Error::Truncated { .. })));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn from_bytes(bytes: &'a [u8]) -> Result<Self, Error> {
        let (version, payload) = blob::decode_versioned(bytes)?;
        if version < 3 {
            crate::validate::before_version_3(&payload)?;
        }
        Self::from_payload(payload)
    }

    /// Validates a payload: every dimension, array length, the layer chain, the activations
    /// and the label constants (see [`crate::validate`]).
    pub fn from_payload(p: Payload<'a>) -> Result<Self, Error> {
        let s = validate(&p)?;
        // An image needs an `f32` copy unless the first layer reads bytes (or nothing
        // encodes images: a blob for generation only).
        let image_buf = match &p.encoder {
            Some(e) if !e.trunk.layers().first().is_some_and(|l| l.takes_bytes()) => s.pixels,
            _ => 0,
        };
        Ok(Model {
            payload: p,
            d: s.d,
            pixels: s.pixels,
            image_buf,
            hidden: s.hidden,
            quant: s.quant,
            labels: s.labels,
            word_dim: s.word_dim,
            recon_buf: if p.open_world.is_some() { s.pixels } else { 0 },
        })
    }

    /// The decoded payload.
    pub const fn payload(&self) -> &Payload<'a> {
        &self.payload
    }

    /// The objective the model was trained with.
    pub const fn kind(&self) -> ModelKind {
        self.payload.kind
    }

    /// Latent size `d`.
    pub const fn latent_dim(&self) -> usize {
        self.d
    }

    /// `(width, height)` of the images.
    pub const fn image_size(&self) -> (usize, usize) {
        (
            self.payload.image_width as usize,
            self.payload.image_height as usize,
        )
    }

    /// `width * height`.
    pub const fn pixels(&self) -> usize {
        self.pixels
    }

    /// Number of labels in the blob's table.
    pub const fn label_count(&self) -> usize {
        self.labels
    }

    /// Name of label `index` (`None` when out of range).
    pub fn label_name(&self, index: usize) -> Option<&'a str> {
        if index >= self.labels {
            return None;
        }
        self.payload.labels.names.split('\n').nth(index)
    }

    /// Index of the label called `name`.
    pub fn label_index(&self, name: &str) -> Option<usize> {
        if self.labels == 0 {
            return None;
        }
        self.payload
            .labels
            .names
            .split('\n')
            .position(|n| n == name)
    }

    /// Label `index` as a [`LabelGaussian`] (its constants as stored in the blob).
    pub fn label(&self, index: usize) -> Result<LabelGaussian, Error> {
        LabelGaussian::from_table(&self.payload.labels, self.d, index).ok_or(Error::UnknownLabel {
            index,
            count: self.labels,
        })
    }

    /// The threshold below which annotation answers "unknown".
    pub const fn unknown_threshold(&self) -> f32 {
        self.payload.unknown_threshold
    }

    /// Whether the blob has a decoder (generation, the open-world scores); a blob exported
    /// for annotation only (`pse-trainer export --part annotate`) has none.
    pub fn has_decoder(&self) -> bool {
        !self.payload.decoder.layers().is_empty()
    }

    /// Whether the blob has an image encoder (not one exported with `--part generate`).
    /// Without one, everything that reads an image (annotation, enrollment, image scores,
    /// [`Model::encode`]) returns [`Error::MissingLayers`].
    pub fn has_encoder(&self) -> bool {
        self.payload.encoder.is_some()
    }

    /// The word-vector size `k` of the label encoder, if the model has one.
    pub const fn word_dim(&self) -> Option<usize> {
        self.word_dim
    }

    /// The open-world bounds, when the blob carries them (format version 2).
    pub const fn open_world(&self) -> Option<crate::payload::OpenWorld> {
        self.payload.open_world
    }

    /// The scratch every operation of this model needs.
    ///
    /// ```
    /// # use pse_runtime::{Model, ScratchLen};
    /// let model = Model::from_bytes(include_bytes!("../../models/mnist-pse-star-10d-i8.pse"))?;
    /// // Two ping-pong activations of the widest hidden layer (512), the reconstruction the
    /// // open-world verdict scores (784), and the int8 input buffer.
    /// assert_eq!(model.scratch_len(), ScratchLen { f32s: 1808, i8s: 1592 });
    /// # Ok::<(), pse_runtime::Error>(())
    /// ```
    pub const fn scratch_len(&self) -> ScratchLen {
        ScratchLen {
            f32s: self.base_f32s().saturating_add(self.recon_buf),
            i8s: crate::kernel::quant_len(self.quant),
        }
    }

    /// `f32`s of scratch the encoder and decoder use (everything but annotation's
    /// reconstruction buffer, which sits after them).
    pub(crate) const fn base_f32s(&self) -> usize {
        self.image_buf.saturating_add(self.hidden.saturating_mul(2))
    }

    /// Checks the scratch the encoder and decoder need (annotation checks its own extra).
    pub(crate) fn check_scratch(&self, scratch: &Scratch<'_>) -> Result<(), Error> {
        let need = ScratchLen {
            f32s: self.base_f32s(),
            ..self.scratch_len()
        };
        if scratch.act.len() < need.f32s {
            return Err(Error::ScratchTooSmall {
                needed: need.f32s,
                got: scratch.act.len(),
            });
        }
        if scratch.quant.len() < need.i8s {
            return Err(Error::QuantScratchTooSmall {
                needed: need.i8s,
                got: scratch.quant.len(),
            });
        }
        Ok(())
    }

    pub(crate) fn check_image(&self, image: &Image<'_>) -> Result<(), Error> {
        if image.len() == self.pixels {
            Ok(())
        } else {
            Err(Error::WrongInputLength {
                expected: self.pixels,
                got: image.len(),
            })
        }
    }

    pub(crate) fn check_latent(&self, what: usize, out: bool) -> Result<(), Error> {
        if what == self.d {
            Ok(())
        } else if out {
            Err(Error::WrongOutputLength {
                expected: self.d,
                got: what,
            })
        } else {
            Err(Error::WrongInputLength {
                expected: self.d,
                got: what,
            })
        }
    }

    /// `q(z|x)`: writes the image's `mu` and `logvar` (each `d` long).
    ///
    /// ```
    /// # use pse_runtime::{Model, Scratch};
    /// let model = Model::from_bytes(include_bytes!("../../models/mnist-pse-star-10d-i8.pse"))?;
    /// let need = model.scratch_len();
    /// let (mut act, mut quant) = (vec![0f32; need.f32s], vec![0i8; need.i8s]);
    /// let mut scratch = Scratch::new(&mut act, &mut quant);
    /// let image = [0u8; 28 * 28]; // bytes or f32 pixels
    /// let (mut mu, mut logvar) = ([0f32; 10], [0f32; 10]);
    /// model.encode(&image[..], &mut scratch, &mut mu, &mut logvar)?;
    /// assert!(mu.iter().chain(&logvar).all(|v| v.is_finite()));
    /// # Ok::<(), pse_runtime::Error>(())
    /// ```
    pub fn encode<'x>(
        &self,
        image: impl Into<Image<'x>>,
        scratch: &mut Scratch<'_>,
        mu: &mut [f32],
        logvar: &mut [f32],
    ) -> Result<(), Error> {
        self.check_latent(logvar.len(), true)?;
        self.encode_impl(image.into(), scratch, mu, Some(logvar))
    }

    /// Encoder with `logvar` optional (annotation needs only `mu`).
    pub(crate) fn encode_impl(
        &self,
        image: Image<'_>,
        scratch: &mut Scratch<'_>,
        mu: &mut [f32],
        logvar: Option<&mut [f32]>,
    ) -> Result<(), Error> {
        let Some(enc) = &self.payload.encoder else {
            return Err(Error::MissingLayers {
                part: crate::error::Part::Encoder,
            });
        };
        self.check_scratch(scratch)?;
        self.check_image(&image)?;
        self.check_latent(mu.len(), true)?;
        let (img_buf, rest) = scratch
            .act
            .split_at_mut_checked(self.image_buf)
            .unwrap_or_default();
        let (a, b) = rest.split_at_mut_checked(self.hidden).unwrap_or_default();
        let quant = &mut *scratch.quant;
        let layers = enc.trunk.layers();
        let h = match (image, layers.split_first()) {
            // An int8 first layer reads the bytes (no `f32` copy of the image).
            (Image::U8(bytes), Some((first, more))) if self.image_buf == 0 => {
                let n = first.out_dim as usize;
                first.apply_bytes(bytes, a.get_mut(..n).unwrap_or_default(), quant);
                run_chain_from_a(more, n, a, b, quant)
            }
            (Image::U8(bytes), _) => {
                for (dst, &src) in img_buf.iter_mut().zip(bytes) {
                    *dst = src as f32 / 255.0;
                }
                run_chain(layers, img_buf, a, b, quant)
            }
            (Image::F32(x), _) => run_chain(layers, x, a, b, quant),
        };
        enc.mu.apply(h, mu, quant);
        if let Some(lv) = logvar {
            enc.logvar.apply(h, lv, quant);
        }
        Ok(())
    }

    /// `p(x|z)`: decodes the latent point `z` (`d` long) into pixel probabilities in
    /// `[0, 1]` (`width * height` long). A blob exported for annotation only has no decoder:
    /// [`Error::MissingLayers`] (as for everything that decodes: generation, image scores).
    ///
    /// ```
    /// # use pse_runtime::{Model, Scratch};
    /// let model = Model::from_bytes(include_bytes!("../../models/mnist-pse-star-10d-i8.pse"))?;
    /// let need = model.scratch_len();
    /// let (mut act, mut quant) = (vec![0f32; need.f32s], vec![0i8; need.i8s]);
    /// let mut scratch = Scratch::new(&mut act, &mut quant);
    /// let z = model.label(0)?.mu().to_vec(); // the centre of "zero"
    /// let mut pixels = [0f32; 28 * 28];
    /// model.decode(&z, &mut scratch, &mut pixels)?;
    /// assert!(pixels.iter().all(|p| (0.0..=1.0).contains(p)));
    /// # Ok::<(), pse_runtime::Error>(())
    /// ```
    pub fn decode(
        &self,
        z: &[f32],
        scratch: &mut Scratch<'_>,
        out: &mut [f32],
    ) -> Result<(), Error> {
        if !self.has_decoder() {
            return Err(Error::MissingLayers {
                part: crate::error::Part::Decoder,
            });
        }
        self.check_scratch(scratch)?;
        self.check_latent(z.len(), false)?;
        if out.len() != self.pixels {
            return Err(Error::WrongOutputLength {
                expected: self.pixels,
                got: out.len(),
            });
        }
        let rest = scratch.act.get_mut(self.image_buf..).unwrap_or_default();
        let (a, b) = rest.split_at_mut_checked(self.hidden).unwrap_or_default();
        let quant = &mut *scratch.quant;
        if let Some((last, init)) = self.payload.decoder.layers().split_last() {
            let h = run_chain(init, z, a, b, quant);
            last.apply(h, out, quant);
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    clippy::arithmetic_side_effects
)]
mod tests;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::arithmetic_side_effects)]
mod perf;
