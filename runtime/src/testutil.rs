//! Test-only model builder: owns every array, lends them to a [`Payload`], and writes blobs
//! through the public API exactly as the trainer's exporter does.
#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    clippy::arithmetic_side_effects
)]

use std::string::String;
use std::vec;
use std::vec::Vec;

use serde::Serialize;

use crate::blob;
use crate::labels::write_label_constants;
use crate::payload::{
    Activation, Chain, Encoder, Encoding, LabelEncoder, Labels, Layer, ModelKind, Payload, Weights,
};
use crate::quant::{encode_f32, encode_weights};
use crate::rng::Rng;

/// A layer whose arrays this struct owns (`w`, `b`: the float values before encoding).
#[allow(dead_code)]
#[derive(Clone, Debug)]
pub struct OwnedLayer {
    pub in_dim: usize,
    pub out_dim: usize,
    pub activation: Activation,
    pub encoding: Encoding,
    pub w: Vec<f32>,
    pub b: Vec<f32>,
    pub wb: Vec<u8>,
    pub sb: Vec<u8>,
    pub bb: Vec<u8>,
}

impl OwnedLayer {
    pub fn new(
        out_dim: usize,
        in_dim: usize,
        activation: Activation,
        encoding: Encoding,
        w: Vec<f32>,
        b: Vec<f32>,
    ) -> Self {
        let mut wb = vec![0u8; encoding.weight_bytes(out_dim, in_dim).unwrap()];
        let mut sb = vec![0u8; encoding.scale_bytes(out_dim).unwrap()];
        encode_weights(encoding, &w, out_dim, in_dim, &mut wb, &mut sb).unwrap();
        let mut bb = vec![0u8; 4 * out_dim];
        encode_f32(&b, &mut bb).unwrap();
        OwnedLayer {
            in_dim,
            out_dim,
            activation,
            encoding,
            w,
            b,
            wb,
            sb,
            bb,
        }
    }

    /// Glorot-uniform weights, small biases.
    pub fn random(
        rng: &mut Rng,
        out_dim: usize,
        in_dim: usize,
        activation: Activation,
        encoding: Encoding,
    ) -> Self {
        let a = (6.0 / (in_dim + out_dim) as f32).sqrt();
        let w = (0..out_dim * in_dim)
            .map(|_| (rng.uniform() * 2.0 - 1.0) * a)
            .collect();
        let b = (0..out_dim).map(|_| (rng.uniform() - 0.5) * 0.2).collect();
        Self::new(out_dim, in_dim, activation, encoding, w, b)
    }

    pub fn layer(&self) -> Layer<'_> {
        Layer {
            in_dim: self.in_dim as u32,
            out_dim: self.out_dim as u32,
            activation: self.activation,
            weights: Weights::from_parts(self.encoding, &self.wb, &self.sb),
            bias: &self.bb,
        }
    }
}

/// Shape of a test model.
#[derive(Clone, Debug)]
pub struct Spec {
    pub width: usize,
    pub height: usize,
    pub d: usize,
    pub trunk: Vec<usize>,
    pub decoder: Vec<usize>,
    pub labels: usize,
    pub word: Option<usize>,
    pub encoding: Encoding,
}

impl Spec {
    /// A tiny model: 4×4 images, trunk [8], d = 3, decoder [8], 3 labels, word vectors of 5.
    pub fn tiny(encoding: Encoding) -> Self {
        Spec {
            width: 4,
            height: 4,
            d: 3,
            trunk: vec![8],
            decoder: vec![8],
            labels: 3,
            word: Some(5),
            encoding,
        }
    }

    /// The paper's MNIST shapes.
    pub fn mnist(d: usize, encoding: Encoding) -> Self {
        Spec {
            width: 28,
            height: 28,
            d,
            trunk: vec![512, 64],
            decoder: vec![64, 512],
            labels: 10,
            word: None,
            encoding,
        }
    }
}

/// A model whose arrays this struct owns.
#[derive(Clone, Debug)]
pub struct OwnedModel {
    pub kind: ModelKind,
    pub d: usize,
    pub width: usize,
    pub height: usize,
    pub threshold: f32,
    pub open_world: Option<crate::payload::OpenWorld>,
    /// Whether the payload holds the encoder (`trunk`, `mu`, `logvar`); false: a blob for
    /// generation only.
    pub encoder: bool,
    pub trunk: Vec<OwnedLayer>,
    pub mu: OwnedLayer,
    pub logvar: OwnedLayer,
    pub decoder: Vec<OwnedLayer>,
    pub label_encoder: Option<(OwnedLayer, OwnedLayer)>,
    pub names: String,
    pub count: usize,
    pub label_mu: Vec<f32>,
    pub label_logvar: Vec<f32>,
    pub label_mu_b: Vec<u8>,
    pub label_logvar_b: Vec<u8>,
    pub inv_var_b: Vec<u8>,
    pub log_norm_b: Vec<u8>,
}

