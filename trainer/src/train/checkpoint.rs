//! Training checkpoints: everything a run needs to continue bit for bit, written atomically.
//!
//! File layout: `PSECKPT\0` | format version `u32` LE | payload length `u64` LE |
//! CRC-32 of the payload `u32` LE | postcard payload ([`Checkpoint`]).
//!
//! Versions: 1 had no [`RunConfig::left_out`]; it is read as a run that left nothing out.
//! 1 and 2 had no [`Recipe::shards`], [`Recipe::average`], [`Recipe::augment`] or
//! [`Checkpoint::average`]: they are read as one shard, no average and no augmentation (how
//! they were trained).

use crate::atomic::write_atomic;
use crate::data::Dataset;
use crate::nn::adam::Adam;
use crate::nn::model::Arch;
use crate::train::recipe::Recipe;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};

/// The first eight bytes of every checkpoint file.
pub const MAGIC: &[u8; 8] = b"PSECKPT\0";
const VERSION: u32 = 3;
const HEADER: usize = 8 + 4 + 8 + 4;
#[cfg(test)]
const PINNED: (usize, u32) = (1906, 2241035501);

/// Labels given to the label encoder.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum LabelKind {
    /// One-hot class indicators.
    #[default]
    OneHot,
    /// GloVe 100-d word vectors of the class names (a name of several words: the mean of
    /// their vectors), from `data/glove/` (`scripts/fetch-data.sh --glove`).
    Glove,
}

impl LabelKind {
    /// Width of a label vector for `classes` classes.
    pub fn label_dim(self, classes: usize) -> usize {
        match self {
            LabelKind::OneHot => classes,
            LabelKind::Glove => crate::data::glove::DIM,
        }
    }

    /// How tables name it.
    pub fn name(self) -> &'static str {
        match self {
            LabelKind::OneHot => "one-hot",
            LabelKind::Glove => "GloVe",
        }
    }
}

/// What was trained and how: fixed for the life of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    /// Dataset.
    pub dataset: Dataset,
    /// Network sizes and objective.
    pub arch: Arch,
    /// Label encoding.
    pub labels: LabelKind,
    /// Seed for init, batch order and noise.
    pub seed: u64,
    /// The recipe.
    pub recipe: Recipe,
    /// Class ids kept out of training (ascending): the model never sees their images, so
    /// their labels can be enrolled later (`pse-trainer enroll`). Empty for a normal run.
    #[serde(default)]
    pub left_out: Vec<u8>,
}

/// A training state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The run's configuration.
    pub config: RunConfig,
    /// Steps completed.
    pub step: u64,
    /// Parameters (layout from `Net::new(config.arch)`).
    pub params: Vec<f32>,
    /// Optimiser state.
    pub adam: Adam,
    /// The moving average of the parameters (when the recipe keeps one).
    pub average: Option<Vec<f32>>,
}

impl Checkpoint {
    /// The parameters a trained model is used with: the moving average when the run kept
    /// one, else the parameters themselves.
    pub fn model_params(&self) -> &[f32] {
        self.average.as_deref().unwrap_or(&self.params)
    }
}

impl RunConfig {
    /// The names of the classes kept out of training.
    pub fn left_out_names(&self) -> Vec<&'static str> {
        let names = self.dataset.label_names();
        self.left_out
            .iter()
            .filter_map(|&c| names.get(c as usize).copied())
            .collect()
    }
}

/// [`Recipe`] as versions 1 and 2 stored it: without `shards` and `average`.
#[derive(Deserialize)]
#[cfg_attr(test, derive(Serialize))]
struct RecipeV2 {
    name: String,
    steps: u64,
    batch: usize,
    lr: f32,
    lr_warmup: u64,
    lr_final_frac: f32,
    kl_warmup: u64,
    kl_start: f32,
    kl_weight: f32,
    ce_weight: f32,
    holdout: usize,
}

impl From<RecipeV2> for Recipe {
    fn from(r: RecipeV2) -> Recipe {
        Recipe {
            name: r.name,
            steps: r.steps,
            batch: r.batch,
            lr: r.lr,
            lr_warmup: r.lr_warmup,
            lr_final_frac: r.lr_final_frac,
            kl_warmup: r.kl_warmup,
            kl_start: r.kl_start,
            kl_weight: r.kl_weight,
            ce_weight: r.ce_weight,
            holdout: r.holdout,
            shards: 1,
            average: 0.0,
            augment: false,
        }
    }
}

/// Format version 1's [`RunConfig`]: no `left_out`.
#[derive(Deserialize)]
struct RunConfigV1 {
    dataset: Dataset,
    arch: Arch,
    labels: LabelKind,
    seed: u64,
    recipe: RecipeV2,
}

impl From<RunConfigV1> for RunConfig {
    fn from(c: RunConfigV1) -> RunConfig {
        RunConfig {
            dataset: c.dataset,
            arch: c.arch,
            labels: c.labels,
            seed: c.seed,
            recipe: c.recipe.into(),
            left_out: Vec::new(),
        }
    }
}

