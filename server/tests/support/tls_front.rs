//! A TLS terminator in front of the local broker. tansu 0.6.0 takes `--cert`/`--key` but
//! never wraps its connections in TLS (its acceptor is built and dropped), so a test of
//! `Kafka.TLS` puts this in front: the broker advertises the front's address, every
//! connection a client makes reaches it through TLS (rustls; the client is the orderer's
//! librdkafka and OpenSSL), with the client's certificate required and checked against a
//! given root, and the bytes are relayed to the broker's plain port.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use rustls::RootCertStore;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

/// What the front has seen.
#[derive(Debug, Default)]
pub struct FrontCounts {
    /// Handshakes completed (the client trusted us and we trusted its certificate).
    pub handshakes: AtomicU64,
    /// Handshakes that failed, either side refusing.
    pub refused: AtomicU64,
}

/// A running front; stops when dropped.
pub struct TlsFront {
    pub counts: Arc<FrontCounts>,
    task: JoinHandle<()>,
}

impl TlsFront {
    /// Serves TLS on `listener` as `cert_pem`/`key_pem`, requiring client certificates
    /// that chain to `client_root_pem`, and relays each connection to `upstream`.
    pub fn start(
        listener: TcpListener,
        cert_pem: &str,
        key_pem: &str,
        client_root_pem: &str,
        upstream: String,
    ) -> Self {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_slice(client_root_pem.as_bytes()).unwrap())
            .unwrap();
        let verifier =
            WebPkiClientVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider))
                .build()
                .unwrap();
        let certs = CertificateDer::pem_slice_iter(cert_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).unwrap();
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_client_cert_verifier(verifier)
            .with_single_cert(certs, key)
            .unwrap();
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let counts = Arc::new(FrontCounts::default());
        let seen = Arc::clone(&counts);
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                let upstream = upstream.clone();
                let seen = Arc::clone(&seen);
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(socket).await else {
                        seen.refused.fetch_add(1, Ordering::Relaxed);
                        return;
                    };
                    seen.handshakes.fetch_add(1, Ordering::Relaxed);
                    if let Ok(mut broker) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut tls, &mut broker).await;
                    }
                });
            }
        });
        Self { counts, task }
    }

    pub fn handshakes(&self) -> u64 {
        self.counts.handshakes.load(Ordering::Relaxed)
    }

    pub fn refused(&self) -> u64 {
        self.counts.refused.load(Ordering::Relaxed)
    }
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        self.task.abort();
    }
}
