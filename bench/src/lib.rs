//! flowscope-bench as a library: the trace generator ([`traffic`]) and the
//! replay benchmark ([`run`]), shared by the `flowscope-bench` binary, the
//! micro-benchmarks (`benches/hot_paths.rs`) and the integration tests.

pub mod run;
pub mod traffic;
