//! The rustls server configurations of both listeners: the gRPC listener (`General.TLS`)
//! and the operations endpoint (`Operations.TLS`).
//!
//! `General.TLS.TLSHandshakeTimeShift`, as Fabric's gRPC server applies it (Go's
//! `tls.Config.Time` set to now minus the shift, core/comm/server.go): client
//! certificates are checked against a clock shifted back by it, so clients whose
//! certificates expired less than the shift ago still connect while they renew them.

use std::sync::Arc;
use std::time::Duration;

use rustls::DistinguishedName;
use rustls::RootCertStore;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};

use crate::config::ServerTls;
use crate::error::Error;

/// ALPN protocol id of HTTP/2, which gRPC clients (grpc-go among them) require.
pub const ALPN_H2: &[u8] = b"h2";

/// Whether and how clients present certificates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// No client certificate is asked for.
    Off,
    /// A certificate is verified when the client presents one.
    Optional,
    /// A client without a verified certificate is refused at the handshake.
    Required,
}

/// How a listener's TLS is set up.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// The configuration section, for errors (`General` or `Operations`).
    pub section: &'static str,
    /// Client certificates, verified against `ServerTls::client_roots_pem`.
    pub client_auth: ClientAuth,
    /// How far back the clock client certificates are judged by is shifted.
    pub time_shift: Duration,
    /// Skip client roots that do not parse instead of refusing the start (the gRPC
    /// listener adds every channel MSP's TLS CAs, which the operator does not list; its
    /// own `ClientRootCAs` are checked with [`check_roots`] first).
    pub lenient_roots: bool,
    /// Advertise HTTP/2 by ALPN (gRPC).
    pub alpn_h2: bool,
}

/// The rustls server configuration of `tls` under `settings`.
pub fn server_config(
    tls: &ServerTls,
    settings: Settings,
) -> Result<Arc<rustls::ServerConfig>, Error> {
    let section = settings.section;
    let config_error = |what: &'static str| {
        move |error: rustls::Error| Error::Config(format!("{section}.TLS: {what}: {error}"))
    };
    let pem_error = |key: &'static str| {
        move |error: rustls::pki_types::pem::Error| {
            Error::Config(format!("{section}.TLS.{key}: {error}"))
        }
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let certs = CertificateDer::pem_slice_iter(&tls.certificate_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(pem_error("Certificate"))?;
    let key =
        PrivateKeyDer::from_pem_slice(&tls.private_key_pem).map_err(pem_error("PrivateKey"))?;
    let builder = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(config_error("protocol versions"))?;
    let builder = match (&tls.client_roots_pem, settings.client_auth) {
        (Some(pem), ClientAuth::Optional | ClientAuth::Required) => {
            let roots = client_roots(pem, settings)?;
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
            let verifier = if settings.client_auth == ClientAuth::Required {
                verifier
            } else {
                verifier.allow_unauthenticated()
            };
            let verifier = verifier
                .build()
                .map_err(|error| Error::Config(format!("{section}.TLS.ClientRootCAs: {error}")))?;
            builder.with_client_cert_verifier(Arc::new(ShiftedClock {
                inner: verifier,
                shift: settings.time_shift,
            }))
        }
        _ => builder.with_no_client_auth(),
    };
    let mut config = builder
        .with_single_cert(certs, key)
        .map_err(config_error("Certificate and PrivateKey"))?;
    if settings.alpn_h2 {
        config.alpn_protocols.push(ALPN_H2.to_vec());
    }
    Ok(Arc::new(config))
}

/// Whether every certificate in `pem` parses as a trust anchor: an error naming `key`.
pub fn check_roots(pem: &[u8], key: &str) -> Result<(), Error> {
    strict_roots(pem, key).map(drop)
}

/// Every certificate of `pem` as a trust anchor, or an error naming `key`.
fn strict_roots(pem: &[u8], key: &str) -> Result<RootCertStore, Error> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(pem) {
        let cert = cert.map_err(|error| Error::Config(format!("{key}: {error}")))?;
        roots
            .add(cert)
            .map_err(|error| Error::Config(format!("{key}: {error}")))?;
    }
    Ok(roots)
}

fn client_roots(pem: &[u8], settings: Settings) -> Result<RootCertStore, Error> {
    let section = settings.section;
    if !settings.lenient_roots {
        return strict_roots(pem, &format!("{section}.TLS.ClientRootCAs"));
    }
    let mut roots = RootCertStore::empty();
    let parsed = CertificateDer::pem_slice_iter(pem).filter_map(Result::ok);
    let (_, skipped) = roots.add_parsable_certificates(parsed);
    if skipped > 0 {
        tracing::warn!(
            skipped,
            "{section}.TLS: client roots that do not parse are skipped"
        );
    }
    Ok(roots)
}

/// A client certificate verifier that judges validity by the clock shifted back.
#[derive(Debug)]
struct ShiftedClock {
    inner: Arc<dyn ClientCertVerifier>,
    shift: Duration,
}

impl ClientCertVerifier for ShiftedClock {
    fn offer_client_auth(&self) -> bool {
        self.inner.offer_client_auth()
    }

    fn client_auth_mandatory(&self) -> bool {
        self.inner.client_auth_mandatory()
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let shifted = UnixTime::since_unix_epoch(
            Duration::from_secs(now.as_secs()).saturating_sub(self.shift),
        );
        self.inner
            .verify_client_cert(end_entity, intermediates, shifted)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}
