//! Building the vectors from the GloVe JSON: hashing while reading, parsing streaming.

use super::*;

impl Glove {
    /// Parses the JSON file, streaming, and checks its SHA-256 against `sha256` if given
    /// (a wrong checksum is reported before any parse error).
    pub(super) fn build(json: &Path, sha256: Option<&str>) -> Result<Glove, GloveError> {
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
    pub(super) fn new<'a>(
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
