//! The binary cache of the vectors (format in the module docs): writing, reading, checking.

use super::*;

impl Glove {
    /// The cache file's bytes (see the module docs).
    pub(super) fn encode(&self) -> Vec<u8> {
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
    pub(super) fn read_cache(path: &Path) -> Result<Option<Glove>, GloveError> {
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
    pub(super) fn decode(r: &mut impl Read, len: u64) -> Result<Glove, Damage> {
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
pub(super) enum Damage {
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
