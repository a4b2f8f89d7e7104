//! Build script: puts the board's `memory.x` (`boards/<PSE_BOARD>/`) on the linker path, picks the model blob to link, checks it
//! with the same runtime the firmware uses, and sizes the firmware's buffers from it.
//!
//! Board: `PSE_BOARD` wins; otherwise `qemu-riscv-virt` on RV32 targets, else `mps2-an386`.
//!
//! Blob selection: `PSE_BLOB=<path>` (relative to this folder, or absolute) wins; otherwise
//! `../models/mnist-pse-star-10d-f32.pse` with `--features f32`, else
//! `../models/mnist-pse-star-10d-i8.pse`.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    let here = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));

    // Linker script: cortex-m-rt's (or riscv-rt's) link.x includes memory.x from the search
    // path; the board's memory map is boards/<PSE_BOARD>/memory.x (default mps2-an386, QEMU's
    // Cortex-M4F, or qemu-riscv-virt on RV32).
    let target = env::var("TARGET").unwrap_or_default();
    println!("cargo:rerun-if-env-changed=PSE_BOARD");
    let board = env::var("PSE_BOARD").unwrap_or_else(|_| {
        if target.starts_with("riscv32") {
            "qemu-riscv-virt".into()
        } else {
            "mps2-an386".into()
        }
    });
    let memory = here.join("boards").join(&board).join("memory.x");
    if !memory.is_file() {
        panic!(
            "PSE_BOARD={board}: no {} (the boards are the folders of boards/)",
            memory.display()
        );
    }
    fs::copy(&memory, out.join("memory.x")).expect("copy memory.x");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed={}", memory.display());
    println!("cargo:rustc-link-arg-bins=--nmagic");
    println!("cargo:rustc-link-arg-bins=-Tlink.x");

    // The blob.
    println!("cargo:rerun-if-env-changed=PSE_BLOB");
    let blob_path = match env::var_os("PSE_BLOB") {
        Some(p) => {
            let p = PathBuf::from(p);
            if p.is_absolute() { p } else { here.join(p) }
        }
        None if env::var_os("CARGO_FEATURE_F32").is_some() => {
            here.join("../models/mnist-pse-star-10d-f32.pse")
        }
        None => here.join("../models/mnist-pse-star-10d-i8.pse"),
    };
    let blob_path = fs::canonicalize(&blob_path).unwrap_or_else(|e| {
        panic!(
            "model blob {}: {e}\n  export it (`pse-trainer export …`, see README.md) or point \
             PSE_BLOB at a .pse file",
            blob_path.display()
        )
    });
    println!("cargo:rerun-if-changed={}", blob_path.display());
    let bytes = fs::read(&blob_path).expect("read blob");
    let model = pse_runtime::Model::from_bytes(&bytes)
        .unwrap_or_else(|e| panic!("{}: not a valid blob: {e}", blob_path.display()));
    let need = model.scratch_len();
    let (w, h) = model.image_size();
    println!("cargo:rustc-env=PSE_BLOB_FILE={}", blob_path.display());

    // Buffer sizes for this model, so any valid blob links without editing the source.
    let consts = format!(
        "/// `f32` scratch elements the linked model needs.\n\
         pub const SCRATCH_F32: usize = {};\n\
         /// `i8` scratch elements the linked model needs (at least 1).\n\
         pub const SCRATCH_I8: usize = {};\n\
         /// Pixels per image (`width * height`).\n\
         pub const PIXELS: usize = {};\n\
         /// Pixels of the generation buffer (0 for a blob without a decoder).\n\
         pub const GEN_PIXELS: usize = {};\n\
         /// Image width.\n\
         pub const WIDTH: usize = {w};\n\
         /// Latent dimension `d`.\n\
         pub const LATENT: usize = {};\n\
         /// File name of the linked blob.\n\
         pub const BLOB_NAME: &str = {:?};\n",
        need.f32s,
        need.i8s.max(1),
        w * h,
        if model.has_decoder() { w * h } else { 0 },
        model.latent_dim(),
        file_name(&blob_path),
    );
    fs::write(out.join("model_consts.rs"), consts).expect("write model_consts.rs");

    // Cortex-M only: the vector table's device-interrupt entries cortex-m-rt links without a
    // device crate (its docs: 32 on ARMv6-M, 240 on ARMv7-M and ARMv8-M Baseline, 480 on
    // ARMv8-M Mainline), for the flash figure on boards whose vector table is apart from the
    // code.
    if !target.starts_with("thumb") {
        return;
    }
    let interrupts = if target.starts_with("thumbv6m") {
        32
    } else if target.starts_with("thumbv8m.main") {
        480
    } else {
        240
    };
    fs::write(
        out.join("target_consts.rs"),
        format!(
            "/// Device-interrupt entries of cortex-m-rt's vector table on this target.\n\
             pub const VECTOR_INTERRUPTS: usize = {interrupts};\n"
        ),
    )
    .expect("write target_consts.rs");
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
