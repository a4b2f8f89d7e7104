//! Cross-crate and end-to-end tests live in `tests/tests/`, benchmarks in `tests/benches/`.
//! This library holds what they share: where the committed models are, and running their
//! ONNX references with `tract-onnx`.
//!
//! Layout of `models/` (repository root):
//!
//! ```text
//! models/<stem>-<encoding>.pse        blobs, encoding = f32 | f16 | i8
//! models/<stem>/encoder.onnx          image [N, 784] -> mu [N, d], logvar [N, d]
//! models/<stem>/annotator.onnx        image [N, 784] -> scores [N, C]
//! models/<stem>/decoder.onnx          z [N, d] -> pixels [N, 784]
//! ```
//!
//! e.g. `models/mnist-pse-star-10d-i8.pse` with references in `models/mnist-pse-star-10d/`
//! (written by `pse_trainer::export::onnx::write_references`).

use pse_trainer::data::Dataset;
use pse_trainer::export::onnx::files;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tract_onnx::prelude::*;
use tract_onnx::tract_hir::internal::TractErrorContext;

/// A committed model: its stem, dataset and the blob encodings committed for it.
#[derive(Clone, Copy, Debug)]
pub struct Committed {
    /// File stem, e.g. `mnist-pse-star-10d`.
    pub stem: &'static str,
    /// The dataset it was trained on.
    pub dataset: Dataset,
    /// Blob encodings in `models/`.
    pub encodings: &'static [&'static str],
}

/// The models the parity tests check.
pub const COMMITTED: [Committed; 3] = [
    Committed {
        stem: "mnist-pse-star-10d",
        dataset: Dataset::Mnist,
        encodings: &["f32", "f16", "i8"],
    },
    Committed {
        stem: "mnist-pse-star-20d",
        dataset: Dataset::Mnist,
        encodings: &["f32", "f16", "i8"],
    },
    Committed {
        stem: "fashion-pse-star-20d",
        dataset: Dataset::Fashion,
        encodings: &["i8"],
    },
];

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// `models/` (or `$PSE_MODELS` when set).
pub fn models_dir() -> PathBuf {
    std::env::var_os("PSE_MODELS").map_or_else(|| repo_root().join("models"), PathBuf::from)
}

/// `data/` (or `$PSE_DATA` when set).
pub fn data_dir() -> PathBuf {
    std::env::var_os("PSE_DATA").map_or_else(|| repo_root().join("data"), PathBuf::from)
}

impl Committed {
    /// Path of the blob with `encoding`.
    pub fn blob(&self, encoding: &str) -> PathBuf {
        models_dir().join(format!("{}-{encoding}.pse", self.stem))
    }

    /// Folder of the ONNX references.
    pub fn reference_dir(&self) -> PathBuf {
        models_dir().join(self.stem)
    }

    /// Every file this model needs.
    pub fn files(&self) -> Vec<PathBuf> {
        let dir = self.reference_dir();
        let mut v: Vec<PathBuf> = self.encodings.iter().map(|e| self.blob(e)).collect();
        v.extend([files::ENCODER, files::ANNOTATOR, files::DECODER].map(|f| dir.join(f)));
        v
    }

    /// Panics with a message naming every missing file.
    pub fn require(&self) {
        let missing: Vec<String> = self
            .files()
            .into_iter()
            .filter(|p| !p.is_file())
            .map(|p| p.display().to_string())
            .collect();
        assert!(
            missing.is_empty(),
            "{}: missing model files (export them from the trained runs with \
             `pse-trainer export`, see the README):\n  {}",
            self.stem,
            missing.join("\n  ")
        );
    }
}

/// A runnable tract model.
pub type Runnable = Arc<TypedRunnableModel>;

/// Loads an ONNX file into tract: parsed, optimised, runnable (symbolic batch kept).
pub fn load_tract(path: &Path) -> TractResult<Runnable> {
    tract_onnx::onnx()
        .model_for_path(path)
        .with_context(|| format!("loading {}", path.display()))?
        .into_optimized()?
        .into_runnable()
}

/// Loads an ONNX file into tract with the batch dimension `N` fixed to `batch` (for
/// latency): the symbol is substituted in the typed model, then it is optimised.
pub fn load_tract_fixed(path: &Path, batch: usize) -> TractResult<Runnable> {
    let typed = tract_onnx::onnx()
        .model_for_path(path)
        .with_context(|| format!("loading {}", path.display()))?
        .into_typed()?;
    let n = typed.sym(pse_trainer::export::onnx::BATCH);
    typed
        .set_symbols(&HashMap::from([(n, TDim::Val(batch as i64))]))?
        .into_optimized()?
        .into_runnable()
}

/// The three references of a model, loaded.
pub struct Reference {
    /// `image → mu, logvar`.
    pub encoder: Runnable,
    /// `image → scores`.
    pub annotator: Runnable,
    /// `z → pixels`.
    pub decoder: Runnable,
}

impl Reference {
    /// Loads `dir/{encoder,annotator,decoder}.onnx`.
    pub fn load(dir: &Path) -> TractResult<Reference> {
        Ok(Reference {
            encoder: load_tract(&dir.join(files::ENCODER))?,
            annotator: load_tract(&dir.join(files::ANNOTATOR))?,
            decoder: load_tract(&dir.join(files::DECODER))?,
        })
    }
}

/// Rows per tract call in [`run_rows`].
pub const TRACT_CHUNK: usize = 1000;

/// Runs `model` on the rows of `input` (row-major, `width` columns) in chunks of
/// [`TRACT_CHUNK`]; returns each output row-major (`rows × output width`).
pub fn run_rows(model: &Runnable, input: &[f32], width: usize) -> TractResult<Vec<Vec<f32>>> {
    let mut outs: Vec<Vec<f32>> = Vec::new();
    for chunk in input.chunks(TRACT_CHUNK * width) {
        let t = Tensor::from_shape(&[chunk.len() / width, width], chunk)?;
        let res = model.run(tvec!(t.into()))?;
        if outs.is_empty() {
            outs = vec![Vec::new(); res.len()];
        }
        for (o, r) in outs.iter_mut().zip(res.iter()) {
            o.extend(r.to_plain_array_view::<f32>()?.iter().copied());
        }
    }
    Ok(outs)
}

/// The blob `bytes` as `pse-trainer export --part annotate` writes it from the same weights:
/// without its decoder and the open-world bounds that need it (the latent threshold kept).
pub fn annotate_part(bytes: &[u8]) -> Vec<u8> {
    let model = pse_runtime::Model::from_bytes(bytes).expect("a valid blob");
    let mut p = *model.payload();
    p.decoder = pse_runtime::payload::Chain::new(&[]);
    p.open_world = None;
    pse_trainer::export::host::encode_blob(&p).expect("a valid payload")
}

/// The blob `bytes` as `pse-trainer export --part generate` writes it from the same weights:
/// without its image encoder, the open-world bounds and the threshold that need it (blob
/// format 4).
pub fn generate_part(bytes: &[u8]) -> Vec<u8> {
    let model = pse_runtime::Model::from_bytes(bytes).expect("a valid blob");
    let mut p = *model.payload();
    p.encoder = None;
    p.open_world = None;
    p.unknown_threshold = f32::NEG_INFINITY;
    pse_trainer::export::host::encode_blob(&p).expect("a valid payload")
}
