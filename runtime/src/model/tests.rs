//! Unit tests of [`Model`](super::Model): loading, encoding, decoding, scratch checks.

use super::*;
use crate::payload::Encoding;
use crate::testutil::*;
use crate::{AnnotateOut, MAX_LABELS, Sample};
use std::vec;
use std::vec::Vec;

fn tiny() -> OwnedModel {
    OwnedModel::random(&Spec::tiny(Encoding::I8), 21)
}

#[test]
fn operations_refuse_bad_arguments() {
    let m = tiny();
    let blob = m.blob();
    let model = Model::from_bytes(&blob).unwrap();
    let need = model.scratch_len();
    assert_eq!(
        need,
        ScratchLen {
            f32s: 2 * 8,
            i8s: 2 * 16 + 24
        }
    );
    let (mut a, mut q) = scratch_bufs(&model);
    let img = [0.5f32; 16];
    let (mut mu, mut lv) = ([0f32; 3], [0f32; 3]);
    let mut s = Scratch::new(&mut a, &mut q);
    assert_eq!(
        model.encode(&img[..15], &mut s, &mut mu, &mut lv),
        Err(Error::WrongInputLength {
            expected: 16,
            got: 15
        })
    );
    assert_eq!(
        model.encode(&img, &mut s, &mut mu[..2], &mut lv),
        Err(Error::WrongOutputLength {
            expected: 3,
            got: 2
        })
    );
    assert_eq!(model.encode(&img, &mut s, &mut mu, &mut lv), Ok(()));
    let mut out = [0f32; 16];
    assert_eq!(
        model.decode(&mu[..2], &mut s, &mut out),
        Err(Error::WrongInputLength {
            expected: 3,
            got: 2
        })
    );
    assert_eq!(
        model.decode(&mu, &mut s, &mut out[..3]),
        Err(Error::WrongOutputLength {
            expected: 16,
            got: 3
        })
    );
    assert_eq!(
        model.generate(3, Sample::Mean, &mut s, &mut out),
        Err(Error::UnknownLabel { index: 3, count: 3 })
    );
    assert_eq!(
        model.generate_from_vector(&[0.0; 4], Sample::Mean, &mut s, &mut out),
        Err(Error::WrongInputLength {
            expected: 5,
            got: 4
        })
    );
    let wrong_dim = crate::LabelGaussian::new(&[0.0; 2], &[0.0; 2]).unwrap();
    assert_eq!(
        model.generate_from_gaussian(&wrong_dim, Sample::Mean, &mut s, &mut out),
        Err(Error::LatentMismatch {
            expected: 3,
            found: 2
        })
    );
    let mut ann = AnnotateOut::new();
    assert_eq!(
        model.annotate(&img, &[wrong_dim], &mut s, &mut ann),
        Err(Error::LatentMismatch {
            expected: 3,
            found: 2
        })
    );
    let many = [model.label(0).unwrap(); 62];
    assert_eq!(
        model.annotate(&img, &many, &mut s, &mut ann),
        Err(Error::TooManyLabels {
            found: 65,
            max: MAX_LABELS
        })
    );
    let mut short_a = vec![0f32; need.f32s - 1];
    let mut s2 = Scratch::new(&mut short_a, &mut q);
    assert_eq!(
        model.encode(&img, &mut s2, &mut mu, &mut lv),
        Err(Error::ScratchTooSmall {
            needed: need.f32s,
            got: need.f32s - 1
        })
    );
    let mut short_q = vec![0i8; need.i8s - 1];
    let mut s3 = Scratch::new(&mut a, &mut short_q);
    assert_eq!(
        model.decode(&mu, &mut s3, &mut out),
        Err(Error::QuantScratchTooSmall {
            needed: need.i8s,
            got: need.i8s - 1
        })
    );

    // A model without a label encoder.
    let mut plain = tiny();
    plain.label_encoder = None;
    let blob = plain.blob();
    let model = Model::from_bytes(&blob).unwrap();
    let mut s = Scratch::new(&mut a, &mut q);
    assert_eq!(
        model.generate_from_vector(&[0.0; 5], Sample::Mean, &mut s, &mut out),
        Err(Error::NoLabelEncoder)
    );
    assert_eq!(model.word_dim(), None);
}

#[test]
fn u8_images_convert_as_byte_over_255() {
    let m = tiny();
    let blob = m.blob();
    let model = Model::from_bytes(&blob).unwrap();
    let (mut a, mut q) = scratch_bufs(&model);
    let bytes: Vec<u8> = (0..16).map(|i| (i * 17) as u8).collect();
    let floats: Vec<f32> = bytes.iter().map(|&b| b as f32 / 255.0).collect();
    let mut s = Scratch::new(&mut a, &mut q);
    let (mut mu1, mut lv1, mut mu2, mut lv2) = ([0f32; 3], [0f32; 3], [0f32; 3], [0f32; 3]);
    model
        .encode(&bytes[..], &mut s, &mut mu1, &mut lv1)
        .unwrap();
    model
        .encode(&floats[..], &mut s, &mut mu2, &mut lv2)
        .unwrap();
    assert_eq!(mu1, mu2);
    assert_eq!(lv1, lv2);
}

/// The f16 and int8 encodings of one MNIST-shaped random model encode test-like images
/// close to the f32 encoding.
#[test]
fn encodings_agree_on_mnist_shapes() {
    let images: Vec<Vec<u8>> = {
        let mut rng = crate::rng::Rng::new(99);
        (0..5)
            .map(|_| {
                (0..784)
                    .map(|_| {
                        if rng.uniform() < 0.2 {
                            (rng.uniform() * 255.0) as u8
                        } else {
                            0
                        }
                    })
                    .collect()
            })
            .collect()
    };
    let mut results = Vec::new();
    for enc in [Encoding::F32, Encoding::F16, Encoding::I8] {
        let m = OwnedModel::random(&Spec::mnist(10, enc), 7);
        let blob = m.blob();
        let model = Model::from_bytes(&blob).unwrap();
        let (mut a, mut q) = scratch_bufs(&model);
        let mut s = Scratch::new(&mut a, &mut q);
        let mut mus = Vec::new();
        for img in &images {
            let (mut mu, mut lv) = ([0f32; 10], [0f32; 10]);
            model.encode(&img[..], &mut s, &mut mu, &mut lv).unwrap();
            mus.push(mu);
        }
        let mut pix = vec![0f32; 784];
        model
            .generate(0, Sample::Seed(1), &mut s, &mut pix)
            .unwrap();
        assert!(pix.iter().all(|p| (0.0..=1.0).contains(p)));
        results.push((mus, pix));
    }
    let (ref_mu, ref_pix) = &results[0];
    for (enc, (mus, pix), tol_mu, tol_pix) in [
        ("f16", &results[1], 2e-3f32, 2e-3f32),
        ("i8", &results[2], 5e-2, 5e-2),
    ] {
        for (a, b) in ref_mu.iter().zip(mus) {
            for (x, y) in a.iter().zip(b) {
                assert!((x - y).abs() < tol_mu, "{enc}: mu {x} vs {y}");
            }
        }
        for (x, y) in ref_pix.iter().zip(pix) {
            assert!((x - y).abs() < tol_pix, "{enc}: pixel {x} vs {y}");
        }
    }
}
