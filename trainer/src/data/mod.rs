//! The two datasets: where their files live, their label names, and loading them as
//! `f32` pixel matrices in `[0, 1]` (pixel byte / 255, the runtime's convention).

pub mod augment;
pub mod glove;
pub mod idx;
pub mod inputs;
pub mod words;

use crate::data::idx::IdxError;
use ndarray::Array2;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};

/// A dataset the trainer knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Dataset {
    /// Handwritten digits.
    Mnist,
    /// Zalando's clothing images.
    Fashion,
}

impl Dataset {
    /// The label names, index = class id.
    pub fn label_names(self) -> [&'static str; 10] {
        match self {
            Dataset::Mnist => [
                "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
            ],
            Dataset::Fashion => [
                "T-shirt/top",
                "Trouser",
                "Pullover",
                "Dress",
                "Coat",
                "Sandal",
                "Shirt",
                "Sneaker",
                "Bag",
                "Ankle boot",
            ],
        }
    }

    /// The class `arg` names: a class name (ignoring ASCII case) or a 0-based index; the
    /// error says what the names are.
    pub fn class_named(self, arg: &str) -> Result<usize, String> {
        let names = self.label_names();
        names
            .iter()
            .position(|n| n.eq_ignore_ascii_case(arg))
            .or_else(|| arg.parse::<usize>().ok().filter(|&i| i < names.len()))
            .ok_or_else(|| {
                format!(
                    "{self} has no such class; give a name ({}) or an index 0..{}",
                    names.join(", "),
                    names.len()
                )
            })
    }

    /// Short name used in file names and tables.
    pub fn name(self) -> &'static str {
        match self {
            Dataset::Mnist => "mnist",
            Dataset::Fashion => "fashion",
        }
    }

    fn files(self, split: Split) -> (&'static str, &'static str) {
        match (self, split) {
            (Dataset::Mnist, Split::Train) => (
                "mnist/train-images-idx3-ubyte",
                "mnist/train-labels-idx1-ubyte",
            ),
            (Dataset::Mnist, Split::Test) => (
                "mnist/t10k-images-idx3-ubyte",
                "mnist/t10k-labels-idx1-ubyte",
            ),
            (Dataset::Fashion, Split::Train) => (
                "fashion/train-images-idx3-ubyte.gz",
                "fashion/train-labels-idx1-ubyte.gz",
            ),
            (Dataset::Fashion, Split::Test) => (
                "fashion/t10k-images-idx3-ubyte.gz",
                "fashion/t10k-labels-idx1-ubyte.gz",
            ),
        }
    }
}

impl fmt::Display for Dataset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Training or test split of the files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// The 60,000 training images.
    Train,
    /// The 10,000 test images.
    Test,
}

/// Images as rows of `f32` pixels and their class ids.
#[derive(Debug, Clone)]
pub struct Labelled {
    /// `n × 784`, values in `[0, 1]`.
    pub x: Array2<f32>,
    /// Class id of each row.
    pub y: Vec<u8>,
}

impl Labelled {
    /// Number of examples.
    pub fn len(&self) -> usize {
        self.y.len()
    }

    /// True when there are no examples.
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    /// The examples whose class is not in `classes` (in their order).
    pub fn without_classes(self, classes: &[u8]) -> Labelled {
        if classes.is_empty() {
            return self;
        }
        let rows: Vec<usize> = (0..self.len())
            .filter(|&i| !classes.contains(&self.y[i]))
            .collect();
        Labelled {
            x: self.x.select(ndarray::Axis(0), &rows),
            y: rows.iter().map(|&i| self.y[i]).collect(),
        }
    }

    /// Splits off the last `n` examples (for a held-out validation set).
    pub fn split_tail(mut self, n: usize) -> (Labelled, Labelled) {
        let keep = self.len().saturating_sub(n);
        let tail_x = self.x.slice(ndarray::s![keep.., ..]).to_owned();
        let tail_y = self.y.split_off(keep);
        let head_x = self.x.slice(ndarray::s![..keep, ..]).to_owned();
        (
            Labelled {
                x: head_x,
                y: self.y,
            },
            Labelled {
                x: tail_x,
                y: tail_y,
            },
        )
    }
}

/// A dataset could not be loaded.
#[derive(Debug)]
pub enum DataError {
    /// A file is missing: the message says how to fetch it.
    Missing(PathBuf),
    /// A file is there but unreadable or malformed.
    Idx(IdxError),
    /// The images are not 28 × 28 or a label is out of range.
    Unexpected(String),
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataError::Missing(p) => write!(
                f,
                "{} is missing: run scripts/fetch-data.sh (or pass --data DIR or set PSE_DATA)",
                p.display()
            ),
            DataError::Idx(e) => e.fmt(f),
            DataError::Unexpected(s) => f.write_str(s),
        }
    }
}

impl std::error::Error for DataError {}

/// Pixels per image.
pub const PIXELS: usize = 784;

/// Converts bytes to `[0, 1]` floats exactly as the runtime does.
pub fn to_unit(pixels: &[u8]) -> Vec<f32> {
    pixels.iter().map(|&p| p as f32 / 255.0).collect()
}

/// Loads one split of a dataset from `data_dir`.
pub fn load(data_dir: &Path, dataset: Dataset, split: Split) -> Result<Labelled, DataError> {
    let (im, lb) = dataset.files(split);
    let (im, lb) = (data_dir.join(im), data_dir.join(lb));
    for p in [&im, &lb] {
        if !p.exists() {
            return Err(DataError::Missing(p.clone()));
        }
    }
    let (images, labels) = idx::read_pair(&im, &lb).map_err(DataError::Idx)?;
    if images.rows * images.cols != PIXELS {
        return Err(DataError::Unexpected(format!(
            "{}: images are {}x{}, expected 28x28",
            im.display(),
            images.rows,
            images.cols
        )));
    }
    if let Some(bad) = labels.iter().find(|&&l| l >= 10) {
        return Err(DataError::Unexpected(format!(
            "{}: label {bad} is out of range 0..10",
            lb.display()
        )));
    }
    let x = Array2::from_shape_vec((images.count, PIXELS), to_unit(&images.pixels))
        .map_err(|e| DataError::Unexpected(e.to_string()))?;
    Ok(Labelled { x, y: labels })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_classes_keeps_order_and_rows() {
        let x = Array2::from_shape_fn((5, 2), |(i, j)| (10 * i + j) as f32);
        let d = Labelled {
            x,
            y: vec![3, 7, 1, 7, 2],
        };
        let kept = d.clone().without_classes(&[7]);
        assert_eq!(kept.y, vec![3, 1, 2]);
        assert_eq!(kept.x.column(0).to_vec(), vec![0.0, 20.0, 40.0]);
        assert_eq!(d.clone().without_classes(&[]).y, d.y);
        assert!(d.without_classes(&[1, 2, 3, 7]).is_empty());
    }
}
