//! Running a blob on the host with `pse-runtime`, exactly as a device would: reading and
//! validating a blob file, owning the scratch memory, annotating many images, scoring a
//! labelled test set, and naming labels on the command line.

use ndarray::ArrayView2;
use pse_runtime::openworld::{ImageScores, UnknownReason};
use pse_runtime::payload::Payload;
use pse_runtime::{AnnotateOut, Image, Model, Scratch, Verdict};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};

/// A blob file that could not be used; every variant names the file.
#[derive(Debug)]
pub enum BlobFileError {
    /// The file could not be read.
    Io(PathBuf, std::io::Error),
    /// The runtime refused the blob ([`Model::from_bytes`]).
    Invalid(PathBuf, pse_runtime::Error),
    /// The file is a training checkpoint, not an exported blob.
    Checkpoint(PathBuf),
}

impl fmt::Display for BlobFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BlobFileError::Io(p, e) => write!(f, "{}: {e}", p.display()),
            BlobFileError::Checkpoint(p) => write!(
                f,
                "{}: a training checkpoint, not a model blob: export it first \
                 (`pse-trainer export RUN --weights i8 -o MODEL.pse`)",
                p.display()
            ),
            BlobFileError::Invalid(p, e) => write!(
                f,
                "{}: not a usable model blob: {e} (runtime error {e:?})",
                p.display()
            ),
        }
    }
}

impl std::error::Error for BlobFileError {}

/// The blob of `payload` (header and postcard payload) in a buffer of its exact size,
/// validated by the runtime ([`pse_runtime::blob::encode`]).
pub fn encode_blob(payload: &Payload<'_>) -> Result<Vec<u8>, pse_runtime::Error> {
    let mut out = vec![0u8; pse_runtime::blob::encoded_len(payload)?];
    let written = pse_runtime::blob::encode(payload, &mut out)?;
    out.truncate(written);
    Ok(out)
}

/// A blob file's bytes; [`BlobFile::model`] validates and borrows them.
#[derive(Debug, Clone)]
pub struct BlobFile {
    /// Where it was read from.
    pub path: PathBuf,
    /// The whole file.
    pub bytes: Vec<u8>,
}

impl BlobFile {
    /// Reads a blob file (without judging it yet).
    pub fn read(path: &Path) -> Result<BlobFile, BlobFileError> {
        let bytes = std::fs::read(path).map_err(|e| BlobFileError::Io(path.to_path_buf(), e))?;
        Ok(BlobFile {
            path: path.to_path_buf(),
            bytes,
        })
    }

    /// The validated model ([`Model::from_bytes`]), or the runtime's typed error.
    pub fn model(&self) -> Result<Model<'_>, BlobFileError> {
        Model::from_bytes(&self.bytes).map_err(|e| {
            if self.bytes.starts_with(crate::train::checkpoint::MAGIC) {
                BlobFileError::Checkpoint(self.path.clone())
            } else {
                BlobFileError::Invalid(self.path.clone(), e)
            }
        })
    }
}

/// Owned scratch memory of the size a model asks for ([`Model::scratch_len`]).
#[derive(Debug, Clone, Default)]
pub struct Scratchpad {
    act: Vec<f32>,
    quant: Vec<i8>,
}

impl Scratchpad {
    /// Scratch for `model`.
    pub fn for_model(model: &Model<'_>) -> Scratchpad {
        let need = model.scratch_len();
        Scratchpad {
            act: vec![0.0; need.f32s],
            quant: vec![0; need.i8s],
        }
    }

    /// The runtime's view of it.
    pub fn scratch(&mut self) -> Scratch<'_> {
        Scratch::new(&mut self.act, &mut self.quant)
    }
}

/// One image's annotation, in owned form.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Annotation {
    /// The best-scoring label (`None` only for a model without labels).
    pub best: Option<usize>,
    /// Whether the verdict is "unknown" (best log-likelihood below the threshold).
    pub unknown: bool,
    /// The best label's log-likelihood `log N(mu_x; mu_l, var_l)`.
    pub log_likelihood: f32,
    /// The best label's posterior probability (uniform label prior).
    pub posterior: f32,
    /// Why the verdict is "unknown" (`None` for a label).
    pub reason: Option<UnknownReason>,
}

/// How a table or a line names an [`UnknownReason`].
pub fn reason_name(r: UnknownReason) -> &'static str {
    match r {
        UnknownReason::LatentLikelihood => "latent likelihood",
        UnknownReason::Reconstruction => "reconstruction",
        UnknownReason::LikelihoodRatio => "likelihood ratio",
    }
}

/// The open-world scores of every row of `x` (pixels in `[0, 1]`), computed by the runtime.
pub fn image_scores_rows(
    model: &Model<'_>,
    pad: &mut Scratchpad,
    x: ArrayView2<f32>,
) -> Result<Vec<ImageScores>, pse_runtime::Error> {
    let mut recon = vec![0.0f32; model.pixels()];
    x.rows()
        .into_iter()
        .map(|r| {
            let row: Vec<f32> = r.to_vec();
            model.image_scores(row.as_slice(), &mut pad.scratch(), &mut recon)
        })
        .collect()
}

