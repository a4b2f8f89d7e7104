//! Payload validation: every check that makes "after `from_bytes` succeeds, nothing can fail
//! on a shape" true.
//!
//! It checks every dimension, every array length, the layer chain
//! `pixels → encoder trunk → heads (d)` and `d → decoder → pixels` (the decoder may be
//! absent from a blob without the open-world verdict: annotation only), the activations of heads
//! (identity) and of the decoder's last layer (sigmoid), and that the label table's stored
//! `1/var` and log-normalisers are bit-for-bit what [`crate::gaussian::label_constants`]
//! gives. (The device therefore uses the stored constants without recomputing them, and
//! still agrees with the host.) `runtime/FORMAT.md` lists the same rules.

use crate::error::{Array, Dim, End, LayerId, Part};
use crate::payload::{Activation, Chain, Layer, Payload, Weights};
use crate::{Error, MAX_DIM, MAX_LABELS, MAX_LATENT, MAX_LAYERS, gaussian, le};

/// The sizes a valid payload implies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Shape {
    /// Latent size.
    pub d: usize,
    /// `width * height`.
    pub pixels: usize,
    /// Widest output that lives in scratch (trunk layers, decoder layers but the last).
    pub hidden: usize,
    /// Widest input of an int8 layer.
    pub quant: usize,
    /// Number of labels.
    pub labels: usize,
    /// Label-encoder input size.
    pub word_dim: Option<usize>,
}

/// Scratch needs seen so far.
struct Sizes {
    hidden: usize,
    quant: usize,
}

impl Sizes {
    fn see(&mut self, layer: &Layer<'_>, hidden_output: bool) {
        if hidden_output {
            self.hidden = self.hidden.max(layer.out_dim as usize);
        }
        if layer.takes_bytes() {
            self.quant = self.quant.max(layer.in_dim as usize);
        }
    }
}

fn dim_in_range(dim: Dim, found: usize, max: usize) -> Result<(), Error> {
    if found == 0 || found > max {
        Err(Error::DimensionOutOfRange { dim, found, max })
    } else {
        Ok(())
    }
}

fn array_len(array: Array, found: usize, expected: Option<usize>) -> Result<(), Error> {
    // An overflowing expectation cannot match any real slice: report it as usize::MAX.
    let expected = expected.unwrap_or(usize::MAX);
    if found == expected {
        Ok(())
    } else {
        Err(Error::ShapeMismatch {
            array,
            expected,
            found,
        })
    }
}

fn check_layer(layer: &Layer<'_>, id: LayerId) -> Result<(), Error> {
    let (inp, out) = (layer.in_dim as usize, layer.out_dim as usize);
    dim_in_range(Dim::LayerIn(id), inp, MAX_DIM)?;
    dim_in_range(Dim::LayerOut(id), out, MAX_DIM)?;
    let enc = layer.weights.encoding();
    let (w, scales) = match layer.weights {
        Weights::F32(w) | Weights::F16(w) => (w, None),
        Weights::I8 { q, scales } | Weights::I4 { q, scales } => (q, Some(scales)),
    };
    array_len(Array::Weights(id), w.len(), enc.weight_bytes(out, inp))?;
    if let Some(s) = scales {
        array_len(Array::Scales(id), s.len(), enc.scale_bytes(out))?;
    }
    array_len(Array::Bias(id), layer.bias.len(), out.checked_mul(4))
}

fn link(id: LayerId, end: End, expected: usize, found: u32) -> Result<(), Error> {
    let found = found as usize;
    if found == expected {
        Ok(())
    } else {
        Err(Error::BadChain {
            layer: id,
            end,
            expected,
            found,
        })
    }
}

fn activation(id: LayerId, expected: Activation, found: Activation) -> Result<(), Error> {
    if expected == found {
        Ok(())
    } else {
        Err(Error::BadActivation {
            layer: id,
            expected,
            found,
        })
    }
}

