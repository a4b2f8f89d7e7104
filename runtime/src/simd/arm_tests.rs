//! The Cortex-M kernel's window layout, edge rows and row ranges, run on the host with
//! the row loop's portable fallback in place of the assembly (which the firmware test
//! checks against the host, bit for bit).
use crate::kernel::{dot_split, dot4_split, input_scale, matvec_split, quant_len, split_codes};
use crate::rng::Rng;
use std::vec;
use std::vec::Vec;

#[test]
fn int4_window_path_equals_portable() {
    let mut rng = Rng::new(32);
    for &(out, inp) in &[(1, 8), (3, 16), (5, 64), (4, 512), (9, 784)] {
        let q: Vec<u8> = (0..out * inp / 2)
            .map(|_| (rng.next_u64() >> 56) as u8)
            .collect();
        let bias: Vec<u8> = (0..out).flat_map(|_| rng.normal().to_le_bytes()).collect();
        let scales: Vec<u8> = (0..out)
            .flat_map(|_| (rng.uniform() * 0.1).to_le_bytes())
            .collect();
        let x: Vec<f32> = (0..inp).map(|_| rng.normal()).collect();
        let bytes: Vec<u8> = (0..inp).map(|_| (rng.next_u64() >> 56) as u8).collect();
        let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
        for qoff in 0..4 {
            let mut want = vec![0f32; out];
            let mut quant = vec![0i8; quant_len(inp)];
            crate::kernel::layer_i4(&q, inp, &scales, &bias, &x, &mut quant, &mut want);
            let mut got = vec![0f32; out];
            let mut quant = vec![0i8; quant_len(inp) + qoff];
            let xs = input_scale(&x);
            assert!(super::arm::matvec_i4(
                &q,
                inp,
                &scales,
                &bias,
                &x,
                xs,
                &mut quant[qoff..],
                &mut got
            ));
            assert_eq!(bits(&got), bits(&want), "{out}x{inp} scratch offset {qoff}");
        }
        let mut want = vec![0f32; out];
        let mut quant = vec![0i8; quant_len(inp)];
        crate::kernel::layer_i4(&q, inp, &scales, &bias, &bytes, &mut quant, &mut want);
        let mut got = vec![0f32; out];
        let bs = input_scale(&bytes);
        assert!(super::arm::matvec_i4(
            &q, inp, &scales, &bias, &bytes, bs, &mut quant, &mut got
        ));
        assert_eq!(bits(&got), bits(&want));
    }
}

#[test]
fn window_path_equals_portable_at_every_alignment() {
    let mut rng = Rng::new(31);
    for &(out, inp) in &[
        (1, 16),
        (2, 16),
        (3, 20),
        (5, 64),
        (7, 100),
        (9, 784),
        (4, 512),
    ] {
        let n = out * inp;
        let base: Vec<u8> = (0..n + 8).map(|_| (rng.next_u64() >> 56) as u8).collect();
        let bias: Vec<u8> = (0..out).flat_map(|_| rng.normal().to_le_bytes()).collect();
        let scales: Vec<u8> = (0..out)
            .flat_map(|_| (rng.uniform() * 0.1).to_le_bytes())
            .collect();
        for signed in [false, true] {
            let x: Vec<f32> = (0..inp)
                .map(|_| {
                    let v = rng.normal();
                    if signed { v } else { v.abs() }
                })
                .collect();
            let xs = input_scale(&x);
            // Every offset of the weights relative to a word boundary, and of the
            // scratch: the window and the edge rows depend on them.
            for off in 0..4 {
                let q = &base[off..off + n];
                let mut want = vec![0f32; out];
                let mut quant = vec![0i8; quant_len(inp)];
                let codes = split_codes(&x, xs, &mut quant);
                matvec_split(
                    q, inp, &scales, &bias, xs, codes, &mut want, dot4_split, dot_split,
                );
                for qoff in 0..4 {
                    let mut quant = vec![0i8; quant_len(inp) + qoff];
                    let mut got = vec![0f32; out];
                    assert!(super::arm::matvec_i8(
                        q,
                        inp,
                        &scales,
                        &bias,
                        &x,
                        xs,
                        &mut quant[qoff..],
                        &mut got
                    ));
                    let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
                    assert_eq!(bits(&got), bits(&want), "{out}x{inp} off {off}/{qoff}");
                }
            }
            // Byte inputs take the same path.
            let bytes: Vec<u8> = (0..inp).map(|_| (rng.next_u64() >> 56) as u8).collect();
            let bs = input_scale(&bytes);
            let q = &base[1..1 + n];
            let mut want = vec![0f32; out];
            let mut quant = vec![0i8; quant_len(inp)];
            let codes = split_codes(&bytes, bs, &mut quant);
            matvec_split(
                q, inp, &scales, &bias, bs, codes, &mut want, dot4_split, dot_split,
            );
            let mut got = vec![0f32; out];
            assert!(super::arm::matvec_i8(
                q, inp, &scales, &bias, &bytes, bs, &mut quant, &mut got
            ));
            assert_eq!(
                got.iter().map(|f| f.to_bits()).collect::<Vec<_>>(),
                want.iter().map(|f| f.to_bits()).collect::<Vec<_>>()
            );
        }
    }
    // Layers the kernel does not take.
    assert!(!super::arm::matvec_i4(
        &[0; 10],
        10,
        &[0; 8],
        &[0; 8],
        &[1.0f32; 10],
        1.0,
        &mut [0i8; 64],
        &mut [0f32; 2]
    ));
    let mut y = [0f32; 2];
    let mut quant = [0i8; 64];
    assert!(!super::arm::matvec_i8(
        &[0; 20],
        10,
        &[0; 8],
        &[0; 8],
        &[1.0f32; 10],
        1.0,
        &mut quant,
        &mut y
    ));
    assert!(!super::arm::matvec_i8(
        &[0; 24],
        12,
        &[0; 8],
        &[0; 8],
        &[1.0f32; 12],
        1.0,
        &mut quant,
        &mut y
    ));
}