/// Format version 2's [`RunConfig`]: the recipe without `shards` and `average`.
#[derive(Deserialize)]
struct RunConfigV2 {
    dataset: Dataset,
    arch: Arch,
    labels: LabelKind,
    seed: u64,
    recipe: RecipeV2,
    left_out: Vec<u8>,
}

impl From<RunConfigV2> for RunConfig {
    fn from(c: RunConfigV2) -> RunConfig {
        RunConfig {
            dataset: c.dataset,
            arch: c.arch,
            labels: c.labels,
            seed: c.seed,
            recipe: c.recipe.into(),
            left_out: c.left_out,
        }
    }
}

/// Format versions 1 and 2 of [`Checkpoint`] (with their own [`RunConfig`]): no average.
#[derive(Deserialize)]
struct CheckpointOld<C> {
    config: C,
    step: u64,
    params: Vec<f32>,
    adam: Adam,
}

impl<C: Into<RunConfig>> From<CheckpointOld<C>> for Checkpoint {
    fn from(c: CheckpointOld<C>) -> Checkpoint {
        Checkpoint {
            config: c.config.into(),
            step: c.step,
            params: c.params,
            adam: c.adam,
            average: None,
        }
    }
}

/// A checkpoint could not be read or written.
#[derive(Debug)]
pub enum CheckpointError {
    /// File-system failure.
    Io(PathBuf, std::io::Error),
    /// The file is not a checkpoint, is damaged, or is of another version.
    Corrupt(PathBuf, String),
}

impl fmt::Display for CheckpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckpointError::Io(p, e) => write!(f, "{}: {e}", p.display()),
            CheckpointError::Corrupt(p, why) => {
                write!(f, "{}: not a usable checkpoint: {why}", p.display())
            }
        }
    }
}

impl std::error::Error for CheckpointError {}

