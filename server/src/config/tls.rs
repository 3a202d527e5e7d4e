//! `General.TLS` (the gRPC listener) and `Operations.TLS` (the operations endpoint), as
//! Fabric's orderer configures them. Files are PEM; a YAML list or an environment value
//! such as `[/a/ca.pem,/b/ca.pem]` names several.

use std::path::{Path, PathBuf};

use crate::error::Error;

/// The listener a [`TlsConfig`] is for: its keys' section, and when client roots count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// `General.TLS`: client roots are read only for mutual TLS, as Fabric's gRPC server.
    General,
    /// `Operations.TLS`: client roots are read whenever TLS is on (Fabric verifies a client
    /// certificate if one is given, and requires one for `/metrics` and `/logspec`).
    Operations,
}

impl Section {
    fn name(self) -> &'static str {
        match self {
            Self::General => "General",
            Self::Operations => "Operations",
        }
    }
}

/// `General.TLS` or `Operations.TLS`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsConfig {
    /// `General.TLS.Enabled`.
    pub enabled: bool,
    /// `General.TLS.PrivateKey`: the server's key.
    pub private_key: Option<PathBuf>,
    /// `General.TLS.Certificate`: the server's certificate (chain).
    pub certificate: Option<PathBuf>,
    /// `General.TLS.RootCAs`: roots this node trusts as a client (Fabric uses them for
    /// connections to other orderers; this orderer makes none, so they are only checked).
    pub root_cas: Vec<PathBuf>,
    /// `General.TLS.ClientAuthRequired` (v1.0 name: `ClientAuthEnabled`): mutual TLS.
    pub client_auth_required: bool,
    /// `General.TLS.ClientRootCAs`: the roots client certificates must chain to.
    pub client_root_cas: Vec<PathBuf>,
    /// `General.TLS.TLSHandshakeTimeShift`: client certificates are judged by the clock
    /// shifted back by this much (0: the clock as it is).
    pub handshake_time_shift: std::time::Duration,
}

/// What the listener serves with: PEM bytes read from the configured files.
#[derive(Clone, PartialEq, Eq)]
pub struct ServerTls {
    /// The server's certificate chain.
    pub certificate_pem: Vec<u8>,
    /// The server's private key.
    pub private_key_pem: Vec<u8>,
    /// The roots client certificates must chain to.
    pub client_roots_pem: Option<Vec<u8>>,
    /// Clients must present a certificate (that chains to `client_roots_pem`).
    pub client_auth_required: bool,
    /// Client certificates are judged by the clock shifted back by this much.
    pub handshake_time_shift: std::time::Duration,
}

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerTls")
            .field("certificate_bytes", &self.certificate_pem.len())
            .field("private_key", &"<redacted>")
            .field("client_roots", &self.client_roots_pem.is_some())
            .field("client_auth_required", &self.client_auth_required)
            .field("handshake_time_shift", &self.handshake_time_shift)
            .finish()
    }
}

/// The file list of a list key: `a,b` (a YAML list) or `[a, b]` (Fabric's environment form).
pub fn path_list(value: &str) -> Vec<PathBuf> {
    value
        .trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .split(',')
        .map(str::trim)
        .filter(|path| !path.is_empty())
        .map(PathBuf::from)
        .collect()
}

/// Sets a `General.TLS.*` or `Operations.TLS.*` key.
pub fn set(tls: &mut TlsConfig, key: &str, value: &str) -> Result<(), String> {
    let path = || (!value.is_empty()).then(|| PathBuf::from(value));
    let name = key.split_once(".TLS.").map_or(key, |(_, name)| name);
    match name {
        "Enabled" => tls.enabled = super::boolean(value)?,
        "PrivateKey" => tls.private_key = path(),
        "Certificate" => tls.certificate = path(),
        "RootCAs" => tls.root_cas = path_list(value),
        "ClientAuthRequired" | "ClientAuthEnabled" => {
            tls.client_auth_required = super::boolean(value)?;
        }
        "ClientRootCAs" => tls.client_root_cas = path_list(value),
        "TLSHandshakeTimeShift" => {
            // Fabric applies only a positive shift (core/comm/server.go): a negative
            // duration is valid and does nothing.
            let negative = value.strip_prefix('-');
            let shift = match negative.unwrap_or(value) {
                "" if negative.is_none() => std::time::Duration::ZERO,
                magnitude => {
                    magnitude
                        .parse::<engine::config::GoDuration>()
                        .map_err(|error| error.to_string())?
                        .0
                }
            };
            tls.handshake_time_shift = if negative.is_some() {
                std::time::Duration::ZERO
            } else {
                shift
            };
        }
        _ => return Err("unknown key".into()),
    }
    Ok(())
}

fn read(key: &str, path: &Path) -> Result<Vec<u8>, Error> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        action: format!("read {key} {}", path.display()),
        source,
    })?;
    if !String::from_utf8_lossy(&bytes).contains("-----BEGIN") {
        return Err(Error::Config(format!(
            "{key} {} is not PEM",
            path.display()
        )));
    }
    Ok(bytes)
}

fn read_all(key: &str, paths: &[PathBuf]) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    for path in paths {
        out.extend(read(key, path)?);
        out.push(b'\n');
    }
    Ok(out)
}

