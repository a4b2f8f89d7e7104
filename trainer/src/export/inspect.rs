//! `pse-trainer inspect`: what a blob holds (layers, encodings, labels, thresholds) and what
//! it needs on a device before it is flashed: the runtime's exact scratch, and, for a
//! measured target ([`crate::export::targets`]), flash, peak RAM and executed instructions
//! per operation, and which common boards it fits.

use crate::export::targets::{self, BOARDS, TargetProfile};
use pse_runtime::Model;
use pse_runtime::payload::{Activation, Encoding, Layer, ModelKind};
use serde::Serialize;

/// One dense layer of the blob.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LayerInfo {
    /// `encoder`, `mu head`, `logvar head`, `decoder`, `label mu`, `label logvar`.
    pub part: &'static str,
    /// Index within the part.
    pub index: usize,
    /// Inputs.
    pub inputs: usize,
    /// Outputs.
    pub outputs: usize,
    /// `identity`, `relu` or `sigmoid`.
    pub activation: &'static str,
    /// `f32`, `f16`, `i8` or `i4`.
    pub encoding: &'static str,
    /// Bytes of weights, scales and biases.
    pub bytes: usize,
    /// Multiply-adds of one pass.
    pub macs: u64,
}

/// Multiply-adds of the operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Macs {
    /// One annotation: the encoder, and the decoder when the blob has the open-world verdict.
    pub annotate: u64,
    /// One generation: the decoder (0 without one).
    pub generate: u64,
}

/// The runtime's scratch (exact, `Model::scratch_len`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ScratchBytes {
    /// `f32` elements.
    pub f32s: usize,
    /// `i8` elements.
    pub i8s: usize,
    /// Bytes in all.
    pub bytes: usize,
}

/// What the blob needs on one measured target, with the firmware example around it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeviceNeeds {
    /// The Rust target.
    pub triple: &'static str,
    /// The CPU the firmware is built for (`-C target-cpu`), `None` for the target's default.
    pub cpu: Option<&'static str>,
    /// The cores it stands for.
    pub cores: &'static str,
    /// Where the target's figures were measured.
    pub measured_on: &'static str,
    /// Flash: the blob and the firmware example's code and constants.
    pub flash_bytes: usize,
    /// Of which code and constants.
    pub code_bytes: usize,
    /// Peak RAM: static data and the largest stack (loading, or the inference phases with
    /// their buffers).
    pub ram_bytes: usize,
    /// Buffers the firmware owns: the scratch, and one `f32` image for generation when the
    /// blob has a decoder.
    pub buffer_bytes: usize,
    /// Executed instructions of one annotation (`None` if this encoding was not measured on
    /// this target).
    pub annotate_instructions: Option<u64>,
    /// Executed instructions of one generation (`None` without a decoder, or not measured).
    pub generate_instructions: Option<u64>,
}

/// Whether the blob fits a board.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BoardFit {
    /// The board.
    pub name: &'static str,
    /// Its core.
    pub core: &'static str,
    /// Its Rust target.
    pub triple: &'static str,
    /// Its flash, bytes.
    pub flash: usize,
    /// Its RAM, bytes.
    pub ram: usize,
    /// What the blob needs there (`None` when the target was not measured).
    pub needs: Option<DeviceNeeds>,
    /// Fits flash and RAM (`None` when not measured).
    pub fits: Option<bool>,
}

/// Everything `inspect` reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Inspection {
    /// Blob bytes.
    pub bytes: usize,
    /// Format version of the header.
    pub format_version: u16,
    /// CRC-32 of the payload (hex).
    pub crc32: String,
    /// `PSE` or `PSE*`.
    pub kind: &'static str,
    /// Latent size.
    pub latent: usize,
    /// Width and height.
    pub image_size: [usize; 2],
    /// `all`, `annotate` for a blob without a decoder, `generate` for one without an image
    /// encoder.
    pub part: &'static str,
    /// Label names.
    pub labels: Vec<String>,
    /// Word-vector size of the label encoder, if any.
    pub word_dim: Option<usize>,
    /// The latent threshold (`None` when disabled).
    pub unknown_threshold: Option<f32>,
    /// The open-world bounds `[reconstruction, ratio]` (`None` entries disabled; absent
    /// without the verdict).
    pub open_world: Option<[Option<f32>; 2]>,
    /// The layers, input first.
    pub layers: Vec<LayerInfo>,
    /// Multiply-adds per operation.
    pub macs: Macs,
    /// The runtime's scratch.
    pub scratch: ScratchBytes,
    /// What it needs on the requested target and CPU (`None` if that target was not
    /// measured).
    pub device: Option<DeviceNeeds>,
    /// The common boards.
    pub boards: Vec<BoardFit>,
}

fn finite(v: f32) -> Option<f32> {
    v.is_finite().then_some(v)
}

