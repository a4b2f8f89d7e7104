//! Export: a trained checkpoint becomes a `pse-runtime` blob (`runtime/FORMAT.md`).
//!
//! [`Exported::from_checkpoint`] turns the trainer's float parameters into the blob's
//! arrays: every [`Dense`] weight (stored `[in, out]` by the trainer) is transposed to the
//! blob's row-major `[out][in]` and encoded as its layer's [`Encoding`]; the two image heads
//! (`mu`/`logvar`) and the label table stay `f32` in every encoding. The label table is the
//! label encoder applied to the run's label vectors (one-hot rows or word vectors), with its
//! constants written by [`labels::write_label_constants`]; models trained on word vectors
//! also carry the label encoder itself (two `f32` layers), so a device can place any word. Activations: encoder trunk ReLU, heads
//! Identity, decoder hidden ReLU, decoder last Sigmoid.
//!
//! [`export_run`] is the whole `pse-trainer export` command: build the blob, calibrate its
//! "unknown" threshold on the run's held-out images with the exported model itself
//! ([`crate::export::calibrate`]), measure it on the test set with the runtime ([`crate::export::host`]),
//! and write the blob and its model card ([`crate::export::card`]) atomically.
//!
//! Nothing here is random: the same checkpoint and options give the same bytes.

pub mod calibrate;
pub mod card;
pub mod enroll;
pub mod host;
pub mod inspect;
#[cfg(feature = "onnx")]
pub mod onnx;
pub mod ood;
pub mod precision;
pub mod targets;

use crate::atomic::write_atomic;
use crate::data::{self, Split};
use crate::eval::infer;
use crate::export::card::{FloatMetrics, ModelCard};
use crate::export::host::Scratchpad;
use crate::export::precision::{BlobPart, Precision, WeightEncoding, image_size};
use crate::nn::dense::Dense;
use crate::nn::model::{Kind, Net};
use crate::train::checkpoint::{Checkpoint, LabelKind};
use crate::train::label_table;
use ndarray::ArrayView2;
use pse_runtime::payload::{
    Activation, Chain, Encoder, Encoding, LabelEncoder, Labels, Layer, ModelKind, OpenWorld,
    Payload, Weights,
};
use pse_runtime::{Model, labels, quant};
use std::fmt;
use std::path::PathBuf;

/// Why a checkpoint could not be exported.
#[derive(Debug)]
pub enum ExportError {
    /// The runtime refused an array or the payload (`context` says which).
    Runtime {
        /// What was being encoded.
        context: String,
        /// The runtime's error.
        error: pse_runtime::Error,
    },
    /// The checkpoint's shapes cannot be expressed in a blob.
    Unsupported(String),
}

impl fmt::Display for ExportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExportError::Runtime { context, error } => write!(f, "{context}: {error}"),
            ExportError::Unsupported(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for ExportError {}

fn rt(context: impl Into<String>) -> impl FnOnce(pse_runtime::Error) -> ExportError {
    let context = context.into();
    move |error| ExportError::Runtime { context, error }
}

/// One layer's arrays in blob form (owned).
#[derive(Debug, Clone, PartialEq)]
pub struct OwnedLayer {
    /// Input size.
    pub in_dim: usize,
    /// Output size.
    pub out_dim: usize,
    /// Activation after `W x + b`.
    pub activation: Activation,
    /// How the weights are stored.
    pub encoding: Encoding,
    /// Encoded weights, row-major `[out][in]`.
    pub weights: Vec<u8>,
    /// Per-row scales (int8 only; empty otherwise).
    pub scales: Vec<u8>,
    /// `out_dim` little-endian `f32` biases.
    pub bias: Vec<u8>,
}

impl OwnedLayer {
    /// Encodes the trainer layer `dense` of parameters `p`: transposes `W` from `[in, out]`
    /// to `[out][in]` and encodes it as `encoding`; the bias stays `f32`.
    pub fn from_dense(
        p: &[f32],
        dense: &Dense,
        activation: Activation,
        encoding: Encoding,
        name: &str,
    ) -> Result<OwnedLayer, ExportError> {
        let (n_in, n_out) = (dense.n_in, dense.n_out);
        let w = dense.weight(p);
        let mut rows = Vec::with_capacity(n_in * n_out);
        for o in 0..n_out {
            rows.extend(w.column(o).iter().copied());
        }
        let too_big = || ExportError::Unsupported(format!("{name}: {n_out}x{n_in} is too large"));
        let mut weights = vec![0u8; encoding.weight_bytes(n_out, n_in).ok_or_else(too_big)?];
        let mut scales = vec![0u8; encoding.scale_bytes(n_out).ok_or_else(too_big)?];
        quant::encode_weights(encoding, &rows, n_out, n_in, &mut weights, &mut scales)
            .map_err(rt(format!("{name} weights")))?;
        let mut bias = vec![0u8; 4 * n_out];
        quant::encode_f32(dense.bias(p).as_slice().expect("contiguous"), &mut bias)
            .map_err(rt(format!("{name} bias")))?;
        Ok(OwnedLayer {
            in_dim: n_in,
            out_dim: n_out,
            activation,
            encoding,
            weights,
            scales,
            bias,
        })
    }

    /// The layer as the payload borrows it.
    pub fn layer(&self) -> Layer<'_> {
        Layer {
            in_dim: self.in_dim as u32,
            out_dim: self.out_dim as u32,
            activation: self.activation,
            weights: Weights::from_parts(self.encoding, &self.weights, &self.scales),
            bias: &self.bias,
        }
    }
}

