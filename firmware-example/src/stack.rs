//! Peak stack use. The stack region is filled with [`PAINT`] before `main` runs
//! (cortex-m-rt's `paint-stack` on Cortex-M, the entry point on RISC-V); the lowest word that
//! no longer holds it marks the deepest the stack has been. [`repaint`] paints the unused part
//! again so that the next phase can be measured on its own.

use crate::arch::{STACK_PAINT as PAINT, stack_bounds as bounds, stack_pointer};

/// Bytes of stack used at the deepest point since reset or the last [`repaint`].
pub fn peak() -> usize {
    let (end, start) = bounds();
    let mut p = end;
    while p < start {
        // SAFETY: `p` is 4-aligned (cortex-m-rt and riscv-rt align the bottom of the stack)
        // and inside the stack region, which is RAM this program owns; reading it has no side
        // effects.
        if unsafe { core::ptr::read_volatile(p as *const u32) } != PAINT {
            break;
        }
        p += 4;
    }
    start - p
}

/// Paints the stack below the caller's frame again (from the bottom of the stack region up
/// to a safety margin under the current stack pointer).
#[inline(never)]
pub fn repaint() {
    const MARGIN: usize = 64;
    let (end, _) = bounds();
    let sp = stack_pointer();
    let top = sp.saturating_sub(MARGIN) & !3;
    let mut p = end;
    while p < top {
        // SAFETY: `[end, top)` lies below the live stack (nothing is stored under the stack
        // pointer: no interrupt is enabled, and this loop keeps its state in registers), and
        // above every static, so no live data is overwritten.
        unsafe { core::ptr::write_volatile(p as *mut u32, PAINT) };
        p += 4;
    }
}