fn activation_name(a: Activation) -> &'static str {
    match a {
        Activation::Identity => "identity",
        Activation::Relu => "relu",
        Activation::Sigmoid => "sigmoid",
    }
}

fn info(part: &'static str, index: usize, l: &Layer<'_>) -> LayerInfo {
    let (inputs, outputs) = (l.in_dim as usize, l.out_dim as usize);
    let enc = l.weights.encoding();
    LayerInfo {
        part,
        index,
        inputs,
        outputs,
        activation: activation_name(l.activation),
        encoding: enc.name(),
        bytes: enc.weight_bytes(outputs, inputs).unwrap_or(0)
            + enc.scale_bytes(outputs).unwrap_or(0)
            + 4 * outputs,
        macs: (inputs * outputs) as u64,
    }
}

/// The encoding of the layer with the most multiply-adds (what the per-multiply-add rates
/// of that part are taken for).
fn dominant(layers: &[Layer<'_>]) -> Option<Encoding> {
    layers
        .iter()
        .max_by_key(|l| u64::from(l.in_dim) * u64::from(l.out_dim))
        .map(|l| l.weights.encoding())
}

/// Multiply-adds of one pass of the encoder (trunk and heads) and of the decoder.
fn part_macs(model: &Model<'_>) -> (u64, u64) {
    let p = model.payload();
    let sum = |ls: &[Layer<'_>]| -> u64 {
        ls.iter()
            .map(|l| u64::from(l.in_dim) * u64::from(l.out_dim))
            .sum()
    };
    let enc = p
        .encoder
        .map_or(0, |e| sum(e.trunk.layers()) + sum(&[e.mu, e.logvar]));
    (enc, sum(p.decoder.layers()))
}

/// Multiply-adds per operation of `model`.
pub fn macs(model: &Model<'_>) -> Macs {
    let (enc, dec) = part_macs(model);
    let verdict = if model.open_world().is_some() { dec } else { 0 };
    Macs {
        annotate: enc + verdict,
        generate: dec,
    }
}

/// What `model` (whose blob is `bytes` long) needs on `t`.
pub fn device_needs(model: &Model<'_>, bytes: usize, t: &TargetProfile) -> DeviceNeeds {
    let p = model.payload();
    let need = model.scratch_len();
    let scratch = 4 * need.f32s + need.i8s.max(1);
    let buffers = scratch
        + if model.has_decoder() {
            4 * model.pixels()
        } else {
            0
        };
    let decoder = p.decoder.layers();
    // The largest phase: enrollment (or annotation) where the blob reads images, else
    // generation.
    let phase_stack = if model.has_encoder() {
        t.phase_stack
    } else {
        t.generate_stack
    };
    let (enc_macs, dec_macs) = part_macs(model);
    let (enc_macs, dec_macs) = (enc_macs as f64, dec_macs as f64);
    // No encoder (a blob for generation only): nothing to annotate with.
    let enc_rates = p
        .encoder
        .and_then(|e| dominant(e.trunk.layers()).or(Some(Encoding::F32)))
        .and_then(|e| t.rates(e));
    let dec_rates = dominant(decoder).and_then(|e| t.rates(e));
    let verdict = model.open_world().is_some();
    let annotate = enc_rates.and_then(|r| {
        let extra = if verdict {
            dec_macs * dec_rates?.verdict
        } else {
            0.0
        };
        Some((enc_macs * r.encode + extra).round() as u64)
    });
    let generate = dec_rates.map(|r| (dec_macs * r.generate).round() as u64);
    DeviceNeeds {
        triple: t.triple,
        cpu: t.cpu,
        cores: t.cores,
        measured_on: t.measured_on,
        flash_bytes: bytes + t.code_bytes,
        code_bytes: t.code_bytes,
        ram_bytes: t.static_ram + t.load_stack.max(buffers + phase_stack),
        buffer_bytes: buffers,
        annotate_instructions: annotate,
        generate_instructions: generate,
    }
}

/// Inspects the blob `bytes`, with the device figures for `target` (`None`: a target that
/// was not measured; see [`targets::target_for`]).
pub fn inspect(
    bytes: &[u8],
    target: Option<&TargetProfile>,
) -> Result<Inspection, pse_runtime::Error> {
    let header = pse_runtime::blob::read_header(bytes)?;
    let model = Model::from_bytes(bytes)?;
    let p = model.payload();
    let mut layers = Vec::new();
    if let Some(e) = &p.encoder {
        for (i, l) in e.trunk.layers().iter().enumerate() {
            layers.push(info("encoder", i, l));
        }
        layers.push(info("mu head", 0, &e.mu));
        layers.push(info("logvar head", 0, &e.logvar));
    }
    for (i, l) in p.decoder.layers().iter().enumerate() {
        layers.push(info("decoder", i, l));
    }
    if let Some(le) = &p.label_encoder {
        layers.push(info("label mu", 0, &le.mu));
        layers.push(info("label logvar", 0, &le.logvar));
    }
    let need = model.scratch_len();
    let (w, h) = model.image_size();
    let device = target.map(|t| device_needs(&model, bytes.len(), t));
    let boards = BOARDS
        .iter()
        .map(|b| {
            let needs = targets::target(b.triple).map(|t| device_needs(&model, bytes.len(), t));
            let fits = needs
                .as_ref()
                .map(|n| n.flash_bytes <= b.flash && n.ram_bytes <= b.ram);
            BoardFit {
                name: b.name,
                core: b.core,
                triple: b.triple,
                flash: b.flash,
                ram: b.ram,
                needs,
                fits,
            }
        })
        .collect();
    Ok(Inspection {
        bytes: bytes.len(),
        format_version: header.version,
        crc32: format!("{:08x}", header.crc),
        kind: match model.kind() {
            ModelKind::Pse => "PSE",
            ModelKind::PseStar => "PSE*",
        },
        latent: model.latent_dim(),
        image_size: [w, h],
        part: match (model.has_encoder(), model.has_decoder()) {
            (true, true) => "all",
            (true, false) => "annotate",
            _ => "generate",
        },
        labels: (0..model.label_count())
            .filter_map(|i| model.label_name(i).map(str::to_string))
            .collect(),
        word_dim: model.word_dim(),
        unknown_threshold: finite(model.unknown_threshold()),
        open_world: model
            .open_world()
            .map(|o| [finite(o.reconstruction_low), finite(o.ratio_low)]),
        layers,
        macs: macs(&model),
        scratch: ScratchBytes {
            f32s: need.f32s,
            i8s: need.i8s,
            bytes: 4 * need.f32s + need.i8s,
        },
        device,
        boards,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn committed(name: &str) -> Vec<u8> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        std::fs::read(root.join("models").join(name)).expect("committed blob")
    }

    #[test]
    fn the_annotate_part_needs_less_than_the_whole_blob() {
        let m4f = targets::target("thumbv7em-none-eabihf");
        let whole = inspect(&committed("mnist-pse-star-10d-i4.pse"), m4f).unwrap();
        let part = inspect(&committed("mnist-pse-star-10d-i4-annotate.pse"), m4f).unwrap();
        assert_eq!(whole.part, "all");
        assert_eq!(part.part, "annotate");
        assert_eq!(part.macs.generate, 0);
        assert_eq!(part.macs.annotate, 784 * 512 + 512 * 64 + 2 * 64 * 10);
        assert_eq!(
            whole.macs.annotate,
            part.macs.annotate + whole.macs.generate
        );
        assert!(part.layers.iter().all(|l| l.part != "decoder"));
        let (w, p) = (whole.device.clone().unwrap(), part.device.clone().unwrap());
        assert!(p.flash_bytes < w.flash_bytes / 2 + 40_000);
        assert!(p.ram_bytes < w.ram_bytes);
        assert!(p.generate_instructions.is_none());
        // A board fits when both memories do.
        for b in part.boards.iter().chain(&whole.boards) {
            let want = b
                .needs
                .as_ref()
                .map(|n| n.flash_bytes <= b.flash && n.ram_bytes <= b.ram);
            assert_eq!(b.fits, want, "{}", b.name);
        }
        // An unmeasured target: no device figures, boards still listed.
        let none = inspect(&committed("mnist-pse-star-10d-i8.pse"), None).unwrap();
        assert!(none.device.is_none());
        assert_eq!(none.boards.len(), BOARDS.len());
        assert_eq!(none.format_version, 2);
    }

    #[test]
    fn the_helium_build_has_its_own_profile() {
        const V8M: &str = "thumbv8m.main-none-eabihf";
        let portable = targets::target(V8M).unwrap();
        let helium = targets::target_for(V8M, Some("cortex-m55")).unwrap();
        assert_eq!(targets::target_for(V8M, None), Some(portable));
        assert_eq!((portable.cpu, helium.cpu), (None, Some("cortex-m55")));
        assert_eq!(helium.name(), "thumbv8m.main-none-eabihf --cpu cortex-m55");
        assert!(targets::target_for(V8M, Some("cortex-m33")).is_none());
        assert!(targets::target_for("thumbv7em-none-eabihf", Some("cortex-m55")).is_none());
        // The measured whole int8 annotation (403 864 instructions) and generation (168 605).
        let blob = committed("mnist-pse-star-10d-i8.pse");
        let i = inspect(&blob, Some(helium)).unwrap();
        let d = i.device.unwrap();
        assert_eq!(d.cpu, Some("cortex-m55"));
        assert!(d.annotate_instructions.unwrap().abs_diff(403_864) < 100);
        assert!(d.generate_instructions.unwrap().abs_diff(168_605) < 100);
        let slow = inspect(&blob, Some(portable)).unwrap().device.unwrap();
        assert!(slow.annotate_instructions.unwrap() > 10 * d.annotate_instructions.unwrap());
    }
}
