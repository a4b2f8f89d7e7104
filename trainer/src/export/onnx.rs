//! ONNX references of a trained model (DESIGN §6): float graphs that any ONNX engine can run,
//! against which the runtime's blobs are checked (`tests/tests/parity.rs` runs them with
//! `tract-onnx`).
//!
//! [`write_references`] writes three files into a folder:
//!
//! | file | input | outputs |
//! |---|---|---|
//! | [`files::ENCODER`] | `image` `[N, pixels]` f32 in `[0, 1]` | `mu` `[N, d]`, `logvar` `[N, d]` |
//! | [`files::ANNOTATOR`] | `image` `[N, pixels]` | `scores` `[N, C]`: `log N(mu_x; mu_c, diag var_c)` |
//! | [`files::DECODER`] | `z` `[N, d]` | `pixels` `[N, pixels]`: probabilities (Sigmoid last) |
//!
//! Standard ONNX: IR version [`IR_VERSION`], default-domain opset [`OPSET`], a symbolic batch
//! dimension [`BATCH`], every input, output and intermediate tensor declared with its type
//! and shape. Dense layers are `Gemm` with the trainer's `[in, out]` weights as `B`
//! (`transB = 0`). The annotator bakes the label table in as initializers: the label
//! encoder applied to the run's label table ([`infer::label_gaussians`]), `inv_var` and
//! `log_norm` from [`gaussian::label_constants`] — the same bits the runtime's blobs store —
//! and computes, per label `c`,
//! `scores[n, c] = log_norm[c] − 0.5 · Σ_j (mu[n, j] − mu[c, j])² · inv_var[c, j]`
//! in the runtime's operation order (`((x − m)·(x − m))·iv`, then `log_norm − 0.5·q`).
//!
//! Models trained on word-vector labels also get `label_encoder.onnx` (`vector` `[N, k]` →
//! `mu`, `logvar` `[N, d]`, two `Gemm`s), the reference for the runtime's
//! `gaussian_from_vector`; a one-hot model's label encoder is fully described by the
//! annotator's table.
//!
//! The protobuf types are `tract_onnx::pb` (prost-generated), encoded with `prost` at the
//! version tract uses, so there is one protobuf stack in the build.

use crate::atomic::write_atomic;
use crate::eval::infer;
use crate::nn::dense::Dense;
use crate::nn::model::Net;
use crate::train::checkpoint::{Checkpoint, LabelKind};
use ndarray::ArrayView2;
use prost::Message;
use pse_runtime::gaussian;
use std::path::{Path, PathBuf};
use tract_onnx::pb;
use tract_onnx::pb::tensor_proto::DataType;
use tract_onnx::pb::tensor_shape_proto::{Dimension, dimension};

/// ONNX IR version of the files.
pub const IR_VERSION: i64 = 8;
/// Opset of the default ONNX domain.
pub const OPSET: i64 = 17;
/// Name of the symbolic batch dimension.
pub const BATCH: &str = "N";

/// File names inside the reference folder.
pub mod files {
    /// `image → mu, logvar`.
    pub const ENCODER: &str = "encoder.onnx";
    /// `image → scores`.
    pub const ANNOTATOR: &str = "annotator.onnx";
    /// `z → pixels`.
    pub const DECODER: &str = "decoder.onnx";
    /// `vector → mu, logvar` (word-vector models only).
    pub const LABEL_ENCODER: &str = "label_encoder.onnx";
}

/// Names of the graphs' inputs and outputs.
pub mod names {
    /// Image input, `[N, pixels]`, f32 in `[0, 1]` (pixel byte / 255).
    pub const IMAGE: &str = "image";
    /// Latent input of the decoder, `[N, d]`.
    pub const Z: &str = "z";
    /// Posterior mean `[N, d]`.
    pub const MU: &str = "mu";
    /// Posterior log-variance `[N, d]`.
    pub const LOGVAR: &str = "logvar";
    /// Per-label log-likelihoods `[N, C]`.
    pub const SCORES: &str = "scores";
    /// Pixel probabilities `[N, pixels]`.
    pub const PIXELS: &str = "pixels";
    /// Label (word) vector input of the label encoder, `[N, k]`.
    pub const VECTOR: &str = "vector";
}

/// One dimension of a declared shape.
#[derive(Clone, Copy)]
enum Dim {
    Batch,
    Fixed(usize),
}

