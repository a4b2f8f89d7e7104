//! Property tests: `Model::from_bytes` on random, truncated and bit-flipped blobs never
//! panics, and returns either an error or a model on which every operation succeeds.
//! `cargo test -p pse-runtime robustness -- --nocapture` prints the case counts.
#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    clippy::arithmetic_side_effects
)]

use std::println;
use std::vec;
use std::vec::Vec;

use proptest::collection::vec as pvec;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRng, TestRunner};

use crate::blob;
use crate::payload::Encoding;
use crate::testutil::{OwnedModel, Spec, envelope, scratch_bufs};
use crate::{AnnotateOut, Enroller, Error, LabelTable, Model, Sample, Scratch};

/// Runs every operation on an accepted model; all must succeed.
fn exercise(model: &Model<'_>) {
    let (mut a, mut q) = scratch_bufs(model);
    let mut s = Scratch::new(&mut a, &mut q);
    // What decodes succeeds, or, on a blob for annotation only, says the decoder is missing;
    // what reads an image likewise on a blob for generation only.
    let must = |present: bool, r: Result<(), Error>| {
        if present {
            r.unwrap();
        } else {
            assert!(matches!(r, Err(Error::MissingLayers { .. })), "{r:?}");
        }
    };
    let (encodes, decodes) = (model.has_encoder(), model.has_decoder());
    let decoding = |r: Result<(), Error>| must(decodes, r);
    let encoding = |r: Result<(), Error>| must(encodes, r);
    let (d, n) = (model.latent_dim(), model.pixels());
    let img: Vec<f32> = (0..n).map(|i| (i % 7) as f32 / 7.0).collect();
    let bytes: Vec<u8> = (0..n).map(|i| (i * 37) as u8).collect();
    let (mut mu, mut lv, mut pix) = (vec![0f32; d], vec![0f32; d], vec![0f32; n]);
    encoding(model.encode(&img[..], &mut s, &mut mu, &mut lv));
    encoding(model.encode(&bytes[..], &mut s, &mut mu, &mut lv));
    decoding(model.decode(&mu, &mut s, &mut pix));
    let mut e: Enroller = model.enroller();
    encoding(model.enroll_image(&mut e, &img[..], &mut s));
    let mut table = LabelTable::<1>::new();
    if encodes {
        table.push(e.finish(1e-3).unwrap()).unwrap();
    }
    let mut out = AnnotateOut::new();
    let extra = if model.label_count() < crate::MAX_LABELS {
        table.as_slice()
    } else {
        &[]
    };
    encoding(
        model
            .annotate(&bytes[..], extra, &mut s, &mut out)
            .map(|_| ()),
    );
    for l in 0..model.label_count() {
        decoding(model.generate(l, Sample::Mean, &mut s, &mut pix));
        decoding(model.generate(l, Sample::Seed(l as u64), &mut s, &mut pix));
        decoding(model.interpolate(0, l, 0.5, &mut s, &mut pix));
    }
    if let Some(k) = model.word_dim() {
        let w = vec![0.25f32; k];
        decoding(model.generate_from_vector(&w, Sample::Seed(1), &mut s, &mut pix));
    }
}

fn blobs() -> Vec<Vec<u8>> {
    let mut blobs: Vec<Vec<u8>> = [Encoding::F32, Encoding::F16, Encoding::I8, Encoding::I4]
        .iter()
        .map(|&enc| OwnedModel::random(&Spec::tiny(enc), 31).blob())
        .collect();
    // A blob for annotation only (no decoder).
    let mut annotate_only = OwnedModel::random(&Spec::tiny(Encoding::I4), 32);
    annotate_only.decoder.clear();
    blobs.push(annotate_only.blob());
    // A blob for generation only (no encoder).
    let mut generate_only = OwnedModel::random(&Spec::tiny(Encoding::I8), 33);
    generate_only.encoder = false;
    blobs.push(generate_only.blob());
    blobs
}

/// Tallies of what `from_bytes` returned.
#[derive(Default, Debug)]
struct Tally {
    cases: usize,
    accepted: usize,
    rejected: usize,
}

impl Tally {
    fn see(&mut self, r: Result<Model<'_>, Error>) {
        self.cases += 1;
        match r {
            Ok(m) => {
                self.accepted += 1;
                exercise(&m);
            }
            Err(_) => self.rejected += 1,
        }
    }
}

