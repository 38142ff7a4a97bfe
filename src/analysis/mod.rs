//! Analyses built on the model: exact extremes and findings.

pub mod exact;
