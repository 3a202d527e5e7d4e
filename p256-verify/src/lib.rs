//! ECDSA P-256 verification with precomputed tables (work in progress).
#![forbid(unsafe_code)]