fn tensor_type(dims: &[Dim]) -> pb::TypeProto {
    let dim = dims
        .iter()
        .map(|d| Dimension {
            denotation: String::new(),
            value: Some(match d {
                Dim::Batch => dimension::Value::DimParam(BATCH.into()),
                Dim::Fixed(n) => dimension::Value::DimValue(*n as i64),
            }),
        })
        .collect();
    pb::TypeProto {
        denotation: String::new(),
        value: Some(pb::type_proto::Value::TensorType(pb::type_proto::Tensor {
            elem_type: DataType::Float as i32,
            shape: Some(pb::TensorShapeProto { dim }),
        })),
    }
}

fn value_info(name: &str, dims: &[Dim]) -> pb::ValueInfoProto {
    pb::ValueInfoProto {
        name: name.into(),
        r#type: Some(tensor_type(dims)),
        doc_string: String::new(),
    }
}

fn attr_int(name: &str, v: i64) -> pb::AttributeProto {
    pb::AttributeProto {
        name: name.into(),
        r#type: pb::attribute_proto::AttributeType::Int as i32,
        i: v,
        ..Default::default()
    }
}

fn attr_float(name: &str, v: f32) -> pb::AttributeProto {
    pb::AttributeProto {
        name: name.into(),
        r#type: pb::attribute_proto::AttributeType::Float as i32,
        f: v,
        ..Default::default()
    }
}

/// A graph under construction.
struct Graph {
    g: pb::GraphProto,
}

impl Graph {
    fn new(name: &str, doc: &str) -> Graph {
        Graph {
            g: pb::GraphProto {
                name: name.into(),
                doc_string: doc.into(),
                ..Default::default()
            },
        }
    }

    fn input(&mut self, name: &str, width: usize) {
        self.g
            .input
            .push(value_info(name, &[Dim::Batch, Dim::Fixed(width)]));
    }

    fn output(&mut self, name: &str, width: usize) {
        self.g
            .output
            .push(value_info(name, &[Dim::Batch, Dim::Fixed(width)]));
    }

    /// Declares an intermediate tensor.
    fn value(&mut self, name: &str, dims: &[Dim]) {
        self.g.value_info.push(value_info(name, dims));
    }

    fn init_f32(&mut self, name: &str, dims: &[usize], data: &[f32]) {
        assert_eq!(dims.iter().product::<usize>(), data.len(), "{name}");
        self.g.initializer.push(pb::TensorProto {
            name: name.into(),
            dims: dims.iter().map(|&d| d as i64).collect(),
            data_type: DataType::Float as i32,
            raw_data: data.iter().flat_map(|v| v.to_le_bytes()).collect(),
            ..Default::default()
        });
    }

    fn init_i64(&mut self, name: &str, data: &[i64]) {
        self.g.initializer.push(pb::TensorProto {
            name: name.into(),
            dims: vec![data.len() as i64],
            data_type: DataType::Int64 as i32,
            raw_data: data.iter().flat_map(|v| v.to_le_bytes()).collect(),
            ..Default::default()
        });
    }

    fn node(
        &mut self,
        op: &str,
        inputs: &[&str],
        output: &str,
        attribute: Vec<pb::AttributeProto>,
    ) {
        let n = self.g.node.len();
        self.g.node.push(pb::NodeProto {
            name: format!("{output}_{op}_{n}"),
            op_type: op.into(),
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![output.into()],
            attribute,
            ..Default::default()
        });
    }

    /// `out = act(x · W + b)` for a trainer layer (`W` stored `[in, out]`): a `Gemm`, then
    /// the activation. Declares every new tensor but a graph output (declare those first).
    fn dense(&mut self, name: &str, x: &str, l: &Dense, p: &[f32], act: Option<&str>, out: &str) {
        let (w, b) = (format!("{name}.w"), format!("{name}.b"));
        self.init_f32(
            &w,
            &[l.n_in, l.n_out],
            l.weight(p).as_slice().expect("slot"),
        );
        self.init_f32(&b, &[l.n_out], l.bias(p).as_slice().expect("slot"));
        let gemm_attrs = vec![
            attr_float("alpha", 1.0),
            attr_float("beta", 1.0),
            attr_int("transA", 0),
            attr_int("transB", 0),
        ];
        let shape = [Dim::Batch, Dim::Fixed(l.n_out)];
        match act {
            None => {
                self.node("Gemm", &[x, &w, &b], out, gemm_attrs);
            }
            Some(op) => {
                let pre = format!("{name}.pre");
                self.node("Gemm", &[x, &w, &b], &pre, gemm_attrs);
                self.value(&pre, &shape);
                self.node(op, &[&pre], out, vec![]);
            }
        }
        if !self.g.output.iter().any(|v| v.name == out) {
            self.value(out, &shape);
        }
    }