/// Everything a blob holds, in owned buffers; [`Exported::payload`] borrows them.
#[derive(Debug, Clone, PartialEq)]
pub struct Exported {
    /// The objective the model was trained with.
    pub kind: ModelKind,
    /// Latent size `d`.
    pub latent: usize,
    /// Image width.
    pub width: usize,
    /// Image height.
    pub height: usize,
    /// Label names joined with `'\n'`.
    pub names: String,
    /// Number of labels.
    pub label_count: usize,
    /// Label means, `[label][d]` little-endian `f32`.
    pub label_mu: Vec<u8>,
    /// Label log-variances, `[label][d]` little-endian `f32`.
    pub label_logvar: Vec<u8>,
    /// `expf(-logvar)`, as the runtime computes it.
    pub label_inv_var: Vec<u8>,
    /// Log-normalisers, as the runtime computes them.
    pub label_log_norm: Vec<u8>,
    /// Whether the blob holds the image encoder (`trunk`, `mu`, `logvar`); false for a blob
    /// exported for generation only.
    pub has_encoder: bool,
    /// Encoder trunk layers.
    pub trunk: Vec<OwnedLayer>,
    /// Image `mu` head (`f32`).
    pub mu: OwnedLayer,
    /// Image `logvar` head (`f32`).
    pub logvar: OwnedLayer,
    /// Decoder layers.
    pub decoder: Vec<OwnedLayer>,
    /// The label encoder's `mu` and `logvar` layers (`f32`), for word-vector models: the
    /// device can then place any word vector in the latent space.
    pub label_encoder: Option<(OwnedLayer, OwnedLayer)>,
    /// The open-world bounds written into the blob (`None` until calibrated).
    pub open_world: Option<OpenWorld>,
}