fn chain_len(chain: &Chain<'_>, part: Part) -> Result<(), Error> {
    if chain.declared_len() > MAX_LAYERS {
        Err(Error::TooManyLayers {
            part,
            found: chain.declared_len(),
            max: MAX_LAYERS,
        })
    } else {
        Ok(())
    }
}

/// A head: `inp → d`, identity activation.
fn check_head(layer: &Layer<'_>, part: Part, inp: usize, d: usize) -> Result<(), Error> {
    let id = LayerId { part, index: 0 };
    check_layer(layer, id)?;
    link(id, End::Input, inp, layer.in_dim)?;
    link(id, End::Output, d, layer.out_dim)?;
    activation(id, Activation::Identity, layer.activation)
}

fn check_labels(p: &Payload<'_>, d: usize) -> Result<usize, Error> {
    let l = &p.labels;
    let count = l.count as usize;
    if count > MAX_LABELS {
        return Err(Error::TooManyLabels {
            found: count,
            max: MAX_LABELS,
        });
    }
    let names = if l.names.is_empty() {
        0
    } else {
        l.names.split('\n').count()
    };
    if names != count {
        return Err(Error::LabelNameCount {
            expected: count,
            found: names,
        });
    }
    let rows = count.checked_mul(d).and_then(|n| n.checked_mul(4));
    array_len(Array::LabelMu, l.mu.len(), rows)?;
    array_len(Array::LabelLogvar, l.logvar.len(), rows)?;
    array_len(Array::LabelInvVar, l.inv_var.len(), rows)?;
    array_len(Array::LabelLogNorm, l.log_norm.len(), count.checked_mul(4))?;
    let mut lv = [0.0f32; MAX_LATENT];
    let mut iv = [0.0f32; MAX_LATENT];
    let lv = lv.get_mut(..d).unwrap_or_default();
    let iv = iv.get_mut(..d).unwrap_or_default();
    for label in 0..count {
        le::read_f32s(le::row(l.logvar, d, label).unwrap_or_default(), lv);
        let norm = gaussian::label_constants(lv, iv);
        let stored_iv = le::f32s(le::row(l.inv_var, d, label).unwrap_or_default());
        let same_iv = iv
            .iter()
            .zip(stored_iv)
            .all(|(a, b)| a.to_bits() == b.to_bits());
        let same_norm = le::f32_at(l.log_norm, label).map(f32::to_bits) == Some(norm.to_bits());
        if !same_iv || !same_norm {
            return Err(Error::LabelConstantsMismatch { label });
        }
    }
    Ok(count)
}

