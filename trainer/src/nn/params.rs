//! All trainable numbers of a model in one flat buffer, with named slots.
//!
//! One buffer makes Adam a single loop, checkpoints a single array, and gradients a
//! second buffer of the same layout.

use crate::nn::rng::{Rng, Stream};
use serde::{Deserialize, Serialize};

/// Where one named tensor lives in the flat buffer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    /// Human-readable name, e.g. `enc.0.w`.
    pub name: String,
    /// Offset of the first element.
    pub offset: usize,
    /// Rows (for a weight: inputs).
    pub rows: usize,
    /// Columns (for a weight: outputs; for a bias: 1 row).
    pub cols: usize,
}

impl Slot {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.rows * self.cols
    }

    /// True for an empty slot.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The slot's range in the buffer.
    pub fn range(&self) -> std::ops::Range<usize> {
        self.offset..self.offset + self.len()
    }
}

/// Allocates slots and initial values for a model's parameters.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The slots, in allocation order.
    pub slots: Vec<Slot>,
    /// Total element count.
    pub len: usize,
}

impl Layout {
    /// Reserves a `rows × cols` tensor and returns its slot index.
    pub fn add(&mut self, name: &str, rows: usize, cols: usize) -> usize {
        self.slots.push(Slot {
            name: name.to_string(),
            offset: self.len,
            rows,
            cols,
        });
        self.len += rows * cols;
        self.slots.len() - 1
    }

    /// Initial values: weights Glorot-uniform (`fan_in = rows`, `fan_out = cols`), biases
    /// (names ending in `.b`) zero, drawn from `seed`'s init stream in slot order.
    pub fn init(&self, seed: u64) -> Vec<f32> {
        let mut v = vec![0.0f32; self.len];
        let mut rng = Rng::new(seed, Stream::Init, 0);
        for s in &self.slots {
            if s.name.ends_with(".b") {
                continue;
            }
            let bound = (6.0 / (s.rows + s.cols) as f64).sqrt();
            for x in &mut v[s.range()] {
                *x = ((rng.uniform() * 2.0 - 1.0) * bound) as f32;
            }
        }
        v
    }
}