impl TlsConfig {
    /// The files read, when TLS is on; a missing setting or file is an error naming the
    /// key, as Fabric's orderer stops on it.
    pub fn load(&self, section: Section) -> Result<Option<ServerTls>, Error> {
        if !self.enabled {
            return Ok(None);
        }
        let key = |name: &str| format!("{}.TLS.{name}", section.name());
        let required = |name: &str, path: &Option<PathBuf>| {
            path.clone().ok_or_else(|| {
                Error::Config(format!(
                    "{} is true but {} is not set",
                    key("Enabled"),
                    key(name)
                ))
            })
        };
        let certificate = required("Certificate", &self.certificate)?;
        let private_key = required("PrivateKey", &self.private_key)?;
        read_all(&key("RootCAs"), &self.root_cas)?;
        // The gRPC listener also trusts the channel MSPs' TLS CAs (added when it starts).
        if self.client_auth_required
            && self.client_root_cas.is_empty()
            && section == Section::Operations
        {
            return Err(Error::Config(format!(
                "{} is true but {} names no file",
                key("ClientAuthRequired"),
                key("ClientRootCAs")
            )));
        }
        let read_roots = self.client_auth_required
            || (section == Section::Operations && !self.client_root_cas.is_empty());
        let client_roots_pem = if read_roots {
            Some(read_all(&key("ClientRootCAs"), &self.client_root_cas)?)
        } else {
            None
        };
        Ok(Some(ServerTls {
            certificate_pem: read(&key("Certificate"), &certificate)?,
            private_key_pem: read(&key("PrivateKey"), &private_key)?,
            client_roots_pem,
            client_auth_required: self.client_auth_required,
            handshake_time_shift: self.handshake_time_shift,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_take_fabric_environment_and_yaml_forms() {
        assert_eq!(
            path_list("[/a/ca.pem, /b/ca.pem]"),
            vec![PathBuf::from("/a/ca.pem"), PathBuf::from("/b/ca.pem")]
        );
        assert_eq!(path_list("/a/ca.pem"), vec![PathBuf::from("/a/ca.pem")]);
        assert!(path_list("").is_empty());
    }

    /// A file that looks like PEM, in a directory that lives as long as the guard.
    fn pem_file() -> (tempfile::TempDir, String) {
        let dir = tempfile::tempdir().unwrap();
        let pem = dir.path().join("x.pem");
        std::fs::write(
            &pem,
            "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let at = pem.display().to_string();
        (dir, at)
    }

    #[test]
    fn enabled_tls_needs_its_files_and_mutual_tls_its_roots() {
        let mut tls = TlsConfig::default();
        assert_eq!(tls.load(Section::General).unwrap(), None);
        set(&mut tls, "General.TLS.Enabled", "true").unwrap();
        let error = tls.load(Section::General).unwrap_err().to_string();
        assert!(error.contains("General.TLS.Certificate"), "{error}");
        let (_dir, at) = pem_file();
        set(&mut tls, "General.TLS.Certificate", &at).unwrap();
        set(&mut tls, "General.TLS.PrivateKey", &at).unwrap();
        assert!(
            tls.load(Section::General)
                .unwrap()
                .unwrap()
                .client_roots_pem
                .is_none()
        );
        set(&mut tls, "General.TLS.ClientAuthRequired", "true").unwrap();
        // Channel MSPs may name the client roots (checked when the listener starts).
        assert!(tls.load(Section::General).is_ok());
        let error = tls.load(Section::Operations).unwrap_err().to_string();
        assert!(error.contains("Operations.TLS.ClientRootCAs"), "{error}");
        set(&mut tls, "General.TLS.ClientRootCAs", &format!("[{at}]")).unwrap();
        let loaded = tls.load(Section::General).unwrap().unwrap();
        assert!(loaded.client_roots_pem.is_some() && loaded.client_auth_required);
        set(&mut tls, "General.TLS.PrivateKey", "/nonexistent/key.pem").unwrap();
        let error = tls.load(Section::General).unwrap_err().to_string();
        assert!(error.contains("/nonexistent/key.pem"), "{error}");
    }

    #[test]
    fn operations_tls_reads_client_roots_without_requiring_client_certificates() {
        let (_dir, at) = pem_file();
        let mut tls = TlsConfig::default();
        for (key, value) in [
            ("Operations.TLS.Enabled", "true"),
            ("Operations.TLS.PrivateKey", at.as_str()),
            ("Operations.TLS.ClientRootCAs", at.as_str()),
        ] {
            set(&mut tls, key, value).unwrap();
        }
        let error = tls.load(Section::Operations).unwrap_err().to_string();
        assert!(error.contains("Operations.TLS.Certificate"), "{error}");
        set(&mut tls, "Operations.TLS.Certificate", &at).unwrap();
        let loaded = tls.load(Section::Operations).unwrap().unwrap();
        assert!(loaded.client_roots_pem.is_some() && !loaded.client_auth_required);
        // The same settings on the gRPC listener ignore the roots without mutual TLS.
        let general = tls.load(Section::General).unwrap().unwrap();
        assert!(general.client_roots_pem.is_none());
    }
}