/// Annotates one image with the runtime.
pub fn annotate<'x>(
    model: &Model<'_>,
    pad: &mut Scratchpad,
    image: impl Into<Image<'x>>,
) -> Result<Annotation, pse_runtime::Error> {
    let mut out = AnnotateOut::new();
    let verdict = model.annotate(image, &[], &mut pad.scratch(), &mut out)?;
    let best = out.best();
    let at = |v: &[f32]| best.and_then(|i| v.get(i).copied()).unwrap_or(f32::NAN);
    Ok(Annotation {
        best,
        unknown: matches!(verdict, Verdict::Unknown { .. }),
        log_likelihood: at(out.log_likelihoods()),
        posterior: at(out.posteriors()),
        reason: out.unknown_reason(),
    })
}

/// Annotates every row of `x` (pixels in `[0, 1]`) with the runtime.
pub fn annotate_rows(
    model: &Model<'_>,
    pad: &mut Scratchpad,
    x: ArrayView2<f32>,
) -> Result<Vec<Annotation>, pse_runtime::Error> {
    let mut row = vec![0.0f32; x.ncols()];
    x.rows()
        .into_iter()
        .map(|r| {
            // Rows of a standard-layout array are contiguous; copy otherwise.
            match r.as_slice() {
                Some(s) => annotate(model, pad, s),
                None => {
                    row.iter_mut().zip(r).for_each(|(d, s)| *d = *s);
                    annotate(model, pad, row.as_slice())
                }
            }
        })
        .collect()
}

/// A blob's annotation quality on a labelled set, measured with the runtime.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// Images annotated.
    pub images: usize,
    /// Fraction whose best label is their true class (the paper's annotation accuracy:
    /// the threshold plays no part).
    pub annotation_accuracy: f64,
    /// Fraction whose verdict is their true class (an "unknown" verdict counts as wrong).
    pub verdict_accuracy: f64,
    /// Fraction answered "unknown".
    pub unknown_rate: f64,
    /// Annotation accuracy per true class.
    pub annotation_per_class: Vec<f64>,
    /// Share answered "unknown" per true class.
    pub unknown_per_class: Vec<f64>,
}

/// Annotates every row of `x` and compares with the class ids `y`, whose names are
/// `class_names` (a blob label and a class match by name, so a blob may know fewer labels
/// than the dataset has classes, or order them differently).
pub fn score(
    model: &Model<'_>,
    pad: &mut Scratchpad,
    x: ArrayView2<f32>,
    y: &[u8],
    class_names: &[&str],
) -> Result<Score, pse_runtime::Error> {
    let class_of_label: Vec<Option<usize>> = (0..model.label_count())
        .map(|l| {
            model
                .label_name(l)
                .and_then(|n| class_names.iter().position(|c| *c == n))
        })
        .collect();
    let ann = annotate_rows(model, pad, x)?;
    Ok(score_annotations(
        &ann,
        y,
        &class_of_label,
        class_names.len(),
    ))
}

/// Scores annotations against the class ids `y` (same order, each below `classes`);
/// `class_of_label[l]` is the class model label `l` stands for.
pub fn score_annotations(
    ann: &[Annotation],
    y: &[u8],
    class_of_label: &[Option<usize>],
    classes: usize,
) -> Score {
    let classes = classes.max(y.iter().map(|&c| c as usize + 1).max().unwrap_or(0));
    let (mut hit, mut unk, mut count) = (
        vec![0usize; classes],
        vec![0usize; classes],
        vec![0usize; classes],
    );
    let mut verdict_hits = 0usize;
    for (a, &c) in ann.iter().zip(y) {
        let c = c as usize;
        let predicted = a
            .best
            .and_then(|l| class_of_label.get(l).copied().flatten());
        let right = predicted == Some(c);
        count[c] += 1;
        hit[c] += usize::from(right);
        unk[c] += usize::from(a.unknown);
        verdict_hits += usize::from(right && !a.unknown);
    }
    let n = ann.len().min(y.len());
    let frac = |k: usize| k as f64 / n.max(1) as f64;
    let per_class = |v: &[usize]| {
        v.iter()
            .zip(&count)
            .map(|(&h, &c)| h as f64 / c.max(1) as f64)
            .collect()
    };
    Score {
        images: n,
        annotation_accuracy: frac(hit.iter().sum()),
        verdict_accuracy: frac(verdict_hits),
        unknown_rate: frac(unk.iter().sum()),
        annotation_per_class: per_class(&hit),
        unknown_per_class: per_class(&unk),
    }
}

/// The model label a command-line argument names: a label name (exact, then ignoring ASCII
/// case) or a 0-based index.
pub fn resolve_label(model: &Model<'_>, arg: &str) -> Result<usize, String> {
    if let Some(i) = model.label_index(arg) {
        return Ok(i);
    }
    let names: Vec<&str> = (0..model.label_count())
        .filter_map(|i| model.label_name(i))
        .collect();
    if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(arg)) {
        return Ok(i);
    }
    match arg.parse::<usize>() {
        Ok(i) if i < names.len() => Ok(i),
        _ => Err(format!(
            "--label {arg}: the model has no such label; give a name ({}) or an index 0..{}",
            names.join(", "),
            names.len()
        )),
    }
}