impl Exported {
    /// Builds the blob's arrays from a checkpoint, with trunk and decoder layers encoded as
    /// `precision` says; `labels` is the run's label table ([`crate::train::label_table`]).
    pub fn from_checkpoint(
        ck: &Checkpoint,
        precision: &Precision,
        labels: ArrayView2<f32>,
    ) -> Result<Self, ExportError> {
        let cfg = &ck.config;
        let kind = match cfg.arch.kind {
            Kind::Pse => ModelKind::Pse,
            Kind::PseStar => ModelKind::PseStar,
            k => {
                return Err(ExportError::Unsupported(format!(
                    "{} is one of the paper's baselines, trained for `compare` only; the runtime runs PSE and PSE*",
                    k.paper_name()
                )));
            }
        };
        let net = Net::new(cfg.arch);
        let lab = net.lab.as_ref().expect("PSE and PSE* have a label encoder");
        let p = ck.model_params();
        if precision.trunk.len() != net.enc.layers.len()
            || precision.decoder.len() != net.dec.layers.len()
        {
            return Err(ExportError::Unsupported(format!(
                "precision names {} trunk and {} decoder layers; the model has {} and {}",
                precision.trunk.len(),
                precision.decoder.len(),
                net.enc.layers.len(),
                net.dec.layers.len()
            )));
        }
        let trunk = net
            .enc
            .layers
            .iter()
            .zip(&precision.trunk)
            .enumerate()
            .map(|(i, (l, &e))| {
                OwnedLayer::from_dense(p, l, Activation::Relu, e, &format!("encoder layer {i}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let head = |l: &Dense, name: &str| {
            OwnedLayer::from_dense(p, l, Activation::Identity, Encoding::F32, name)
        };
        let mu = head(&net.enc_mu, "encoder mu head")?;
        let logvar = head(&net.enc_lv, "encoder logvar head")?;
        let label_encoder = match cfg.labels {
            // One-hot labels: the label table holds every label the model knows, so the
            // blob carries no label encoder.
            LabelKind::OneHot => None,
            LabelKind::Glove => Some((
                head(&lab.mu, "label encoder mu")?,
                head(&lab.lv, "label encoder logvar")?,
            )),
        };
        let last = net.dec.layers.len().saturating_sub(1);
        let decoder = net
            .dec
            .layers
            .iter()
            .zip(&precision.decoder)
            .enumerate()
            .map(|(i, (l, &e))| {
                let act = if i == last {
                    Activation::Sigmoid
                } else {
                    Activation::Relu
                };
                OwnedLayer::from_dense(p, l, act, e, &format!("decoder layer {i}"))
            })
            .collect::<Result<Vec<_>, _>>()?;

        let (lab_mu, lab_lv) = infer::label_gaussians(&net, p, labels);
        let d = cfg.arch.latent;
        let n = lab_mu.nrows();
        let (mu_f, lv_f) = (
            lab_mu.as_slice().expect("contiguous"),
            lab_lv.as_slice().expect("contiguous"),
        );
        let mut label_mu = vec![0u8; 4 * n * d];
        let mut label_logvar = vec![0u8; 4 * n * d];
        let mut label_inv_var = vec![0u8; 4 * n * d];
        let mut label_log_norm = vec![0u8; 4 * n];
        quant::encode_f32(mu_f, &mut label_mu).map_err(rt("label mu"))?;
        quant::encode_f32(lv_f, &mut label_logvar).map_err(rt("label logvar"))?;
        labels::write_label_constants(lv_f, d, &mut label_inv_var, &mut label_log_norm)
            .map_err(rt("label constants"))?;
        let names = cfg.dataset.label_names();
        let names = names.get(..n).ok_or_else(|| {
            ExportError::Unsupported(format!(
                "{n} classes, but {} names {} labels",
                cfg.dataset,
                names.len()
            ))
        })?;
        let (width, height) = image_size(cfg.arch.pixels);
        Ok(Exported {
            kind,
            latent: d,
            width,
            height,
            names: names.join("\n"),
            label_count: n,
            label_mu,
            label_logvar,
            label_inv_var,
            label_log_norm,
            has_encoder: true,
            trunk,
            mu,
            logvar,
            decoder,
            label_encoder,
            open_world: None,
        })
    }

    /// Removes the labels at `indices` from the label table (names and Gaussians), e.g. to
    /// make a blob that does not know a class and must learn it by enrollment.
    pub fn without_labels(&mut self, indices: &[usize]) {
        let d4 = 4 * self.latent;
        let keep: Vec<usize> = (0..self.label_count)
            .filter(|i| !indices.contains(i))
            .collect();
        let rows = |v: &[u8], width: usize| -> Vec<u8> {
            keep.iter()
                .flat_map(|&i| v[i * width..(i + 1) * width].iter().copied())
                .collect()
        };
        self.label_mu = rows(&self.label_mu, d4);
        self.label_logvar = rows(&self.label_logvar, d4);
        self.label_inv_var = rows(&self.label_inv_var, d4);
        self.label_log_norm = rows(&self.label_log_norm, 4);
        let names: Vec<&str> = self.names.split('\n').collect();
        self.names = keep
            .iter()
            .map(|&i| names[i])
            .collect::<Vec<_>>()
            .join("\n");
        self.label_count = keep.len();
    }

    /// The label names, index = label id.
    pub fn label_names(&self) -> Vec<&str> {
        if self.label_count == 0 {
            Vec::new()
        } else {
            self.names.split('\n').collect()
        }
    }

    /// The payload, borrowing this export's arrays, with `unknown_threshold`.
    pub fn payload(&self, unknown_threshold: f32) -> Payload<'_> {
        let trunk: Vec<Layer<'_>> = self.trunk.iter().map(OwnedLayer::layer).collect();
        let decoder: Vec<Layer<'_>> = self.decoder.iter().map(OwnedLayer::layer).collect();
        Payload {
            kind: self.kind,
            latent_dim: self.latent as u32,
            image_width: self.width as u32,
            image_height: self.height as u32,
            unknown_threshold,
            labels: Labels {
                count: self.label_count as u32,
                names: &self.names,
                mu: &self.label_mu,
                logvar: &self.label_logvar,
                inv_var: &self.label_inv_var,
                log_norm: &self.label_log_norm,
            },
            label_encoder: self
                .label_encoder
                .as_ref()
                .map(|(mu, logvar)| LabelEncoder {
                    mu: mu.layer(),
                    logvar: logvar.layer(),
                }),
            encoder: self.has_encoder.then(|| Encoder {
                trunk: Chain::new(&trunk),
                mu: self.mu.layer(),
                logvar: self.logvar.layer(),
            }),
            decoder: Chain::new(&decoder),
            open_world: self.open_world,
        }
    }

    /// The validated model over this export's arrays (no blob needed).
    pub fn model(&self, unknown_threshold: f32) -> Result<Model<'_>, ExportError> {
        Model::from_payload(self.payload(unknown_threshold)).map_err(rt("payload"))
    }

    /// The blob bytes (header and postcard payload), validated by the runtime.
    pub fn blob(&self, unknown_threshold: f32) -> Result<Vec<u8>, ExportError> {
        host::encode_blob(&self.payload(unknown_threshold)).map_err(rt("payload"))
    }
}

/// The options of `pse-trainer export`.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    /// The run folder (holds `checkpoint.bin`, maybe `metrics.json`).
    pub run: PathBuf,
    /// Folder with the datasets.
    pub data_dir: PathBuf,
    /// Encoding of the encoder trunk and decoder layers.
    pub weights: WeightEncoding,
    /// The parts of the model the blob holds.
    pub part: BlobPart,
    /// Layers kept in `f32` whatever `weights` says: `enc.I` / `dec.I` (0-based).
    pub keep_f32: Vec<String>,
    /// Per-layer encodings that override `weights`: `enc.I=ENC` / `dec.I=ENC`, applied
    /// after `keep_f32`.
    pub layers: Vec<String>,
    /// Labels (by name or index) left out of the blob's label table.
    pub without_labels: Vec<String>,
    /// Percentile of the held-out best log-likelihoods used as the unknown threshold.
    pub percentile: f64,
    /// The blob file to write (the card goes beside it, extension `.json`).
    pub out: PathBuf,
}