impl OwnedModel {
    pub fn random(spec: &Spec, seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let enc = spec.encoding;
        let pixels = spec.width * spec.height;
        let mut width = pixels;
        let mut trunk = Vec::new();
        for &n in &spec.trunk {
            trunk.push(OwnedLayer::random(
                &mut rng,
                n,
                width,
                Activation::Relu,
                enc,
            ));
            width = n;
        }
        let mu = OwnedLayer::random(&mut rng, spec.d, width, Activation::Identity, Encoding::F32);
        let logvar =
            OwnedLayer::random(&mut rng, spec.d, width, Activation::Identity, Encoding::F32);
        let mut decoder = Vec::new();
        let mut width = spec.d;
        for &n in &spec.decoder {
            decoder.push(OwnedLayer::random(
                &mut rng,
                n,
                width,
                Activation::Relu,
                enc,
            ));
            width = n;
        }
        decoder.push(OwnedLayer::random(
            &mut rng,
            pixels,
            width,
            Activation::Sigmoid,
            enc,
        ));
        let label_encoder = spec.word.map(|k| {
            (
                OwnedLayer::random(&mut rng, spec.d, k, Activation::Identity, Encoding::F32),
                OwnedLayer::random(&mut rng, spec.d, k, Activation::Identity, Encoding::F32),
            )
        });
        let names: Vec<String> = (0..spec.labels).map(|i| std::format!("label{i}")).collect();
        let mu_l: Vec<f32> = (0..spec.labels * spec.d).map(|_| rng.normal()).collect();
        let lv_l: Vec<f32> = (0..spec.labels * spec.d)
            .map(|_| (rng.uniform() - 0.5) * 0.5)
            .collect();
        let mut m = OwnedModel {
            kind: ModelKind::PseStar,
            d: spec.d,
            width: spec.width,
            height: spec.height,
            threshold: f32::NEG_INFINITY,
            open_world: None,
            encoder: true,
            trunk,
            mu,
            logvar,
            decoder,
            label_encoder,
            names: String::new(),
            count: 0,
            label_mu: Vec::new(),
            label_logvar: Vec::new(),
            label_mu_b: Vec::new(),
            label_logvar_b: Vec::new(),
            inv_var_b: Vec::new(),
            log_norm_b: Vec::new(),
        };
        let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
        m.set_labels(&name_refs, &mu_l, &lv_l);
        m
    }

    /// Replaces the label table (row-major `[label][d]` arrays).
    pub fn set_labels(&mut self, names: &[&str], mu: &[f32], logvar: &[f32]) {
        let n = names.len();
        assert_eq!(mu.len(), n * self.d);
        assert_eq!(logvar.len(), n * self.d);
        self.names = names.join("\n");
        self.count = n;
        self.label_mu = mu.to_vec();
        self.label_logvar = logvar.to_vec();
        self.label_mu_b = vec![0; 4 * mu.len()];
        encode_f32(mu, &mut self.label_mu_b).unwrap();
        self.label_logvar_b = vec![0; 4 * logvar.len()];
        encode_f32(logvar, &mut self.label_logvar_b).unwrap();
        self.inv_var_b = vec![0; 4 * logvar.len()];
        self.log_norm_b = vec![0; 4 * n];
        write_label_constants(logvar, self.d, &mut self.inv_var_b, &mut self.log_norm_b).unwrap();
    }

    pub fn trunk_layers(&self) -> Vec<Layer<'_>> {
        self.trunk.iter().map(OwnedLayer::layer).collect()
    }

    pub fn decoder_layers(&self) -> Vec<Layer<'_>> {
        self.decoder.iter().map(OwnedLayer::layer).collect()
    }

    pub fn payload(&self) -> Payload<'_> {
        Payload {
            kind: self.kind,
            latent_dim: self.d as u32,
            image_width: self.width as u32,
            image_height: self.height as u32,
            unknown_threshold: self.threshold,
            open_world: self.open_world,
            labels: Labels {
                count: self.count as u32,
                names: &self.names,
                mu: &self.label_mu_b,
                logvar: &self.label_logvar_b,
                inv_var: &self.inv_var_b,
                log_norm: &self.log_norm_b,
            },
            label_encoder: self.label_encoder.as_ref().map(|(m, l)| LabelEncoder {
                mu: m.layer(),
                logvar: l.layer(),
            }),
            encoder: self.encoder.then(|| Encoder {
                trunk: Chain::new(&self.trunk_layers()),
                mu: self.mu.layer(),
                logvar: self.logvar.layer(),
            }),
            decoder: Chain::new(&self.decoder_layers()),
        }
    }

    /// The blob, through the validating public API.
    pub fn blob(&self) -> Vec<u8> {
        to_blob(&self.payload())
    }
}

/// `blob::encode` into a right-sized `Vec`.
pub fn to_blob(p: &Payload<'_>) -> Vec<u8> {
    let mut out = vec![0u8; blob::encoded_len(p).unwrap()];
    let n = blob::encode(p, &mut out).unwrap();
    assert_eq!(n, out.len());
    out
}

/// `blob::encode_unchecked` into a right-sized `Vec` (for blobs the runtime must reject).
pub fn to_blob_unchecked(p: &Payload<'_>) -> Vec<u8> {
    let mut out = vec![0u8; 1 << 20];
    let n = blob::encode_unchecked(p, &mut out).unwrap();
    out.truncate(n);
    out
}

