//! Drawing images from a blob's label or from a label vector with `pse-runtime`
//! (`pse-trainer generate`): seeded samples `seed, seed + 1, …` or the mean, laid out as a
//! PNG grid.

use crate::export::host::Scratchpad;
use crate::report::picture::{Canvas, image_grid};
use pse_runtime::{Model, Sample};

/// Images per grid row.
pub const PER_ROW: usize = 10;

/// What to draw from.
#[derive(Debug, Clone, Copy)]
pub enum What<'a> {
    /// One of the model's labels.
    Label(usize),
    /// A label vector (a word vector) through the model's label encoder.
    Vector(&'a [f32]),
}

/// Decodes `count` images of `what`: `Sample::Seed(seed + i)` for image `i`, or the mean once
/// when `mean` is set (then `count` and `seed` are ignored).
pub fn generate(
    model: &Model<'_>,
    what: What<'_>,
    count: usize,
    seed: u64,
    mean: bool,
) -> Result<Vec<Vec<f32>>, pse_runtime::Error> {
    let mut pad = Scratchpad::for_model(model);
    let gaussian = match what {
        What::Label(label) => model.label(label)?,
        What::Vector(v) => model.gaussian_from_vector(v, &mut pad.scratch())?,
    };
    let samples: Vec<Sample> = if mean {
        vec![Sample::Mean]
    } else {
        (0..count as u64)
            .map(|i| Sample::Seed(seed.wrapping_add(i)))
            .collect()
    };
    samples
        .into_iter()
        .map(|s| {
            let mut out = vec![0.0f32; model.pixels()];
            model.generate_from_gaussian(&gaussian, s, &mut pad.scratch(), &mut out)?;
            Ok(out)
        })
        .collect()
}

/// Lays `images` out [`PER_ROW`] to a row, the first row titled `title`, magnified twice.
pub fn grid(images: &[Vec<f32>], title: &str, width: usize, height: usize) -> Canvas {
    let rows: Vec<(String, Vec<&[f32]>)> = images
        .chunks(PER_ROW)
        .enumerate()
        .map(|(i, chunk)| {
            let name = if i == 0 {
                title.to_string()
            } else {
                String::new()
            };
            (name, chunk.iter().map(Vec::as_slice).collect())
        })
        .collect();
    image_grid(&rows, width, height, 2)
}
