//! graceline's integration tests: one test binary (`cargo test --test it`), one module per
//! subject, all on the shared [`support`] module (the real binary, fixture paths, JSON and PNG
//! readers).
//!
//! - `cmd`: the command-line cases of `tests/cmd/` (arguments, exit code and the whole expected
//!   output in files, tests/cmd/README.md), run by trycmd.
//! - `golden`: the hand-worked scenarios of `tests/golden/*.toml`, each checked against the
//!   figures written in its `#>` lines (tests/golden/README.md).
//! - `cli*`, `corpus_cli`, `inputs_cli`, `golden_ci`, `reports`, `timeline`: the real binary
//!   where a test checks more than text (JSON fields, SARIF against its schema, PNG pixels,
//!   servers over TLS, files written or left alone).
//! - `prop_*`: property tests (proptest reads and writes the seeds of past failures in
//!   `tests/proptest-regressions/<module>.txt`, where it looks for a module under `tests/it/`).
//! - `haproxy_real`, `nginx_real`: the model against a real HAProxy 2.6 and a real nginx 1.22;
//!   `nginx_cli`: nginx configurations through the binary, every format.
//! - `report_html`: the HTML report rendered in headless Chromium.
//! - `one_model`: a Service's load balancer and its pods' Kubernetes paths as one result.
//! - `paths_fixed`: the Kubernetes paths as Kubernetes runs them, each case with its source.
//! - `paths_added`: issue 16's path families (Gateway API, Istio, Cilium, DNS, MetalLB, kubelet
//!   terminations, `[paths.stages]`, `calibrate --path`), each golden case worked by hand.
//! - `rules`: `graceline rules`, the README rule section and SARIF helpUri from the rule table.
//! - `scenario_uncertainty`: the scenario keys that describe uncertainty.
//! - `suppress`: inline suppressions, annotations, `[[ignore]]` and baselines.
//!
//! Run one module with `cargo test --test it cli_paths::`, one test by its name.

mod support;

mod cli;
mod cli_ci;
mod cli_paths;
mod cli_pipeline;
mod cli_simulate;
mod cli_terminal;
mod cmd;
mod corpus_cli;
mod fix_diff;
mod golden;
mod golden_ci;
mod haproxy_real;
mod inputs_cli;
mod manual;
mod nginx_cli;
mod nginx_real;
mod one_model;
mod paths_added;
mod paths_fixed;
mod prop_advice;
mod prop_inputs;
mod prop_loader;
mod prop_montecarlo;
mod prop_paths;
mod prop_readers;
mod prop_sim;
mod readme;
mod report_html;
mod reports;
mod rules;
mod scenario_uncertainty;
mod set;
mod suppress;
mod timeline;
mod walk;
