//! HTTPS for the backend: a rustls server identity (generated at start or read from PEM files)
//! and the per-connection handshake. After the handshake the same HTTP code serves the stream.

use std::fmt;
use std::io::{self, ErrorKind, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{anyhow, Context};
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

use super::http::{Transport, IDLE_TIMEOUT};
use super::{Event, Phase, Shared};

/// A TLS server identity: certificate chain and key, checked and ready to accept connections.
#[derive(Clone)]
pub struct Tls {
    config: Arc<ServerConfig>,
    certificate: CertificateDer<'static>,
}

impl fmt::Debug for Tls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tls")
            .field("certificate_len", &self.certificate.len())
            .finish_non_exhaustive()
    }
}

impl Tls {
    /// A fresh self-signed ECDSA P-256 certificate for `localhost`, 127.0.0.1, ::1 and the
    /// listen address (when it is not a wildcard); a new key on every start, never stored.
    pub fn self_signed(listen: SocketAddr) -> anyhow::Result<Tls> {
        let mut names = vec!["localhost".to_owned(), "127.0.0.1".to_owned(), "::1".to_owned()];
        let ip = listen.ip().to_canonical();
        if !ip.is_unspecified() && !ip.is_loopback() {
            names.push(ip.to_string());
        }
        let mut params = rcgen::CertificateParams::new(names).context("naming the self-signed certificate")?;
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "graceline backend");
        let key = rcgen::KeyPair::generate().context("generating the TLS key")?;
        let cert = params
            .self_signed(&key)
            .context("signing the self-signed certificate")?;
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        Tls::new(vec![cert.der().clone()], key).context("loading the self-signed certificate")
    }

    /// Reads a PEM certificate chain (leaf first) and its PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub fn from_pem_files(cert: &Path, key: &Path) -> anyhow::Result<Tls> {
        let chain = CertificateDer::pem_file_iter(cert)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .map_err(|e| pem_error(cert, "--tls-cert", "certificate (-----BEGIN CERTIFICATE-----)", e))?;
        if chain.is_empty() {
            let e = pem::Error::NoItemsFound;
            return Err(pem_error(
                cert,
                "--tls-cert",
                "certificate (-----BEGIN CERTIFICATE-----)",
                e,
            ));
        }
        let private = PrivateKeyDer::from_pem_file(key)
            .map_err(|e| pem_error(key, "--tls-key", "private key (-----BEGIN PRIVATE KEY-----)", e))?;
        Tls::new(chain, private).map_err(|e| {
            anyhow!(
                "{}: field `--tls-key`: does not fit the certificate in {}: {e:#}",
                key.display(),
                cert.display()
            )
        })
    }

    fn new(chain: Vec<CertificateDer<'static>>, key: PrivateKeyDer<'static>) -> anyhow::Result<Tls> {
        let certificate = chain
            .first()
            .cloned()
            .ok_or_else(|| anyhow!("empty certificate chain"))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(rustls::ALL_VERSIONS)?
            .with_no_client_auth()
            .with_single_cert(chain, key)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Tls {
            config: Arc::new(config),
            certificate,
        })
    }

    /// The leaf certificate (DER) that clients must trust to verify this backend.
    pub fn certificate(&self) -> &CertificateDer<'static> {
        &self.certificate
    }
}

/// One-line error for an unusable PEM file.
fn pem_error(path: &Path, flag: &str, wanted: &str, e: pem::Error) -> anyhow::Error {
    let what = match e {
        pem::Error::Io(e) => format!("cannot read: {e}"),
        pem::Error::NoItemsFound => format!("no PEM {wanted} found"),
        pem::Error::MissingSectionEnd { end_marker } => {
            format!(
                "PEM section without its -----END {}----- line",
                String::from_utf8_lossy(&end_marker)
            )
        }
        pem::Error::IllegalSectionStart { line } => {
            format!("malformed PEM line {:?}", String::from_utf8_lossy(&line))
        }
        pem::Error::Base64Decode(e) => format!("bad base64 in a PEM section: {e}"),
        other => format!("unusable PEM: {other:?}"),
    };
    anyhow!("{}: field `{flag}`: {what}", path.display())
}

/// An established TLS connection served by the HTTP code.
pub(super) type TlsStream = StreamOwned<ServerConnection, TcpStream>;

impl Transport for TlsStream {
    fn close_write(&mut self) -> io::Result<()> {
        self.conn.send_close_notify();
        self.flush()?;
        self.sock.shutdown(Shutdown::Write)
    }
}