impl Checkpoint {
    /// Serialises to the file format above.
    pub fn to_bytes(&self) -> Vec<u8> {
        let payload = postcard::to_allocvec(self).expect("in-memory serialisation cannot fail");
        let mut out = Vec::with_capacity(HEADER + payload.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        out.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        out.extend_from_slice(&payload);
        out
    }

    /// Parses and validates the file format; `path` only names the file in errors.
    pub fn from_bytes(path: &Path, b: &[u8]) -> Result<Checkpoint, CheckpointError> {
        let bad = |why: String| CheckpointError::Corrupt(path.to_path_buf(), why);
        if b.len() < HEADER || &b[..8] != MAGIC {
            return Err(bad("wrong magic (not a pse-trainer checkpoint)".into()));
        }
        let version = u32::from_le_bytes(b[8..12].try_into().expect("4 bytes"));
        if !(1..=VERSION).contains(&version) {
            return Err(bad(format!(
                "format version {version}, this build reads 1 to {VERSION}"
            )));
        }
        let len = u64::from_le_bytes(b[12..20].try_into().expect("8 bytes"));
        let crc = u32::from_le_bytes(b[20..24].try_into().expect("4 bytes"));
        let payload = &b[HEADER..];
        if payload.len() as u64 != len {
            return Err(bad(format!(
                "payload is {} bytes, header says {len} (truncated?)",
                payload.len()
            )));
        }
        if crc32fast::hash(payload) != crc {
            return Err(bad("CRC mismatch (the file is damaged)".into()));
        }
        let ck: Checkpoint = match version {
            1 => postcard::from_bytes::<CheckpointOld<RunConfigV1>>(payload).map(Checkpoint::from),
            2 => postcard::from_bytes::<CheckpointOld<RunConfigV2>>(payload).map(Checkpoint::from),
            _ => postcard::from_bytes(payload),
        }
        .map_err(|e| bad(format!("payload: {e}")))?;
        let c = &ck.config;
        if let Some(k) = c.left_out.iter().find(|&&k| k as usize >= c.arch.classes) {
            return Err(bad(format!(
                "left-out class {k} is not below the {} classes",
                c.arch.classes
            )));
        }
        if c.arch.label_dim != c.labels.label_dim(c.arch.classes) {
            return Err(bad(format!(
                "{} labels need label vectors of {}, the architecture has {}",
                c.labels.name(),
                c.labels.label_dim(c.arch.classes),
                c.arch.label_dim
            )));
        }
        let n = crate::nn::model::Net::new(ck.config.arch).n_params();
        let avg_len = ck.average.as_ref().map_or(n, Vec::len);
        if ck.params.len() != n || ck.adam.m.len() != n || ck.adam.v.len() != n || avg_len != n {
            return Err(bad(format!(
                "holds {} parameters, its architecture needs {n}",
                ck.params.len()
            )));
        }
        Ok(ck)
    }

    /// Reads a checkpoint file.
    pub fn load(path: &Path) -> Result<Checkpoint, CheckpointError> {
        let b = std::fs::read(path).map_err(|e| CheckpointError::Io(path.to_path_buf(), e))?;
        Checkpoint::from_bytes(path, &b)
    }

    /// Writes atomically: a temporary file in the same folder, synced, then renamed.
    pub fn save(&self, path: &Path) -> Result<(), CheckpointError> {
        write_atomic(path, &self.to_bytes()).map_err(|e| CheckpointError::Io(path.to_path_buf(), e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::model::{Kind, Net};

    fn tiny() -> Checkpoint {
        let arch = Arch {
            kind: Kind::PseStar,
            latent: 2,
            label_dim: 3,
            classes: 3,
            pixels: 4,
            hidden: [3, 2],
        };
        let n = Net::new(arch).n_params();
        Checkpoint {
            config: RunConfig {
                dataset: Dataset::Mnist,
                arch,
                labels: LabelKind::OneHot,
                seed: 9,
                recipe: Recipe::paper(),
                left_out: vec![2],
            },
            step: 17,
            params: (0..n).map(|i| i as f32 * 0.5).collect(),
            adam: Adam::new(n),
            average: Some((0..n).map(|i| i as f32 * 0.25).collect()),
        }
    }

    #[test]
    fn round_trip_and_atomic_save() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.bin");
        tiny().save(&p).unwrap();
        assert_eq!(Checkpoint::load(&p).unwrap(), tiny());
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temp file left"
        );
    }

    /// The postcard layout is not self-describing: a field added to the checkpoint (or to
    /// the recipe or architecture inside it) silently changes how old files parse. This
    /// pins the layout; when it fails, bump `VERSION` and update the expected bytes.
    #[test]
    fn layout_is_pinned_to_the_format_version() {
        let bytes = tiny().to_bytes();
        assert_eq!(VERSION, 3);
        assert_eq!(
            (bytes.len(), crc32fast::hash(&bytes)),
            PINNED,
            "checkpoint layout changed: bump VERSION"
        );
    }

    fn file(version: u32, payload: &[u8]) -> Vec<u8> {
        let mut b = MAGIC.to_vec();
        b.extend_from_slice(&version.to_le_bytes());
        b.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        b.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
        b.extend_from_slice(payload);
        b
    }

    /// Version-1 files (before `left_out`) and version-2 files (before shards and the
    /// average) read as what they were: one shard, no average, nothing left out in v1.
    #[test]
    fn versions_1_and_2_are_migrated() {
        #[derive(Serialize)]
        struct V1<'a> {
            dataset: Dataset,
            arch: Arch,
            labels: LabelKind,
            seed: u64,
            recipe: RecipeV2,
            step: u64,
            params: &'a [f32],
            adam: &'a Adam,
        }
        #[derive(Serialize)]
        struct V2<'a> {
            dataset: Dataset,
            arch: Arch,
            labels: LabelKind,
            seed: u64,
            recipe: RecipeV2,
            left_out: &'a [u8],
            step: u64,
            params: &'a [f32],
            adam: &'a Adam,
        }
        let mut want = tiny();
        want.average = None;
        want.config.recipe.shards = 1;
        let c = &want.config;
        let r = &c.recipe;
        let old = || RecipeV2 {
            name: r.name.clone(),
            steps: r.steps,
            batch: r.batch,
            lr: r.lr,
            lr_warmup: r.lr_warmup,
            lr_final_frac: r.lr_final_frac,
            kl_warmup: r.kl_warmup,
            kl_start: r.kl_start,
            kl_weight: r.kl_weight,
            ce_weight: r.ce_weight,
            holdout: r.holdout,
        };
        let v2 = postcard::to_allocvec(&V2 {
            dataset: c.dataset,
            arch: c.arch,
            labels: c.labels,
            seed: c.seed,
            recipe: old(),
            left_out: &c.left_out,
            step: want.step,
            params: &want.params,
            adam: &want.adam,
        })
        .unwrap();
        let v1 = postcard::to_allocvec(&V1 {
            dataset: c.dataset,
            arch: c.arch,
            labels: c.labels,
            seed: c.seed,
            recipe: old(),
            step: want.step,
            params: &want.params,
            adam: &want.adam,
        })
        .unwrap();
        assert_eq!(
            Checkpoint::from_bytes(Path::new("v2"), &file(2, &v2)).unwrap(),
            want
        );
        want.config.left_out.clear();
        assert_eq!(
            Checkpoint::from_bytes(Path::new("v1"), &file(1, &v1)).unwrap(),
            want
        );
        let e = Checkpoint::from_bytes(Path::new("v4"), &file(4, &v1)).unwrap_err();
        assert!(e.to_string().contains("version 4"), "{e}");
    }

    #[test]
    fn damage_is_detected() {
        let p = Path::new("ck");
        let good = tiny().to_bytes();
        let mut flipped = good.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        for (bytes, want) in [
            (&good[..good.len() - 1], "truncated"),
            (&flipped[..], "CRC"),
            (&b"hello world, not a checkpoint"[..], "magic"),
        ] {
            let e = Checkpoint::from_bytes(p, bytes).unwrap_err().to_string();
            assert!(e.contains(want) && e.contains("ck"), "{e}");
        }
    }
}