    /// The encoder trunk on `image`; returns the name of its output.
    fn trunk(&mut self, net: &Net, p: &[f32]) -> String {
        let mut x = names::IMAGE.to_string();
        for (i, l) in net.enc.layers.iter().enumerate() {
            let relu = i + 1 < net.enc.layers.len() || net.enc.relu_last;
            let out = format!("enc.{i}.out");
            self.dense(&format!("enc.{i}"), &x, l, p, relu.then_some("Relu"), &out);
            x = out;
        }
        x
    }

    fn into_model(self, ck: &Checkpoint, doc: &str) -> pb::ModelProto {
        let cfg = &ck.config;
        let labels = cfg.dataset.label_names()[..cfg.arch.classes.min(10)].join("\n");
        let meta = [
            ("pse.model", cfg.arch.kind.paper_name().to_string()),
            ("pse.dataset", cfg.dataset.name().to_string()),
            ("pse.latent", cfg.arch.latent.to_string()),
            ("pse.classes", cfg.arch.classes.to_string()),
            ("pse.labels", labels),
            ("pse.steps", ck.step.to_string()),
            ("pse.seed", cfg.seed.to_string()),
        ];
        pb::ModelProto {
            ir_version: IR_VERSION,
            opset_import: vec![pb::OperatorSetIdProto {
                domain: String::new(),
                version: OPSET,
            }],
            producer_name: "pse-trainer".into(),
            producer_version: env!("CARGO_PKG_VERSION").into(),
            doc_string: doc.into(),
            graph: Some(self.g),
            metadata_props: meta
                .into_iter()
                .map(|(k, v)| pb::StringStringEntryProto {
                    key: k.into(),
                    value: v,
                })
                .collect(),
            ..Default::default()
        }
    }
}