/// Validates `p` and returns its sizes.
pub(crate) fn validate(p: &Payload<'_>) -> Result<Shape, Error> {
    let d = p.latent_dim as usize;
    dim_in_range(Dim::Latent, d, MAX_LATENT)?;
    dim_in_range(Dim::ImageWidth, p.image_width as usize, MAX_DIM)?;
    dim_in_range(Dim::ImageHeight, p.image_height as usize, MAX_DIM)?;
    let pixels = (p.image_width as usize).saturating_mul(p.image_height as usize);
    dim_in_range(Dim::Pixels, pixels, MAX_DIM)?;
    if p.unknown_threshold.is_nan() {
        return Err(Error::InvalidThreshold);
    }
    if let Some(ow) = &p.open_world {
        for (which, v) in [
            ("reconstruction_low", ow.reconstruction_low),
            ("ratio_low", ow.ratio_low),
        ] {
            if v.is_nan() || v == f32::INFINITY {
                return Err(Error::InvalidOpenWorld { which });
            }
        }
    }
    let mut sizes = Sizes {
        hidden: 0,
        quant: 0,
    };

    // Encoder: pixels → trunk → heads → d. None: a blob for generation only (format
    // version 4), which then needs a decoder and cannot carry the open-world verdict.
    match &p.encoder {
        Some(e) => {
            chain_len(&e.trunk, Part::Encoder)?;
            let mut width = pixels;
            for (index, layer) in e.trunk.layers().iter().enumerate() {
                let id = LayerId {
                    part: Part::Encoder,
                    index,
                };
                check_layer(layer, id)?;
                link(id, End::Input, width, layer.in_dim)?;
                sizes.see(layer, true);
                width = layer.out_dim as usize;
            }
            check_head(&e.mu, Part::MuHead, width, d)?;
            check_head(&e.logvar, Part::LogvarHead, width, d)?;
            sizes.see(&e.mu, false);
            sizes.see(&e.logvar, false);
        }
        None if p.decoder.layers().is_empty() || p.open_world.is_some() => {
            return Err(Error::MissingLayers {
                part: Part::Encoder,
            });
        }
        None => {}
    }

    // Decoder: d → … → pixels, sigmoid last.
    chain_len(&p.decoder, Part::Decoder)?;
    // No decoder: a blob for annotation only (format version 3), which then cannot carry
    // the open-world verdict (it decodes).
    let layers = p.decoder.layers();
    if layers.is_empty() && p.open_world.is_some() {
        return Err(Error::MissingLayers {
            part: Part::Decoder,
        });
    }
    let last_index = layers.len().saturating_sub(1);
    let mut width = d;
    for (index, layer) in layers.iter().enumerate() {
        let id = LayerId {
            part: Part::Decoder,
            index,
        };
        check_layer(layer, id)?;
        link(id, End::Input, width, layer.in_dim)?;
        sizes.see(layer, index != last_index);
        width = layer.out_dim as usize;
        if index == last_index {
            link(id, End::Output, pixels, layer.out_dim)?;
            activation(id, Activation::Sigmoid, layer.activation)?;
        }
    }

    // Label encoder: k → d twice.
    let word_dim = match &p.label_encoder {
        None => None,
        Some(le) => {
            let k = le.mu.in_dim as usize;
            let id = LayerId {
                part: Part::LabelMuHead,
                index: 0,
            };
            dim_in_range(Dim::LayerIn(id), k, MAX_DIM)?;
            check_head(&le.mu, Part::LabelMuHead, k, d)?;
            check_head(&le.logvar, Part::LabelLogvarHead, k, d)?;
            sizes.see(&le.mu, false);
            sizes.see(&le.logvar, false);
            Some(k)
        }
    };

    let labels = check_labels(p, d)?;
    Ok(Shape {
        d,
        pixels,
        hidden: sizes.hidden,
        quant: sizes.quant,
        labels,
        word_dim,
    })
}

/// What versions 1 and 2 did not have, refused in a blob that claims one of them: int4
/// weights (the wire's `Weights` variant 3: `Decode`, as a reader of those versions would
/// say) and a blob without a decoder (`MissingLayers`). (A blob without an encoder cannot
/// claim a version before 4: those versions' layout always holds one.)
pub(crate) fn before_version_3(p: &Payload<'_>) -> Result<(), Error> {
    let heads = p.encoder.map(|e| [e.mu, e.logvar]);
    let label_heads = p.label_encoder.map(|l| [l.mu, l.logvar]);
    let layers = p
        .encoder
        .iter()
        .flat_map(|e| e.trunk.layers())
        .chain(heads.iter().flatten())
        .chain(p.decoder.layers())
        .chain(label_heads.iter().flatten());
    for layer in layers {
        if matches!(layer.weights, Weights::I4 { .. }) {
            return Err(Error::Decode);
        }
    }
    if p.decoder.layers().is_empty() {
        return Err(Error::MissingLayers {
            part: Part::Decoder,
        });
    }
    Ok(())
}

#[cfg(test)]
#[allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    clippy::arithmetic_side_effects
)]
mod tests {
    use super::*;
    use crate::payload::Encoding;
    use crate::testutil::*;
    use crate::{Model, blob};
    use std::vec;

    fn err(blob: &[u8]) -> Error {
        Model::from_bytes(blob).unwrap_err()
    }

