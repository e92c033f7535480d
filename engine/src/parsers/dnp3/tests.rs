//! Unit tests of the DNP3 parser.
use super::*;