/// The reference graphs of a checkpoint whose label table is `labels`
/// ([`crate::train::label_table`]), in the order encoder, annotator, decoder (file names
/// [`files::ENCODER`], [`files::ANNOTATOR`], [`files::DECODER`]), then for word-vector
/// models the label encoder ([`files::LABEL_ENCODER`]).
///
/// # Panics
/// For the baselines, which have no runtime counterpart ([`write_references`] refuses them).
pub fn reference_models(
    ck: &Checkpoint,
    labels: ArrayView2<f32>,
) -> Vec<(&'static str, pb::ModelProto)> {
    let cfg = &ck.config;
    let net = Net::new(cfg.arch);
    let p = ck.model_params();
    let (d, pixels, classes) = (cfg.arch.latent, cfg.arch.pixels, cfg.arch.classes);
    let what = format!(
        "{} {}D on {} ({} steps, seed {})",
        cfg.arch.kind.paper_name(),
        d,
        cfg.dataset,
        ck.step,
        cfg.seed
    );

    // Encoder: image → mu, logvar.
    let mut g = Graph::new("pse_encoder", "q(z|x): image -> mu, logvar");
    g.input(names::IMAGE, pixels);
    g.output(names::MU, d);
    g.output(names::LOGVAR, d);
    let h = g.trunk(&net, p);
    g.dense("enc_mu", &h, &net.enc_mu, p, None, names::MU);
    g.dense("enc_lv", &h, &net.enc_lv, p, None, names::LOGVAR);
    let encoder = g.into_model(ck, &format!("{what}: image encoder"));

    // Annotator: image → per-label log-likelihoods of mu_x.
    let (lab_mu, lab_lv) = infer::label_gaussians(&net, p, labels);
    let mut inv_var = vec![0.0f32; classes * d];
    let log_norm: Vec<f32> = lab_lv
        .rows()
        .into_iter()
        .zip(inv_var.chunks_mut(d))
        .map(|(lv, iv)| gaussian::label_constants(lv.as_slice().expect("contiguous"), iv))
        .collect();
    let mut g = Graph::new(
        "pse_annotator",
        "image -> scores[n, c] = log N(mu_x[n]; mu_c, diag var_c) \
         = log_norm[c] - 0.5 * sum_j (mu_x[n, j] - mu_c[j])^2 * inv_var[c, j]",
    );
    g.input(names::IMAGE, pixels);
    g.output(names::SCORES, classes);
    let h = g.trunk(&net, p);
    g.dense("enc_mu", &h, &net.enc_mu, p, None, names::MU);
    g.init_f32(
        "label.mu",
        &[classes, d],
        lab_mu.as_slice().expect("contiguous"),
    );
    g.init_f32("label.inv_var", &[classes, d], &inv_var);
    g.init_f32("label.log_norm", &[classes], &log_norm);
    g.init_i64("axes.1", &[1]);
    g.init_i64("axes.2", &[2]);
    g.init_f32("half", &[], &[0.5]);
    let (b, c, dd) = (Dim::Batch, Dim::Fixed(classes), Dim::Fixed(d));
    g.node("Unsqueeze", &[names::MU, "axes.1"], "mu.n1d", vec![]);
    g.value("mu.n1d", &[b, Dim::Fixed(1), dd]);
    g.node("Sub", &["mu.n1d", "label.mu"], "diff", vec![]);
    g.value("diff", &[b, c, dd]);
    g.node("Mul", &["diff", "diff"], "diff2", vec![]);
    g.value("diff2", &[b, c, dd]);
    g.node("Mul", &["diff2", "label.inv_var"], "wdiff2", vec![]);
    g.value("wdiff2", &[b, c, dd]);
    g.node(
        "ReduceSum",
        &["wdiff2", "axes.2"],
        "q",
        vec![attr_int("keepdims", 0)],
    );
    g.value("q", &[b, c]);
    g.node("Mul", &["q", "half"], "half_q", vec![]);
    g.value("half_q", &[b, c]);
    g.node("Sub", &["label.log_norm", "half_q"], names::SCORES, vec![]);
    let annotator = g.into_model(ck, &format!("{what}: label log-likelihoods"));

    // Decoder: z → pixel probabilities.
    let mut g = Graph::new("pse_decoder", "p(x|z): z -> pixel probabilities");
    g.input(names::Z, d);
    g.output(names::PIXELS, pixels);
    let mut x = names::Z.to_string();
    let last = net.dec.layers.len() - 1;
    for (i, l) in net.dec.layers.iter().enumerate() {
        let (act, out) = if i == last {
            ("Sigmoid", names::PIXELS.to_string())
        } else {
            ("Relu", format!("dec.{i}.out"))
        };
        g.dense(&format!("dec.{i}"), &x, l, p, Some(act), &out);
        x = out;
    }
    let decoder = g.into_model(ck, &format!("{what}: decoder"));

    let mut models = vec![
        (files::ENCODER, encoder),
        (files::ANNOTATOR, annotator),
        (files::DECODER, decoder),
    ];
    if cfg.labels == LabelKind::Glove {
        // Label encoder: word vector → mu, logvar.
        let mut g = Graph::new("pse_label_encoder", "q(z|l): label vector -> mu, logvar");
        g.input(names::VECTOR, cfg.arch.label_dim);
        g.output(names::MU, d);
        g.output(names::LOGVAR, d);
        let lab = net.lab.as_ref().expect("checked by write_references");
        g.dense("lab_mu", names::VECTOR, &lab.mu, p, None, names::MU);
        g.dense("lab_lv", names::VECTOR, &lab.lv, p, None, names::LOGVAR);
        models.push((
            files::LABEL_ENCODER,
            g.into_model(ck, &format!("{what}: label encoder")),
        ));
    }
    models
}