/// The payload's wire layout with plain slices for the chains: serde writes a slice as a
/// sequence exactly as [`Chain`] does, so this writes the same bytes, and can write chains
/// of any length.
#[derive(Serialize)]
pub struct WirePayload<'a> {
    pub kind: ModelKind,
    pub latent_dim: u32,
    pub image_width: u32,
    pub image_height: u32,
    pub unknown_threshold: f32,
    pub labels: Labels<'a>,
    pub label_encoder: Option<LabelEncoder<'a>>,
    pub encoder: Option<WireEncoder<'a>>,
    pub decoder: &'a [Layer<'a>],
    pub open_world: Option<crate::payload::OpenWorld>,
}

/// The encoder's wire layout with a plain slice for the trunk.
#[derive(Serialize)]
pub struct WireEncoder<'a> {
    pub trunk: &'a [Layer<'a>],
    pub mu: Layer<'a>,
    pub logvar: Layer<'a>,
}

/// `p` as a blob of format `version` 1, 2 or 3, written in that version's layout (version 1:
/// without the open-world field, which must be `None`). `p` must have an encoder.
pub fn blob_before_v4(version: u16, p: &Payload<'_>) -> Vec<u8> {
    assert!((1..=3).contains(&version));
    let old = crate::payload::PayloadV3::from_current(p)
        .unwrap_or_else(|| panic!("versions before 4 always hold an encoder"));
    let mut buf = vec![0u8; 1 << 20];
    let mut n = postcard::to_slice(&old, &mut buf).unwrap().len();
    if version == 1 {
        assert!(p.open_world.is_none(), "version 1 has no open-world field");
        n -= 1; // the `None` of the open-world field
    }
    envelope_version(version, &buf[..n])
}

/// Wraps raw payload bytes in a correct header of the current version.
pub fn envelope(payload: &[u8]) -> Vec<u8> {
    envelope_version(blob::FORMAT_VERSION, payload)
}

/// Wraps raw payload bytes in a correct header claiming format `version`.
pub fn envelope_version(version: u16, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(blob::HEADER_LEN + payload.len());
    out.extend_from_slice(&blob::MAGIC);
    out.extend_from_slice(&version.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&blob::crc32(payload).to_le_bytes());
    out.extend_from_slice(payload);
    out
}

/// Buffers sized for `model`.
pub fn scratch_bufs(model: &crate::Model<'_>) -> (Vec<f32>, Vec<i8>) {
    let n = model.scratch_len();
    (vec![0.0; n.f32s], vec![0; n.i8s])
}

fn eye(n: usize) -> Vec<f32> {
    (0..n * n)
        .map(|i| if i / n == i % n { 1.0 } else { 0.0 })
        .collect()
}

/// A known-answer model: 2×2 images, d = 4. Encoder: `h = relu(I x)` (in `enc`), then
/// `mu = I h`, `logvar = -2`. Decoder: `sigmoid(I z)` (in `enc`). Labels `e0..e3`: one-hot
/// means, `logvar = 0`. So `mu_x = x` and the label is the brightest pixel.
pub fn identity_model(enc: Encoding) -> OwnedModel {
    let n = 4;
    let trunk = vec![OwnedLayer::new(
        n,
        n,
        Activation::Relu,
        enc,
        eye(n),
        vec![0.0; n],
    )];
    let mu = OwnedLayer::new(
        n,
        n,
        Activation::Identity,
        Encoding::F32,
        eye(n),
        vec![0.0; n],
    );
    let logvar = OwnedLayer::new(
        n,
        n,
        Activation::Identity,
        Encoding::F32,
        vec![0.0; n * n],
        vec![-2.0; n],
    );
    let decoder = vec![OwnedLayer::new(
        n,
        n,
        Activation::Sigmoid,
        enc,
        eye(n),
        vec![0.0; n],
    )];
    // Label encoder: word vector (k = 4) → mu = word, logvar = 0.
    let label_encoder = Some((
        OwnedLayer::new(
            n,
            n,
            Activation::Identity,
            Encoding::F32,
            eye(n),
            vec![0.0; n],
        ),
        OwnedLayer::new(
            n,
            n,
            Activation::Identity,
            Encoding::F32,
            vec![0.0; n * n],
            vec![0.0; n],
        ),
    ));
    let mut m = OwnedModel {
        kind: ModelKind::Pse,
        d: n,
        width: 2,
        height: 2,
        threshold: f32::NEG_INFINITY,
        open_world: None,
        encoder: true,
        trunk,
        mu,
        logvar,
        decoder,
        label_encoder,
        names: String::new(),
        count: 0,
        label_mu: Vec::new(),
        label_logvar: Vec::new(),
        label_mu_b: Vec::new(),
        label_logvar_b: Vec::new(),
        inv_var_b: Vec::new(),
        log_norm_b: Vec::new(),
    };
    m.set_labels(&["e0", "e1", "e2", "e3"], &eye(n), &[0.0; 16]);
    m
}