    /// Every blob-level `Error` variant, each from a crafted blob.
    #[test]
    fn every_blob_error_is_reachable() {
        let m = OwnedModel::random(&Spec::tiny(Encoding::I8), 21);
        let good = m.blob();
        assert!(Model::from_bytes(&good).is_ok());
        let n = good.len();

        // Envelope.
        assert_eq!(
            err(&good[..10]),
            Error::Truncated {
                needed: 14,
                got: 10
            }
        );
        assert_eq!(
            err(&good[..n - 1]),
            Error::Truncated {
                needed: n,
                got: n - 1
            }
        );
        let mut b = good.clone();
        b[0] = b'X';
        assert_eq!(err(&b), Error::BadMagic);
        let mut b = good.clone();
        b[4] = 5;
        assert_eq!(
            err(&b),
            Error::UnsupportedVersion {
                found: 5,
                supported: 4
            }
        );
        b[4] = 0;
        assert_eq!(
            err(&b),
            Error::UnsupportedVersion {
                found: 0,
                supported: 4
            }
        );
        let mut b = good.clone();
        b.push(0);
        assert_eq!(
            err(&b),
            Error::LengthMismatch {
                declared: n,
                actual: n + 1
            }
        );
        let mut b = good.clone();
        b[n - 1] ^= 1;
        assert!(matches!(err(&b), Error::CrcMismatch { .. }));
        let mut b = good.clone();
        b[HEADER] = 9; // ModelKind has two variants
        blob::fix_crc(&mut b);
        assert_eq!(err(&b), Error::Decode);
        let mut payload = good[HEADER..].to_vec();
        payload.push(0);
        assert_eq!(
            err(&envelope(&payload)),
            Error::TrailingPayload { unread: 1 }
        );

        // Contents, each through a payload the validator must refuse.
        let check = |p: Payload<'_>, e: Error| {
            assert_eq!(err(&to_blob_unchecked(&p)), e);
            assert_eq!(Model::from_payload(p).unwrap_err(), e);
        };
        let mut p = m.payload();
        p.latent_dim = 0;
        check(
            p,
            Error::DimensionOutOfRange {
                dim: Dim::Latent,
                found: 0,
                max: MAX_LATENT,
            },
        );
        let mut p = m.payload();
        p.latent_dim = 65;
        check(
            p,
            Error::DimensionOutOfRange {
                dim: Dim::Latent,
                found: 65,
                max: MAX_LATENT,
            },
        );
        let mut p = m.payload();
        p.image_width = 0;
        check(
            p,
            Error::DimensionOutOfRange {
                dim: Dim::ImageWidth,
                found: 0,
                max: MAX_DIM,
            },
        );
        let mut p = m.payload();
        p.image_width = 300;
        p.image_height = 300;
        check(
            p,
            Error::DimensionOutOfRange {
                dim: Dim::Pixels,
                found: 90_000,
                max: MAX_DIM,
            },
        );
        let mut p = m.payload();
        p.unknown_threshold = f32::NAN;
        // (NaN != NaN, so compare the error, not the payload.)
        check(p, Error::InvalidThreshold);

        // Layers.
        let trunk0 = LayerId {
            part: Part::Encoder,
            index: 0,
        };
        let mut p = m.payload();
        let mut l = m.trunk[0].layer();
        l.in_dim = 0;
        p.encoder.as_mut().unwrap().trunk = Chain::new(&[l]);
        check(
            p,
            Error::DimensionOutOfRange {
                dim: Dim::LayerIn(trunk0),
                found: 0,
                max: MAX_DIM,
            },
        );
        let mut p = m.payload();
        let mut l = m.trunk[0].layer();
        l.bias = &l.bias[..l.bias.len() - 4];
        p.encoder.as_mut().unwrap().trunk = Chain::new(&[l]);
        check(
            p,
            Error::ShapeMismatch {
                array: Array::Bias(trunk0),
                expected: 32,
                found: 28,
            },
        );
        let mut p = m.payload();
        let mut l = m.trunk[0].layer();
        if let Weights::I8 { q, scales } = l.weights {
            l.weights = Weights::I8 {
                q,
                scales: &scales[4..],
            };
        }
        p.encoder.as_mut().unwrap().trunk = Chain::new(&[l]);
        check(
            p,
            Error::ShapeMismatch {
                array: Array::Scales(trunk0),
                expected: 32,
                found: 28,
            },
        );
        let mut p = m.payload();
        let mut l = m.trunk[0].layer();
        l.weights = Weights::F32(&m.trunk[0].wb);
        p.encoder.as_mut().unwrap().trunk = Chain::new(&[l]);
        check(
            p,
            Error::ShapeMismatch {
                array: Array::Weights(trunk0),
                expected: 512,
                found: 128,
            },
        );