/// Writes the ONNX references of `ck` (label table `labels`) into `dir` (created if needed), each file atomically;
/// returns the paths written.
pub fn write_references(
    ck: &Checkpoint,
    labels: ArrayView2<f32>,
    dir: &Path,
) -> Result<Vec<PathBuf>, Box<dyn std::error::Error>> {
    let kind = ck.config.arch.kind;
    if kind.is_baseline() {
        return Err(format!(
            "{} is one of the paper's baselines: it has no runtime counterpart to check against",
            kind.paper_name()
        )
        .into());
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut written = Vec::new();
    for (name, model) in reference_models(ck, labels) {
        let path = dir.join(name);
        write_atomic(&path, &model.encode_to_vec())
            .map_err(|e| format!("{}: {e}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Dataset;
    use crate::eval;
    use crate::nn::adam::Adam;
    use crate::nn::mlp::MlpCache;
    use crate::nn::model::{Arch, Kind};
    use crate::nn::rng::{Rng, Stream};
    use crate::train::checkpoint::RunConfig;
    use crate::train::recipe::Recipe;
    use ndarray::Array2;
    use tract_onnx::prelude::*;

    /// A tiny model; word-vector labels (`LabelKind::Glove`) are 5 wide here.
    fn tiny(kind: Kind, labels: LabelKind) -> Checkpoint {
        let arch = Arch {
            kind,
            latent: 3,
            label_dim: if labels == LabelKind::Glove { 5 } else { 4 },
            classes: 4,
            pixels: 6,
            hidden: [5, 4],
        };
        let net = Net::new(arch);
        let mut params = net.layout.init(3);
        let mut noise = vec![0.0f32; params.len()];
        Rng::new(5, Stream::Noise, 0).fill_normal(&mut noise);
        for (p, n) in params.iter_mut().zip(&noise) {
            *p += 0.3 * n; // non-zero biases, and label variances away from 1
        }
        Checkpoint {
            config: RunConfig {
                dataset: Dataset::Mnist,
                arch,
                labels,
                seed: 1,
                recipe: Recipe::paper(),
                left_out: Vec::new(),
            },
            step: 42,
            adam: Adam::new(params.len()),
            params,
            average: None,
        }
    }

    /// The label table of [`tiny`]: one-hot, or 4 random "word vectors".
    fn table(ck: &Checkpoint) -> Array2<f32> {
        let a = ck.config.arch;
        match ck.config.labels {
            LabelKind::OneHot => crate::objectives::pse::one_hot_table(a.classes),
            LabelKind::Glove => {
                let mut t = Array2::<f32>::zeros((a.classes, a.label_dim));
                Rng::new(6, Stream::Eval, 2).fill_normal(t.as_slice_mut().unwrap());
                t
            }
        }
    }

    fn dims(v: &pb::ValueInfoProto) -> Vec<String> {
        let Some(pb::type_proto::Value::TensorType(t)) = v.r#type.as_ref().unwrap().value.clone()
        else {
            panic!("not a tensor")
        };
        assert_eq!(t.elem_type, DataType::Float as i32);
        t.shape
            .unwrap()
            .dim
            .iter()
            .map(|d| match d.value.as_ref().unwrap() {
                dimension::Value::DimParam(s) => s.clone(),
                dimension::Value::DimValue(n) => n.to_string(),
            })
            .collect()
    }

    fn run(path: &Path, input: &Array2<f32>) -> Vec<Array2<f32>> {
        let model = tract_onnx::onnx()
            .model_for_path(path)
            .unwrap()
            .into_optimized()
            .unwrap()
            .into_runnable()
            .unwrap();
        let t = Tensor::from(input.clone());
        model
            .run(tvec!(t.into()))
            .unwrap()
            .iter()
            .map(|o| {
                o.to_plain_array_view::<f32>()
                    .unwrap()
                    .into_dimensionality()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    }

    fn assert_close(what: &str, a: &Array2<f32>, b: &Array2<f32>, tol: f32) {
        assert_eq!(a.shape(), b.shape(), "{what}");
        for ((i, x), y) in a.indexed_iter().zip(b) {
            assert!((x - y).abs() <= tol, "{what} at {i:?}: {x} vs {y}");
        }
    }

    #[test]
    fn files_read_back_with_names_shapes_and_opset() {
        let ck = tiny(Kind::PseStar, LabelKind::OneHot);
        let dir = tempfile::tempdir().unwrap();
        let written = write_references(&ck, table(&ck).view(), dir.path()).unwrap();
        let want = [files::ENCODER, files::ANNOTATOR, files::DECODER];
        assert_eq!(
            written,
            want.iter().map(|f| dir.path().join(f)).collect::<Vec<_>>()
        );
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            3,
            "no temp files"
        );
        let io = |m: &pb::ModelProto| {
            let g = m.graph.as_ref().unwrap();
            let sig = |v: &[pb::ValueInfoProto]| {
                v.iter()
                    .map(|v| format!("{}{:?}", v.name, dims(v)))
                    .collect::<Vec<_>>()
            };
            (sig(&g.input), sig(&g.output))
        };
        let expect = [
            (
                vec![r#"image["N", "6"]"#],
                vec![r#"mu["N", "3"]"#, r#"logvar["N", "3"]"#],
            ),
            (vec![r#"image["N", "6"]"#], vec![r#"scores["N", "4"]"#]),
            (vec![r#"z["N", "3"]"#], vec![r#"pixels["N", "6"]"#]),
        ];
        for (path, (ins, outs)) in written.iter().zip(expect) {
            let m = tract_onnx::onnx().proto_model_for_path(path).unwrap();
            assert_eq!(m.ir_version, IR_VERSION);
            assert_eq!(m.opset_import.len(), 1);
            assert_eq!(m.opset_import[0].domain, "");
            assert_eq!(m.opset_import[0].version, OPSET);
            assert_eq!(
                io(&m),
                (
                    ins.iter().map(|s| s.to_string()).collect(),
                    outs.iter().map(|s| s.to_string()).collect()
                )
            );
            let g = m.graph.as_ref().unwrap();
            // Every node output is declared: as a graph output or a value info.
            for n in &g.node {
                for o in &n.output {
                    assert!(
                        g.output.iter().chain(&g.value_info).any(|v| &v.name == o),
                        "{}: {o} undeclared",
                        path.display()
                    );
                }
            }
            let meta: Vec<_> = m.metadata_props.iter().map(|e| e.key.as_str()).collect();
            assert!(meta.contains(&"pse.labels"), "{meta:?}");
        }
    }

    #[test]
    fn tract_runs_them_like_the_trainer() {
        for (kind, labels) in [
            (Kind::Pse, LabelKind::OneHot),
            (Kind::PseStar, LabelKind::OneHot),
            (Kind::PseStar, LabelKind::Glove),
        ] {
            let ck = tiny(kind, labels);
            let net = Net::new(ck.config.arch);
            let p = ck.model_params();
            let dir = tempfile::tempdir().unwrap();
            let table = table(&ck);
            let written = write_references(&ck, table.view(), dir.path()).unwrap();
            assert_eq!(
                written.len(),
                if labels == LabelKind::Glove { 4 } else { 3 }
            );
            let n = 37;
            let mut x = Array2::<f32>::zeros((n, 6));
            Rng::new(7, Stream::Eval, 0).fill_normal(x.as_slice_mut().unwrap());
            x.mapv_inplace(|v| (v * 0.4 + 0.5).clamp(0.0, 1.0));

            let (mu, lv) = infer::encode(&net, p, x.view());
            let out = run(&dir.path().join(files::ENCODER), &x);
            assert_close("mu", &out[0], &mu, 1e-5);
            assert_close("logvar", &out[1], &lv, 1e-5);

            let (lab_mu, lab_lv) = infer::label_gaussians(&net, p, table.view());
            if labels == LabelKind::Glove {
                let out = run(&dir.path().join(files::LABEL_ENCODER), &table);
                assert_close("label mu", &out[0], &lab_mu, 1e-5);
                assert_close("label logvar", &out[1], &lab_lv, 1e-5);
            }
            let scores = Array2::from_shape_fn((n, 4), |(i, c)| {
                let mut iv = [0.0f32; 3];
                let ln = gaussian::label_constants(lab_lv.row(c).as_slice().unwrap(), &mut iv);
                gaussian::log_likelihood(
                    mu.row(i).as_slice().unwrap(),
                    lab_mu.row(c).as_slice().unwrap(),
                    &iv,
                    ln,
                )
            });
            let out = run(&dir.path().join(files::ANNOTATOR), &x);
            assert_close("scores", &out[0], &scores, 1e-4);
            let best: Vec<usize> = out[0]
                .rows()
                .into_iter()
                .map(|r| gaussian::argmax(r.as_slice().unwrap()).unwrap())
                .collect();
            assert_eq!(
                best,
                eval::annotate(mu.view(), lab_mu.view(), lab_lv.view())
            );

            let mut z = Array2::<f32>::zeros((n, 3));
            Rng::new(8, Stream::Eval, 1).fill_normal(z.as_slice_mut().unwrap());
            let pix = infer::decode(&net, p, z.view(), &mut MlpCache::default());
            let out = run(&dir.path().join(files::DECODER), &z);
            assert_close("pixels", &out[0], &pix, 1e-5);
        }
    }
}