/// What [`export_run`] wrote.
#[derive(Debug, Clone)]
pub struct ExportReport {
    /// The blob file.
    pub blob: PathBuf,
    /// The model card file.
    pub card_path: PathBuf,
    /// The model card.
    pub card: ModelCard,
}

/// Applies `--keep-f32` names (`enc.I`, `dec.I`) to a precision: [`layer_encodings`] with
/// every named layer in `f32`.
pub fn keep_f32(precision: &mut Precision, names: &[String]) -> Result<(), String> {
    for name in names {
        set_layer(precision, name, Encoding::F32).map_err(|e| format!("--keep-f32 {name}: {e}"))?;
    }
    Ok(())
}

/// Applies `--layer` choices (`enc.I=ENC` or `dec.I=ENC`, ENC one of `f32`, `f16`, `i8`,
/// `i4`) to a precision, in order (a later choice for the same layer wins).
pub fn layer_encodings(precision: &mut Precision, specs: &[String]) -> Result<(), String> {
    for spec in specs {
        let (name, enc) = spec
            .split_once('=')
            .ok_or_else(|| format!("--layer {spec}: expected LAYER=ENCODING, e.g. enc.0=i8"))?;
        let enc = <WeightEncoding as clap::ValueEnum>::from_str(enc.trim(), true)
            .map_err(|_| format!("--layer {spec}: unknown encoding {enc} (f32, f16, i8 or i4)"))?;
        set_layer(precision, name.trim(), enc.encoding())
            .map_err(|e| format!("--layer {spec}: {e}"))?;
    }
    Ok(())
}

/// Sets the encoding of the layer named `enc.I` or `dec.I` (0-based).
fn set_layer(precision: &mut Precision, name: &str, enc: Encoding) -> Result<(), String> {
    let expected = || "expected enc.I or dec.I".to_string();
    let (part, idx) = name
        .split_once('.')
        .and_then(|(p, i)| Some((p, i.parse::<usize>().ok()?)))
        .ok_or_else(expected)?;
    let layers = match part {
        "enc" => &mut precision.trunk,
        "dec" => &mut precision.decoder,
        _ => return Err(expected()),
    };
    let n = layers.len();
    *layers
        .get_mut(idx)
        .ok_or_else(|| format!("the model has {n} {part} layers"))? = enc;
    Ok(())
}

