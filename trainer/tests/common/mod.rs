//! Support shared by the trainer's end-to-end tests.

use pse_trainer::data::idx::{Images, encode_images, encode_labels};
use std::path::Path;

/// Writes an MNIST-shaped dataset where class `c` is a bright 4×28 bar at rows `2c+2..2c+6`
/// plus deterministic speckle, so a model can learn it in a few steps.
pub fn synthetic_data(dir: &Path, train: usize, test: usize) {
    let mnist = dir.join("mnist");
    std::fs::create_dir_all(&mnist).unwrap();
    for (name, n, salt) in [("train", train, 1u32), ("t10k", test, 2)] {
        let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
        let mut pixels = vec![0u8; n * 784];
        for (i, &c) in labels.iter().enumerate() {
            for r in 0..28 {
                for col in 0..28 {
                    let on = r >= 2 * c as usize + 2 && r < 2 * c as usize + 6;
                    let h = ((i as u32).wrapping_mul(2654435761)
                        ^ ((r * 28 + col) as u32).wrapping_mul(40503)
                        ^ salt)
                        .wrapping_mul(2246822519);
                    let speckle = (h >> 28) as u8;
                    pixels[i * 784 + r * 28 + col] = if on { 230 + speckle } else { speckle * 3 };
                }
            }
        }
        let images = Images {
            count: n,
            rows: 28,
            cols: 28,
            pixels,
        };
        std::fs::write(
            mnist.join(format!("{name}-images-idx3-ubyte")),
            encode_images(&images),
        )
        .unwrap();
        std::fs::write(
            mnist.join(format!("{name}-labels-idx1-ubyte")),
            encode_labels(&labels),
        )
        .unwrap();
    }
}
