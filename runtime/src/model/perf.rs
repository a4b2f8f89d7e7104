//! Host speed of annotate and generate on MNIST shapes (an ignored test: `cargo test
//! --release -p pse-runtime -- --ignored --nocapture perf`).

use super::*;
use crate::AnnotateOut;
use crate::payload::Encoding;
use crate::testutil::*;
use std::println;
use std::vec::Vec;

/// Prints the time per annotate and per generate for f32, f16 and int8 blobs.
#[test]
#[ignore]
fn mnist_throughput() {
    for enc in [Encoding::F32, Encoding::F16, Encoding::I8] {
        let m = OwnedModel::random(&Spec::mnist(20, enc), 7);
        let blob = m.blob();
        let model = Model::from_bytes(&blob).unwrap();
        let (mut a, mut q) = scratch_bufs(&model);
        let mut s = Scratch::new(&mut a, &mut q);
        let img: Vec<u8> = (0..784).map(|i| (i * 7 % 256) as u8).collect();
        let mut out = AnnotateOut::new();
        let n = 2000;
        let t = std::time::Instant::now();
        for _ in 0..n {
            model.annotate(&img[..], &[], &mut s, &mut out).unwrap();
        }
        let ann = t.elapsed().as_secs_f64() / n as f64;
        let mut pix = [0f32; 784];
        let t = std::time::Instant::now();
        for i in 0..n {
            model
                .generate(i % 10, crate::Sample::Seed(i as u64), &mut s, &mut pix)
                .unwrap();
        }
        let gen_t = t.elapsed().as_secs_f64() / n as f64;
        println!(
            "{enc:?}: blob {} bytes, annotate {:.1} us, generate {:.1} us",
            blob.len(),
            ann * 1e6,
            gen_t * 1e6
        );
    }
}
