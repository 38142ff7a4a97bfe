//! What every module of the integration tests shares: the real binary with a clean environment,
//! fixture paths, JSON and PNG readers, the SARIF schema, and a rustls client for
//! `graceline backend --tls`.

use assert_cmd::Command;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The repository root: the tests' working directory, against which relative fixture paths and
/// the paths in outputs are written.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `tests/fixtures/<rel>` as an absolute path.
pub fn fixture(rel: &str) -> PathBuf {
    root().join("tests/fixtures").join(rel)
}

/// `tests/fixtures/<rel>` as an absolute path string, for argument lists.
pub fn fixture_abs(rel: &str) -> String {
    fixture(rel).display().to_string()
}

/// `tests/fixtures/<rel>` relative to the repository root, the working directory of
/// [`graceline`]: outputs then name the file exactly so.
pub fn fixture_rel(rel: &str) -> String {
    format!("tests/fixtures/{rel}")
}

/// The environment variables graceline reads besides its arguments: the terminal's width and
/// colour (`COLUMNS`, `NO_COLOR`), the shell asking for completions (`COMPLETE`) and the
/// variables the corpus's haproxy.cfg files expand.
const CALLER_ENV: [&str; 8] = [
    "COLUMNS",
    "NO_COLOR",
    "COMPLETE",
    "CHECK_INTER",
    "CHECK_TIMEOUT",
    "SLOW_CHECKS",
    "SINGLE_NODE",
    "CLUSTER_SIZE",
];

/// The real `graceline` binary, run from the repository root without the caller's `CALLER_ENV`
/// variables, so no test depends on the shell it was started from.
pub fn graceline() -> Command {
    let mut c = Command::cargo_bin("graceline").unwrap();
    c.current_dir(root());
    for v in CALLER_ENV {
        c.env_remove(v);
    }
    c
}

/// `graceline check --format json ARGS`, asserting exit code `code`.
pub fn check_json(args: &[&str], code: i32) -> Value {
    let out = graceline()
        .args(["check", "--format", "json"])
        .args(args)
        .assert()
        .code(code)
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice(&out).unwrap()
}

/// A fixture of `tests/fixtures/inputs/kubernetes-paths/`, as the repository-relative path the
/// tests pass to the binary.
pub fn k8s_fixture(name: &str) -> String {
    format!("tests/fixtures/inputs/kubernetes-paths/{name}")
}

/// The rule ids of a JSON object's `findings` (a path report's, or a list of findings itself).
pub fn rules_of(v: &Value) -> Vec<String> {
    v.get("findings")
        .unwrap_or(v)
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

/// The standard output of `cmd` as JSON, asserting exit code 0.
pub fn json_ok(cmd: &mut Command) -> Value {
    let out = cmd.assert().code(0).get_output().stdout.clone();
    serde_json::from_slice(&out).unwrap()
}

/// The standard output of `cmd`, whatever its exit code.
pub fn stdout(cmd: &mut Command) -> String {
    String::from_utf8(cmd.output().unwrap().stdout).unwrap()
}

/// The standard output of `graceline ARGS`, asserting exit code 0.
pub fn stdout_ok(args: &[&str]) -> String {
    let out = graceline().args(args).assert().code(0).get_output().stdout.clone();
    String::from_utf8(out).unwrap()
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Where the OASIS SARIF 2.1.0 (errata01) JSON schema (tests/fixtures/sarif-schema-2.1.0.json,
/// copied from shared/data/sarif-schema-2.1.0.json) rejects `v`, one line per error.
pub fn sarif_schema_errors(v: &Value) -> Vec<String> {
    let schema: Value = serde_json::from_str(include_str!("../fixtures/sarif-schema-2.1.0.json")).unwrap();
    jsonschema::draft4::new(&schema)
        .unwrap()
        .iter_errors(v)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

/// Decodes the PNG at `path`: its header and pixel bytes.
pub fn decode_png(path: &Path) -> (png::OutputInfo, Vec<u8>) {
    let decoder = png::Decoder::new(std::fs::File::open(path).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    (info, buf)
}

/// A verifier that accepts any certificate but still checks the handshake signatures: the
/// `--tls` certificate is generated inside the process under test, so nothing can trust it ahead.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algs = &self.0.signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(message, cert, dss, algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algs = &self.0.signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(message, cert, dss, algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// A client that trusts the certificates in the PEM file `trust`, or any certificate without it.
pub fn tls_client(trust: Option<&Path>) -> Arc<ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .unwrap();
    let config = match trust {
        Some(pem) => {
            let mut roots = RootCertStore::empty();
            for cert in CertificateDer::pem_file_iter(pem).unwrap() {
                roots.add(cert.unwrap()).unwrap();
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        None => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
            .with_no_client_auth(),
    };
    Arc::new(config)
}

/// Shared by the tests that time a real server (real HAProxy, real nginx: they run side by side
/// as before) and held alone by the one that runs headless Chromium, whose bursts of load on the
/// 2-core CI machine would stretch those timings (a request sent 11 ms before E3 then reached the
/// closed port): Chromium never runs beside them.
static TIMING: std::sync::RwLock<()> = std::sync::RwLock::new(());

/// For a test that times a real server (see [`TIMING`]).
pub fn timing_shared() -> std::sync::RwLockReadGuard<'static, ()> {
    // A test that panicked while holding it leaves nothing to repair.
    TIMING.read().unwrap_or_else(|e| e.into_inner())
}

/// For a test that loads the machine in bursts (see [`TIMING`]).
pub fn timing_exclusive() -> std::sync::RwLockWriteGuard<'static, ()> {
    TIMING.write().unwrap_or_else(|e| e.into_inner())
}

/// Random fixed-rate probe models (interval, timeout, threshold, probers, view flags and a
/// propagation range), shared by the simulator and Monte Carlo property tests.
pub fn fixed_rate_strategy() -> impl proptest::strategy::Strategy<Value = graceline::provider::ProbeModel> {
    use graceline::provider::{ProbeModel, Propagation, Schedule};
    use graceline::timeline::ProbeView;
    use proptest::prelude::*;
    fn ms(x: i64) -> graceline::time::Micros {
        graceline::time::Micros::from_millis(x)
    }
    (
        100i64..20_000,
        1i64..=200,
        1u32..6,
        1u32..4,
        prop::bool::ANY,
        (0i64..5_000, 0i64..3_000),
        0u8..8,
    )
        .prop_map(|(i, tpct, u, n, sees, (prop_ms, prop_extra), flags)| ProbeModel {
            schedule: Schedule::FixedRate { interval: ms(i) },
            view: ProbeView {
                sees_readiness: sees,
                timeout: ms((i * tpct / 100).max(25)),
                timeout_min: ms((i * tpct / 100).max(25)),
                accepts_readyz_error: flags & 1 != 0,
                fails_on_retry_after: flags & 2 != 0,
            },
            threshold: u,
            rise: 2,
            probers: n,
            // A propagation range: the exact best takes `lo`, the worst and the simulator `hi`.
            propagation: Propagation {
                lo: ms(prop_ms),
                hi: ms(prop_ms + prop_extra),
            },
            answered_marks_down: flags & 4 != 0,
        })
}
