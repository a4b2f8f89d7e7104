//! `pse-trainer`: trains Probabilistic Semantic Embedding models (PSE and PSE*, from
//! "Probabilistic Semantic Embedding") on MNIST and Fashion-MNIST, evaluates them the
//! paper's way, draws their pictures and exports them for `pse-runtime`.

pub mod adam;
pub mod augment;
pub mod bench;
pub mod calibrate;
pub mod card;
pub mod checkpoint;
pub mod compare;
pub mod cvae;
pub mod data;
pub mod dense;
pub mod enroll;
pub mod eval;
pub mod export;
pub mod glove;
#[cfg(test)]
mod gradcheck;
pub mod host;
pub mod host_commands;
pub mod idx;
pub mod infer;
pub mod inputs;
pub mod jmvae;
pub mod judge;
pub mod loss;
pub mod matmul;
pub mod mlp;
pub mod model;
pub mod multimodal;
pub mod objective;
#[cfg(feature = "onnx")]
pub mod onnx;
pub mod params;
pub mod peak;
pub mod picture;
pub mod plot;
pub mod pse;
pub mod recipe;
pub mod rng;
pub mod samples;
pub mod scan;
pub mod stats;
pub mod step;
pub mod summary;
pub mod train;
pub mod trelbo;
pub mod vae;
pub mod words;
