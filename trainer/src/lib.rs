//! `pse-trainer`: trains Probabilistic Semantic Embedding models (PSE and PSE*, from
//! "Probabilistic Semantic Embedding") on MNIST and Fashion-MNIST, evaluates them the
//! paper's way, draws their pictures and exports them for `pse-runtime`.

pub mod atomic;
pub mod cli;
pub mod data;
pub mod eval;
pub mod export;
pub mod nn;
pub mod objectives;
pub mod report;
pub mod train;
