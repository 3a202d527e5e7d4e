//! `General.TLS`: TLS on the gRPC listener, as Fabric's orderer configures it. Files are
//! PEM; a YAML list or an environment value such as `[/a/ca.pem,/b/ca.pem]` names several.

use std::path::{Path, PathBuf};

use crate::error::Error;

/// `General.TLS`.
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
}

/// What the listener serves with: PEM bytes read from the configured files.
#[derive(Clone, PartialEq, Eq)]
pub struct ServerTls {
    /// The server's certificate chain.
    pub certificate_pem: Vec<u8>,
    /// The server's private key.
    pub private_key_pem: Vec<u8>,
    /// When set, clients must present a certificate that chains to one of these roots.
    pub client_roots_pem: Option<Vec<u8>>,
}

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerTls")
            .field("certificate_bytes", &self.certificate_pem.len())
            .field("private_key", &"<redacted>")
            .field("mutual", &self.client_roots_pem.is_some())
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

/// Sets a `General.TLS.*` key.
pub fn set(tls: &mut TlsConfig, key: &str, value: &str) -> Result<(), String> {
    let path = || (!value.is_empty()).then(|| PathBuf::from(value));
    match key {
        "General.TLS.Enabled" => tls.enabled = super::boolean(value)?,
        "General.TLS.PrivateKey" => tls.private_key = path(),
        "General.TLS.Certificate" => tls.certificate = path(),
        "General.TLS.RootCAs" => tls.root_cas = path_list(value),
        "General.TLS.ClientAuthRequired" | "General.TLS.ClientAuthEnabled" => {
            tls.client_auth_required = super::boolean(value)?;
        }
        "General.TLS.ClientRootCAs" => tls.client_root_cas = path_list(value),
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
    pub fn load(&self) -> Result<Option<ServerTls>, Error> {
        if !self.enabled {
            return Ok(None);
        }
        let required = |key: &str, path: &Option<PathBuf>| {
            path.clone().ok_or_else(|| {
                Error::Config(format!("General.TLS.Enabled is true but {key} is not set"))
            })
        };
        let certificate = required("General.TLS.Certificate", &self.certificate)?;
        let private_key = required("General.TLS.PrivateKey", &self.private_key)?;
        read_all("General.TLS.RootCAs", &self.root_cas)?;
        let client_roots_pem = if self.client_auth_required {
            if self.client_root_cas.is_empty() {
                return Err(Error::Config(
                    "General.TLS.ClientAuthRequired is true but General.TLS.ClientRootCAs names no file"
                        .into(),
                ));
            }
            Some(read_all(
                "General.TLS.ClientRootCAs",
                &self.client_root_cas,
            )?)
        } else {
            None
        };
        Ok(Some(ServerTls {
            certificate_pem: read("General.TLS.Certificate", &certificate)?,
            private_key_pem: read("General.TLS.PrivateKey", &private_key)?,
            client_roots_pem,
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

    #[test]
    fn enabled_tls_needs_its_files_and_mutual_tls_its_roots() {
        let mut tls = TlsConfig::default();
        assert_eq!(tls.load().unwrap(), None);
        set(&mut tls, "General.TLS.Enabled", "true").unwrap();
        let error = tls.load().unwrap_err().to_string();
        assert!(error.contains("General.TLS.Certificate"), "{error}");
        let dir = tempfile::tempdir().unwrap();
        let pem = dir.path().join("x.pem");
        std::fs::write(
            &pem,
            "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let at = pem.display().to_string();
        set(&mut tls, "General.TLS.Certificate", &at).unwrap();
        set(&mut tls, "General.TLS.PrivateKey", &at).unwrap();
        assert!(tls.load().unwrap().unwrap().client_roots_pem.is_none());
        set(&mut tls, "General.TLS.ClientAuthRequired", "true").unwrap();
        let error = tls.load().unwrap_err().to_string();
        assert!(error.contains("General.TLS.ClientRootCAs"), "{error}");
        set(&mut tls, "General.TLS.ClientRootCAs", &format!("[{at}]")).unwrap();
        assert!(tls.load().unwrap().unwrap().client_roots_pem.is_some());
        set(&mut tls, "General.TLS.PrivateKey", "/nonexistent/key.pem").unwrap();
        let error = tls.load().unwrap_err().to_string();
        assert!(error.contains("/nonexistent/key.pem"), "{error}");
    }
}
