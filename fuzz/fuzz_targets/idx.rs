//! The trainer's IDX reader on arbitrary bytes: `idx::parse` as an image file (3
//! dimensions) and as a label file (1 dimension); inputs that start like a gzip stream also
//! go through `read_images` / `read_labels` from a `.gz` file (the path `annotate` and the
//! Fashion-MNIST loader take). Errors are fine; a panic, or an accepted file whose
//! dimensions disagree with its data, is a crash.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pse_trainer::data::idx;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

fuzz_target!(|data: &[u8]| {
    let name = Path::new("fuzz-input");
    if let Ok((dims, bytes)) = idx::parse(name, data, 3) {
        check(&dims, &bytes, 3);
    }
    if let Ok((dims, bytes)) = idx::parse(name, data, 1) {
        check(&dims, &bytes, 1);
    }
    if data.starts_with(&[0x1f, 0x8b]) {
        let gz = gz_path();
        std::fs::write(gz, data).unwrap();
        if let Ok(images) = idx::read_images(gz) {
            assert_eq!(
                images.pixels.len(),
                images.count * images.rows * images.cols
            );
        }
        if let Ok(labels) = idx::read_labels(gz) {
            assert!(!labels.is_empty());
        }
    }
});

fn check(dims: &[u32], bytes: &[u8], ndim: usize) {
    assert_eq!(dims.len(), ndim);
    let n = dims
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d as usize));
    assert_eq!(n, Some(bytes.len()));
}

/// One `.gz` file per fuzzing process, in memory (`/dev/shm`) where there is one: on ext4,
/// rewriting a file in place flushes it to disk each time (`auto_da_alloc`), 10x slower.
fn gz_path() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let shm = Path::new("/dev/shm");
        let dir = if shm.is_dir() {
            shm.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        dir.join(format!("pse-fuzz-idx-{}.gz", std::process::id()))
    })
}
