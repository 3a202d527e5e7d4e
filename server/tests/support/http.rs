//! A small HTTP/1.1 client for the operations endpoint, plain or over TLS (rustls): one
//! request per connection.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

/// Writes the request, reads the whole response; the status code (0 when there was no
/// status line) and the body.
fn exchange(
    stream: &mut impl ReadWrite,
    address: &str,
    method: &str,
    path: &str,
    body: &str,
) -> std::io::Result<(u16, String)> {
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    stream.flush()?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    Ok((status, body.to_string()))
}

trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

fn connect(address: &str) -> TcpStream {
    let stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
}

/// `method path` with `body` to `address` (`host:port`); the status code and the body.
pub fn request(address: &str, method: &str, path: &str, body: &str) -> (u16, String) {
    exchange(&mut connect(address), address, method, path, body).unwrap()
}

pub fn get(address: &str, path: &str) -> (u16, String) {
    request(address, "GET", path, "")
}

/// An HTTPS client: the roots it trusts, and its certificate and key if it has one.
pub struct Https {
    config: Arc<rustls::ClientConfig>,
}

impl Https {
    pub fn new(root_pem: &str, identity: Option<(&str, &str)>) -> Self {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_slice(root_pem.as_bytes()).unwrap())
            .unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots);
        let config = match identity {
            Some((cert_pem, key_pem)) => builder
                .with_client_auth_cert(
                    vec![CertificateDer::from_pem_slice(cert_pem.as_bytes()).unwrap()],
                    PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).unwrap(),
                )
                .unwrap(),
            None => builder.with_no_client_auth(),
        };
        Self {
            config: Arc::new(config),
        }
    }

    /// `GET path` from `address` (an IP address and port, as the server's certificate
    /// names it); an error when the handshake or the exchange fails.
    pub fn get(&self, address: &str, path: &str) -> Result<(u16, String), String> {
        self.request(address, "GET", path)
    }

    /// `method path` (no body) to `address`, as [`Https::get`].
    pub fn request(
        &self,
        address: &str,
        method: &str,
        path: &str,
    ) -> Result<(u16, String), String> {
        let host = address.rsplit_once(':').map_or(address, |(host, _)| host);
        let name = ServerName::try_from(host.to_string()).map_err(|e| e.to_string())?;
        let connection = rustls::ClientConnection::new(Arc::clone(&self.config), name)
            .map_err(|e| e.to_string())?;
        let mut stream = rustls::StreamOwned::new(connection, connect(address));
        exchange(&mut stream, address, method, path, "").map_err(|e| e.to_string())
    }
}

/// The value of the series `series` (name and labels, as written) in a `/metrics` body.
pub fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|value| value.trim().parse().ok())
}

/// The address the operations endpoint of `process` listens on, from its log.
pub fn operations_address(process: &super::process::Process) -> String {
    let line = process.wait_for_log("operations endpoint listening on ");
    line.split("operations endpoint listening on ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap()
        .to_string()
}
