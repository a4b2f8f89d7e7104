//! Enables the Cortex-M DSP kernel (`src/simd.rs`, module `arm`) on targets that have the
//! ARMv7E-M DSP extension (`SXTB16`, `SMLAD`): `thumbv7em-*` (Cortex-M4, Cortex-M7).
//! Stable Rust does not expose Arm target features to `cfg`, hence the target name.
//! `PSE_RUNTIME_NO_DSP=1` at build time keeps the portable kernel (for comparisons).

fn main() {
    println!("cargo::rustc-check-cfg=cfg(pse_arm_dsp)");
    println!("cargo::rerun-if-env-changed=PSE_RUNTIME_NO_DSP");
    let target = std::env::var("TARGET").unwrap_or_default();
    let opted_out = std::env::var_os("PSE_RUNTIME_NO_DSP").is_some_and(|v| v != "0");
    if target.starts_with("thumbv7em") && !opted_out {
        println!("cargo::rustc-cfg=pse_arm_dsp");
    }
}