        let mut rng = crate::rng::Rng::new(5);
        let wrong_in = OwnedLayer::random(&mut rng, 8, 17, Activation::Relu, Encoding::F32);
        let mut p = m.payload();
        p.encoder.as_mut().unwrap().trunk = Chain::new(&[wrong_in.layer()]);
        check(
            p,
            Error::BadChain {
                layer: trunk0,
                end: End::Input,
                expected: 16,
                found: 17,
            },
        );
        let wrong_out = OwnedLayer::random(&mut rng, 15, 8, Activation::Sigmoid, Encoding::F32);
        let mut p = m.payload();
        p.decoder = Chain::new(&[m.decoder[0].layer(), wrong_out.layer()]);
        let dec1 = LayerId {
            part: Part::Decoder,
            index: 1,
        };
        check(
            p,
            Error::BadChain {
                layer: dec1,
                end: End::Output,
                expected: 16,
                found: 15,
            },
        );

        let mut p = m.payload();
        p.encoder.as_mut().unwrap().mu.activation = Activation::Relu;
        check(
            p,
            Error::BadActivation {
                layer: LayerId {
                    part: Part::MuHead,
                    index: 0,
                },
                expected: Activation::Identity,
                found: Activation::Relu,
            },
        );
        let mut p = m.payload();
        p.decoder = Chain::new(&[m.decoder[0].layer(), {
            let mut l = m.decoder[1].layer();
            l.activation = Activation::Identity;
            l
        }]);
        check(
            p,
            Error::BadActivation {
                layer: dec1,
                expected: Activation::Sigmoid,
                found: Activation::Identity,
            },
        );

