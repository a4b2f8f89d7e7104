//! `pse-runtime`: heap-free, panic-free inference for PSE / PSE* models.
#![no_std]
#![forbid(unsafe_code)]

pub mod gaussian;
