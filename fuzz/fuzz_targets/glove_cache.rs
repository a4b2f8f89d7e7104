//! The trainer's GloVe cache reader on arbitrary bytes: `Glove::load` on a data folder
//! whose `cache/glove-100d-v1.bin` is the input, twice: as given (the header checks see the
//! mutation) and resealed (word-section length and CRC recomputed, so the mutation reaches
//! the word parser and the vocabulary index). The folder has no JSON, so nothing is ever
//! rebuilt. Errors are fine; a panic, or an accepted vocabulary that is not self-consistent
//! (a word without its vector, a word `index` does not find, a word `phrase` rejects), is a
//! crash.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pse_trainer::data::glove::{self, Glove, GloveError};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Bytes before the word section; the CRC field is `24..28`.
const HEADER: usize = 28;

fuzz_target!(|data: &[u8]| {
    run(data);
    if let Some(sealed) = reseal(data) {
        run(&sealed);
    }
});

fn run(bytes: &[u8]) {
    let (dir, cache) = paths();
    std::fs::write(cache, bytes).unwrap();
    match Glove::load(dir) {
        Ok(g) => check(&g),
        // Only when there is no cache: the path above is not where `load` looks.
        Err(e @ GloveError::Missing(_)) => panic!("the cache was not read: {e}"),
        Err(_) => {}
    }
}

/// `data` with the header's word-section length made to fit the word count and the file
/// length, and the CRC made to match.
fn reseal(data: &[u8]) -> Option<Vec<u8>> {
    let rest = data.len().checked_sub(HEADER)?;
    let n = u32::from_le_bytes(data[16..20].try_into().unwrap()) as usize;
    let words_len = rest.checked_sub(n.checked_mul(2 * glove::DIM)?)?;
    let mut b = data.to_vec();
    b[20..24].copy_from_slice(&u32::try_from(words_len).ok()?.to_le_bytes());
    let mut crc = crc32fast::Hasher::new();
    crc.update(&b[..24]);
    crc.update(&b[HEADER..]);
    b[24..HEADER].copy_from_slice(&crc.finalize().to_le_bytes());
    (b != data).then_some(b)
}

fn check(g: &Glove) {
    let n = g.len();
    assert_eq!(g.is_empty(), n == 0);
    assert_eq!(g.word(n), None);
    assert!(g.vector(n).is_none());
    let all_finite = (0..n).all(|i| g.vector(i).unwrap().iter().all(|x| x.is_finite()));
    for i in 0..n {
        let w = g.word(i).expect("a word below len()");
        let v = g.vector(i).expect("a vector below len()");
        assert_eq!(v.len(), glove::DIM);
        // Words are distinct, so the exact match is word `i` itself.
        let found = g
            .index(w)
            .unwrap_or_else(|| panic!("word {i} {w:?} not found"));
        assert_eq!(g.word(found), Some(w));
        assert_eq!(found, i);
        // A word with no separators is a one-word phrase: its own vector.
        if !w.is_empty() && !w.contains(|c: char| c.is_whitespace() || c == '/') {
            let p = g
                .phrase(w)
                .unwrap_or_else(|e| panic!("phrase of word {i} {w:?}: {e}"));
            assert_eq!(p.len(), glove::DIM);
            for (a, b) in p.iter().zip(&v) {
                assert!(a == b || (a.is_nan() && b.is_nan()), "{w:?}: {a} vs {b}");
            }
        }
        // Only the first few: `nearest` scans the whole vocabulary.
        if i < 4 {
            let norm2: f32 = v.iter().map(|x| x * x).sum();
            for k in [1, 3, n + 1] {
                let near = g.nearest(&v, k);
                assert!(near.len() <= k.min(n));
                if norm2 > 0.0 && norm2.is_finite() {
                    assert_eq!(near.len(), k.min(n));
                }
                for (word, cos) in &near {
                    assert!(g.index(word).is_some(), "{word:?}");
                    if all_finite {
                        assert!(cos.abs() <= 1.0 + 1e-4, "cos {cos} for {word:?}");
                    }
                }
            }
        }
    }
    if n > 0 {
        let _ = g.suggestions(g.word(0).unwrap());
        let _ = g.phrase("fuzz-input / t-shirt");
    }
}

/// One data folder per fuzzing process, in memory (`/dev/shm`) where there is one (see
/// idx.rs): the folder and the cache file's path.
fn paths() -> (&'static Path, &'static Path) {
    static PATHS: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    let (dir, cache) = PATHS.get_or_init(|| {
        let shm = Path::new("/dev/shm");
        let base = if shm.is_dir() {
            shm.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        let dir = base.join(format!("pse-fuzz-glove-{}", std::process::id()));
        let cache = dir.join("cache/glove-100d-v1.bin");
        std::fs::create_dir_all(cache.parent().unwrap()).unwrap();
        (dir, cache)
    });
    (dir, cache)
}