        // No decoder: refused with the open-world verdict (it decodes); without it, a blob
        // for annotation only, whose decoding operations say what is missing.
        let mut p = m.payload();
        p.decoder = Chain::new(&[]);
        p.open_world = Some(crate::payload::OpenWorld {
            reconstruction_low: -100.0,
            ratio_low: f32::NEG_INFINITY,
        });
        check(
            p,
            Error::MissingLayers {
                part: Part::Decoder,
            },
        );
        p.open_world = None;
        let bytes = to_blob(&p);
        let model = Model::from_bytes(&bytes).unwrap();
        assert!(!model.has_decoder());
        let need = model.scratch_len();
        let (mut act, mut quant) = (vec![0f32; need.f32s], vec![0i8; need.i8s]);
        let mut s = crate::Scratch::new(&mut act, &mut quant);
        let mut out = vec![0f32; model.pixels()];
        assert_eq!(
            model.decode(&vec![0.0; model.latent_dim()], &mut s, &mut out),
            Err(Error::MissingLayers {
                part: Part::Decoder
            })
        );
        let image = vec![0.5f32; model.pixels()];
        let mut out = crate::AnnotateOut::new();
        assert!(model.annotate(&image[..], &[], &mut s, &mut out).is_ok());
        // No encoder either: nothing left to run. With a decoder, a blob for generation
        // only (version 4), refused with the open-world verdict (it encodes), whose
        // image-reading operations say what is missing.
        let no_encoder = Error::MissingLayers {
            part: Part::Encoder,
        };
        let mut p = m.payload();
        p.encoder = None;
        p.decoder = Chain::new(&[]);
        check(p, no_encoder);
        let mut p = m.payload();
        p.encoder = None;
        p.open_world = Some(crate::payload::OpenWorld {
            reconstruction_low: -100.0,
            ratio_low: f32::NEG_INFINITY,
        });
        check(p, no_encoder);
        p.open_world = None;
        let bytes = to_blob(&p);
        let model = Model::from_bytes(&bytes).unwrap();
        assert!(!model.has_encoder() && model.has_decoder());
        let need = model.scratch_len();
        let (mut act, mut quant) = (vec![0f32; need.f32s], vec![0i8; need.i8s]);
        let mut s = crate::Scratch::new(&mut act, &mut quant);
        let image = vec![0.5f32; model.pixels()];
        let mut out = crate::AnnotateOut::new();
        let e = model.annotate(&image[..], &[], &mut s, &mut out);
        assert_eq!(e, Err(no_encoder));
        let (mut mu, mut lv) = (vec![0.0; model.latent_dim()], vec![0.0; model.latent_dim()]);
        let e = model.encode(&image[..], &mut s, &mut mu, &mut lv);
        assert_eq!(e, Err(no_encoder));
        let mut recon = vec![0.0; model.pixels()];
        let e = model
            .image_scores(&image[..], &mut s, &mut recon)
            .map(|_| ());
        assert_eq!(e, Err(no_encoder));
        let mut enroller = model.enroller();
        let e = model.enroll_image(&mut enroller, &image[..], &mut s);
        assert_eq!(e, Err(no_encoder));
        let mut pixels = vec![0.0; model.pixels()];
        let generated = model.generate(0, crate::Sample::Seed(3), &mut s, &mut pixels);
        assert!(generated.is_ok() && pixels.iter().all(|p| (0.0..=1.0).contains(p)));
        let nine = [m.trunk[0].layer(); 9];
        let mut p = m.payload();
        p.encoder.as_mut().unwrap().trunk = Chain::new(&nine);
        assert_eq!(
            Model::from_payload(p).unwrap_err(),
            Error::TooManyLayers {
                part: Part::Encoder,
                found: 9,
                max: MAX_LAYERS
            }
        );
        assert_eq!(
            blob::encode_unchecked(&p, &mut [0u8; 1 << 12]),
            Err(Error::Encode)
        );
        // Nine layers on the wire (Chain refuses to serialise them; a slice does not).
        let decoder = m.decoder_layers();
        let p = m.payload();
        let wire = WirePayload {
            kind: p.kind,
            latent_dim: p.latent_dim,
            image_width: p.image_width,
            image_height: p.image_height,
            unknown_threshold: p.unknown_threshold,
            labels: p.labels,
            label_encoder: p.label_encoder,
            encoder: Some(WireEncoder {
                trunk: &nine,
                mu: p.encoder.unwrap().mu,
                logvar: p.encoder.unwrap().logvar,
            }),
            decoder: &decoder,
            open_world: None,
        };
        let mut buf = vec![0u8; 1 << 16];
        let len = postcard::to_slice(&wire, &mut buf).unwrap().len();
        assert_eq!(
            err(&envelope(&buf[..len])),
            Error::TooManyLayers {
                part: Part::Encoder,
                found: 9,
                max: MAX_LAYERS
            }
        );

        // Labels.
        let mut p = m.payload();
        p.labels.count = 65;
        check(
            p,
            Error::TooManyLabels {
                found: 65,
                max: MAX_LABELS,
            },
        );
        let mut p = m.payload();
        p.labels.names = "a\nb";
        check(
            p,
            Error::LabelNameCount {
                expected: 3,
                found: 2,
            },
        );
        let mut p = m.payload();
        p.labels.log_norm = &m.log_norm_b[4..];
        check(
            p,
            Error::ShapeMismatch {
                array: Array::LabelLogNorm,
                expected: 12,
                found: 8,
            },
        );
        let mut iv = m.inv_var_b.clone();
        iv[4 * 4] ^= 1; // label 1, dimension 1, lowest mantissa bit
        let mut p = m.payload();
        p.labels.inv_var = &iv;
        check(p, Error::LabelConstantsMismatch { label: 1 });
        let mut ln = m.log_norm_b.clone();
        ln[8] ^= 1;
        let mut p = m.payload();
        p.labels.log_norm = &ln;
        check(p, Error::LabelConstantsMismatch { label: 2 });
    }

    const HEADER: usize = blob::HEADER_LEN;
}