/// Completes the server handshake on `sock` (which already has its read poll timeout).
/// A failed handshake is logged as `tls_handshake_failed` with the peer and the reason and the
/// connection is closed (with a TLS alert when the peer spoke something TLS-like); nothing else
/// happens, so plain HTTP or a TCP-only health check on the TLS port cannot disturb the server.
pub(super) fn handshake(mut sock: TcpStream, peer: SocketAddr, tls: &Tls, shared: &Shared) -> Option<TlsStream> {
    let mut conn = match ServerConnection::new(Arc::clone(&tls.config)) {
        Ok(conn) => conn,
        Err(e) => {
            log_failure(shared, peer, e.to_string());
            return None;
        }
    };
    let since = Instant::now();
    while conn.is_handshaking() {
        if shared.phase() == Phase::Done {
            return None;
        }
        if since.elapsed() >= IDLE_TIMEOUT {
            log_failure(shared, peer, "timed out waiting for the handshake".to_owned());
            return None;
        }
        match conn.complete_io(&mut sock) {
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) => {}
            Err(e) => {
                log_failure(shared, peer, describe(&e));
                return None;
            }
        }
    }
    Some(StreamOwned::new(conn, sock))
}

/// Short reason of a handshake I/O error for the log.
fn describe(e: &io::Error) -> String {
    match e.kind() {
        ErrorKind::UnexpectedEof => "connection closed during the handshake".to_owned(),
        ErrorKind::InvalidData => match e.get_ref() {
            Some(inner) => inner.to_string(),
            None => e.to_string(),
        },
        _ => e.to_string(),
    }
}

fn log_failure(shared: &Shared, peer: SocketAddr, error: String) {
    shared.record(|phase| {
        if phase == Phase::Done {
            return (None, ());
        }
        (Some(Event::TlsHandshakeFailed { peer, error, phase }), ())
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::client::danger::ServerCertVerifier;
    use rustls::client::WebPkiServerVerifier;
    use rustls::pki_types::{ServerName, UnixTime};
    use rustls::RootCertStore;
    use std::path::PathBuf;

    /// Whether a client trusting exactly `tls`'s certificate accepts it for `name`.
    fn valid_for(tls: &Tls, name: &str) -> bool {
        let mut roots = RootCertStore::empty();
        roots.add(tls.certificate().clone()).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .unwrap();
        let name = ServerName::try_from(name.to_owned()).unwrap();
        verifier
            .verify_server_cert(tls.certificate(), &[], &name, &[], UnixTime::now())
            .is_ok()
    }

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/tls")
            .join(name)
    }

    #[test]
    fn self_signed_names_localhost_loopback_and_the_listen_address() {
        let tls = Tls::self_signed("192.0.2.7:8443".parse().unwrap()).unwrap();
        for name in ["localhost", "127.0.0.1", "::1", "192.0.2.7"] {
            assert!(valid_for(&tls, name), "{name}");
        }
        for name in ["192.0.2.8", "example.com", "0.0.0.0"] {
            assert!(!valid_for(&tls, name), "{name}");
        }
        let wildcard = Tls::self_signed("0.0.0.0:443".parse().unwrap()).unwrap();
        assert!(valid_for(&wildcard, "localhost"));
        assert!(!valid_for(&wildcard, "0.0.0.0"));
        let other = Tls::self_signed("[::]:443".parse().unwrap()).unwrap();
        assert_ne!(other.certificate(), wildcard.certificate(), "a fresh key every start");
    }

    #[test]
    fn pem_files_load_and_verify() {
        let tls = Tls::from_pem_files(&fixture("cert.pem"), &fixture("key.pem")).unwrap();
        assert!(valid_for(&tls, "localhost"));
        assert!(valid_for(&tls, "127.0.0.1"));
    }

    #[test]
    fn unusable_pem_files_name_the_file_and_the_flag() {
        let err = |cert: &Path, key: &Path| format!("{:#}", Tls::from_pem_files(cert, key).unwrap_err());
        let (cert, key, other) = (fixture("cert.pem"), fixture("key.pem"), fixture("other-key.pem"));
        let missing = fixture("missing.pem");
        let e = err(&missing, &key);
        assert!(
            e.starts_with(&format!("{}: field `--tls-cert`: cannot read", missing.display())),
            "{e}"
        );
        let e = err(&cert, &missing);
        assert!(
            e.starts_with(&format!("{}: field `--tls-key`: cannot read", missing.display())),
            "{e}"
        );
        let e = err(&key, &key);
        assert!(e.contains("field `--tls-cert`: no PEM certificate"), "{e}");
        let e = err(&cert, &cert);
        assert!(e.contains("field `--tls-key`: no PEM private key"), "{e}");
        let e = err(&cert, &other);
        assert!(
            e.starts_with(&format!("{}: field `--tls-key`: does not fit", other.display())),
            "{e}"
        );
        let dir = tempfile::tempdir().unwrap();
        let cut = dir.path().join("cut.pem");
        std::fs::write(&cut, "-----BEGIN CERTIFICATE-----\nMIIB\n").unwrap();
        let e = err(&cut, &key);
        assert!(e.contains("without its -----END CERTIFICATE----- line"), "{e}");
        assert_eq!(e.lines().count(), 1, "{e}");
    }
}
