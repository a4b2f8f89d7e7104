//! The command line: one module per command (its arguments and its work), and what they
//! share; `main.rs` only parses and dispatches.

pub mod annotate;
pub mod bench;
pub mod calibrate;
pub mod common;
pub mod compare;
pub mod enroll;
pub mod evaluate;
pub mod export;
pub mod generate;
pub mod inspect;
pub mod judge;
pub mod ood;
pub mod plot;
pub mod score;
pub mod summarize;
pub mod train;
