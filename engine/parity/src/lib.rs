//! flowscope-parity: no library code, only a test. `tests/parity.rs` runs
//! the same parsers under flowscope's session API (`flowscope-engine`'s
//! `Sessions`) and under the `flowscope` 0.3.0 crate's drivers over the
//! shared capture corpus, and requires every difference between the two
//! to be one of the named, documented exceptions (docs/parity.md).