/// `pse-trainer export`: checkpoint → blob with a calibrated threshold → measured on the
/// test set → blob and model card written atomically.
pub fn export_run(
    ck: &Checkpoint,
    opts: &ExportOptions,
) -> Result<ExportReport, Box<dyn std::error::Error>> {
    let cfg = &ck.config;
    let net = Net::new(cfg.arch);
    let mut precision = Precision::uniform(&net, opts.weights.encoding());
    keep_f32(&mut precision, &opts.keep_f32)?;
    layer_encodings(&mut precision, &opts.layers)?;
    let labels = label_table(cfg, &opts.data_dir)?;
    let mut exported = Exported::from_checkpoint(ck, &precision, labels.view())?;
    let class_names = cfg.dataset.label_names();
    let class_names = &class_names[..cfg.arch.classes.min(class_names.len())];
    let mut dropped = Vec::new();
    {
        let model = exported.model(f32::NEG_INFINITY)?;
        for arg in &opts.without_labels {
            dropped.push(
                host::resolve_label(&model, arg)
                    .map_err(|e| e.replacen("--label", "--without-label", 1))?,
            );
        }
    }
    let untrained: Vec<&str> = cfg
        .left_out
        .iter()
        .filter(|&&c| cfg.labels == LabelKind::OneHot && !dropped.contains(&(c as usize)))
        .filter_map(|&c| class_names.get(c as usize).copied())
        .collect();
    if !untrained.is_empty() {
        eprintln!(
            "warning: the run was trained without {0}, whose label is therefore untrained and \
             kept in the blob; export with --without-label {0} to leave it out (and enroll it)",
            untrained.join(",")
        );
    }
    exported.without_labels(&dropped);
    // A blob for annotation only: no decoder; for generation only: no image encoder (the
    // card then lists no such layers).
    let mut card_precision = precision.clone();
    match opts.part {
        BlobPart::All => {}
        BlobPart::Annotate => {
            exported.decoder.clear();
            card_precision.decoder.clear();
        }
        BlobPart::Generate => {
            exported.has_encoder = false;
            card_precision.trunk.clear();
        }
    }
    let kept: Vec<bool> = (0..class_names.len())
        .map(|c| !dropped.contains(&c))
        .collect();

    let (bytes, score, calibration, open_world) = if exported.has_encoder {
        // Calibrate the threshold with the exported model itself, on the held-out images
        // of the labels it knows. They are the last `recipe.holdout` training images, as
        // `train::training_set` leaves them.
        let holdout_x =
            calibrate::held_out_images(&opts.data_dir, cfg.dataset, cfg.recipe.holdout, &kept)?;
        let (calibration, open_world) = calibrate::calibrate_verdict(
            &exported.model(f32::NEG_INFINITY)?,
            holdout_x.view(),
            opts.percentile,
        )?;
        exported.open_world = open_world.as_ref().map(|c| c.bounds);
        let bytes = exported.blob(calibration.threshold)?;

        // Measure the blob exactly as written, through `from_bytes`.
        let model = Model::from_bytes(&bytes).map_err(rt("the blob just written"))?;
        let test = data::load(&opts.data_dir, cfg.dataset, Split::Test)?;
        let mut pad = Scratchpad::for_model(&model);
        let score = host::score(&model, &mut pad, test.x.view(), &test.y, class_names)?;
        (bytes, Some(score), Some(calibration), open_world)
    } else {
        // Nothing reads images: no threshold, no verdict, no annotation to measure.
        let bytes = exported.blob(f32::NEG_INFINITY)?;
        Model::from_bytes(&bytes).map_err(rt("the blob just written"))?;
        (bytes, None, None, None)
    };

    let float = FloatMetrics::read(&opts.run.join("metrics.json"))?;
    let card = ModelCard::new(
        ck,
        &opts.run,
        &opts.out,
        &bytes,
        &exported.label_names(),
        opts.weights,
        opts.part,
        &card_precision,
        float,
        score,
        calibration,
        open_world,
    );
    let card_path = card::card_path(&opts.out);
    let json = serde_json::to_vec_pretty(&card)?;
    write_atomic(&opts.out, &bytes).map_err(|e| format!("{}: {e}", opts.out.display()))?;
    write_atomic(&card_path, &json).map_err(|e| format!("{}: {e}", card_path.display()))?;
    Ok(ExportReport {
        blob: opts.out.clone(),
        card_path,
        card,
    })
}