fn run<S: Strategy>(name: &str, cases: u32, strategy: S, f: impl Fn(S::Value, &mut Tally))
where
    S::Value: Clone,
{
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    // A fixed seed: the same cases on every run, so CI cannot flake.
    let rng = TestRng::deterministic_rng(config.rng_algorithm);
    let mut runner = TestRunner::new_with_rng(config, rng);
    let tally = std::cell::RefCell::new(Tally::default());
    runner
        .run(&strategy, |v| {
            f(v, &mut tally.borrow_mut());
            Ok(())
        })
        .unwrap();
    let t = tally.into_inner();
    println!(
        "proptest {name}: {} cases ({} accepted, {} rejected)",
        t.cases, t.accepted, t.rejected
    );
    assert!(t.cases >= cases as usize);
}

#[test]
fn random_bytes_never_panic() {
    run("random bytes", 2000, pvec(any::<u8>(), 0..400), |b, t| {
        t.see(Model::from_bytes(&b));
    });
}

#[test]
fn random_payload_in_valid_envelope_never_panics() {
    // Valid magic, version, length and CRC around random bytes: exercises postcard's decoder.
    run("random payload", 2000, pvec(any::<u8>(), 0..600), |b, t| {
        let blob = envelope(&b);
        t.see(Model::from_bytes(&blob));
    });
}

#[test]
fn truncated_blobs_are_refused() {
    let all = blobs();
    run(
        "truncated",
        1000,
        (0usize..3, any::<prop::sample::Index>()),
        |(k, cut), t| {
            let b = &all[k];
            let cut = cut.index(b.len());
            let r = Model::from_bytes(&b[..cut]);
            assert!(matches!(r, Err(Error::Truncated { .. })), "{cut}: {r:?}");
            t.see(r);
        },
    );
}

fn flip(b: &mut [u8], flips: &[(prop::sample::Index, u8)]) {
    let n = b.len();
    for (i, bit) in flips {
        b[i.index(n)] ^= 1 << (bit % 8);
    }
}

#[test]
fn bit_flipped_blobs_never_panic() {
    let all = blobs();
    let flips = pvec((any::<prop::sample::Index>(), any::<u8>()), 1..8);
    run("bit flips", 2000, (0usize..3, flips), |(k, fl), t| {
        let mut b = all[k].clone();
        flip(&mut b, &fl);
        t.see(Model::from_bytes(&b));
    });
}

#[test]
fn bit_flipped_payloads_with_fixed_crc_never_panic() {
    // Re-sealing the CRC lets the damage reach the decoder and the validator.
    let all = blobs();
    let flips = pvec((any::<prop::sample::Index>(), any::<u8>()), 1..4);
    run(
        "bit flips + fixed CRC",
        4000,
        (0usize..3, flips),
        |(k, fl), t| {
            let mut b = all[k].clone();
            flip(&mut b[blob::HEADER_LEN..], &fl);
            blob::fix_crc(&mut b);
            t.see(Model::from_bytes(&b));
        },
    );
}

/// Writes small valid blobs (each encoding; with and without a label encoder; one label and
/// the most labels) into the folder named by `PSE_FUZZ_SEEDS`: `scripts/fuzz.sh` seeds the
/// blob fuzzer with them beside the committed `models/*.pse`, whose megabytes make each
/// execution thousands of times slower.
#[test]
#[ignore = "writes files; run by scripts/fuzz.sh"]
fn write_fuzz_seeds() {
    let Some(dir) = std::env::var_os("PSE_FUZZ_SEEDS") else {
        println!("PSE_FUZZ_SEEDS is not set: nothing written");
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut written = 0;
    for (e, enc) in [Encoding::F32, Encoding::F16, Encoding::I8, Encoding::I4]
        .into_iter()
        .enumerate()
    {
        let mut m = OwnedModel::random(&Spec::tiny(enc), 40 + e as u64);
        let mut variants = vec![m.blob()];
        m.label_encoder = None;
        m.threshold = -2.0; // some images are "unknown"
        variants.push(m.blob());
        let mut wide = Spec::tiny(enc);
        wide.labels = crate::MAX_LABELS;
        wide.trunk = vec![8, 6];
        wide.decoder = vec![4, 8];
        variants.push(OwnedModel::random(&wide, 50 + e as u64).blob());
        let mut one = Spec::tiny(enc);
        one.labels = 1;
        one.d = 1;
        variants.push(OwnedModel::random(&one, 60 + e as u64).blob());
        let mut annotate_only = OwnedModel::random(&Spec::tiny(enc), 70 + e as u64);
        annotate_only.decoder.clear();
        variants.push(annotate_only.blob());
        let mut generate_only = OwnedModel::random(&Spec::tiny(enc), 80 + e as u64);
        generate_only.encoder = false;
        variants.push(generate_only.blob());
        for (v, b) in variants.iter().enumerate() {
            assert!(Model::from_bytes(b).is_ok());
            std::fs::write(dir.join(std::format!("tiny-{enc:?}-{v}.pse")), b).unwrap();
            written += 1;
        }
    }
    println!("{written} seed blobs written to {}", dir.display());
}
