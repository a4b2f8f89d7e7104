//! Enables the Cortex-M kernels of `src/simd/`:
//! - `pse_arm_dsp` (module `arm`) on targets with the ARMv7E-M DSP extension (`SXTB16`,
//!   `SMLAD`): `thumbv7em-*` (Cortex-M4, Cortex-M7);
//! - `pse_arm_mve` (module `mve`) on `thumbv8m.main-*` built for a core with Helium (M-profile
//!   vector extension): `-C target-cpu=cortex-m55` or `cortex-m85`, or
//!   `-C target-feature=+mve`, in the build's RUSTFLAGS.
//!
//! Stable Rust does not expose Arm M-profile target features to `cfg`, hence the target name
//! and the flags. `PSE_RUNTIME_NO_DSP=1` at build time keeps the portable kernels (for
//! comparisons).

fn main() {
    println!("cargo::rustc-check-cfg=cfg(pse_arm_dsp)");
    println!("cargo::rustc-check-cfg=cfg(pse_arm_mve)");
    println!("cargo::rerun-if-env-changed=PSE_RUNTIME_NO_DSP");
    let target = std::env::var("TARGET").unwrap_or_default();
    let opted_out = std::env::var_os("PSE_RUNTIME_NO_DSP").is_some_and(|v| v != "0");
    if opted_out {
        return;
    }
    if target.starts_with("thumbv7em") {
        println!("cargo::rustc-cfg=pse_arm_dsp");
    }
    let flags = std::env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    let helium = flags.split('\x1f').any(|f| {
        f.contains("target-cpu=cortex-m55")
            || f.contains("target-cpu=cortex-m85")
            || (f.contains("target-feature=") && f.contains("+mve"))
    });
    if target.starts_with("thumbv8m.main") && helium {
        println!("cargo::rustc-cfg=pse_arm_mve");
    }
}
