//! graceline: does a load balancer stop routing new requests to a gracefully shutting-down server
//! before the server stops listening? Exact per-provider answers from a discrete-event model.

#![warn(missing_docs)]

pub mod analysis;
pub mod backend;
pub mod calibrate;
pub mod cli;
pub mod error;
pub mod input;
pub mod output;
pub mod paths;
pub mod profiles;
pub mod provider;
pub mod scenario;
pub mod sim;
pub mod time;
pub mod timeline;
