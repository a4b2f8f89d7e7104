//! The command line: the host-side commands that use the runtime (export, score, annotate, generate, enroll).

pub mod host_commands;
