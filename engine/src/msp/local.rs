//! The orderer's own signing identity, from a Fabric MSP directory (`General.LocalMSPDir`,
//! `General.LocalMSPID`): it signs every block it cuts.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use orderer_proto::msp::SerializedIdentity;
use prost::Message;
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair};

use super::cert::pem_block;
use crate::error::Error;
use crate::signature;

/// Nonce length in signature headers, as Fabric's.
const NONCE_LEN: usize = 24;

/// A signing identity.
#[derive(Debug)]
pub struct LocalSigner {
    creator: Bytes,
    key: EcdsaKeyPair,
    rng: SystemRandom,
}

impl LocalSigner {
    /// Reads `signcerts/` (the certificate) and `keystore/` (its PKCS#8 key) of `dir`.
    pub fn from_msp_dir(dir: &Path, msp_id: &str) -> Result<Self, Error> {
        let config = |what: String| Error::Config(format!("local MSP {}: {what}", dir.display()));
        let cert = std::fs::read(first_file(&dir.join("signcerts")).map_err(config)?)
            .map_err(|e| config(format!("read signcert: {e}")))?;
        let key = std::fs::read(first_file(&dir.join("keystore")).map_err(config)?)
            .map_err(|e| config(format!("read key: {e}")))?;
        let pkcs8 = pem_block(&key, "PRIVATE KEY").map_err(config)?;
        Self::new(msp_id, &cert, &pkcs8).map_err(config)
    }

    /// A signer from a PEM certificate and a PKCS#8 DER P-256 key.
    pub fn new(msp_id: &str, cert_pem: &[u8], pkcs8: &[u8]) -> Result<Self, String> {
        let rng = SystemRandom::new();
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8, &rng)
            .map_err(|e| format!("the key is not a P-256 PKCS#8 key: {e}"))?;
        let creator = SerializedIdentity {
            mspid: msp_id.into(),
            id_bytes: Bytes::copy_from_slice(cert_pem),
        }
        .encode_to_vec()
        .into();
        Ok(Self { creator, key, rng })
    }

    /// The serialized identity put in signature headers.
    pub fn creator(&self) -> &Bytes {
        &self.creator
    }

    /// A fresh nonce.
    pub fn nonce(&self) -> [u8; NONCE_LEN] {
        let mut nonce = [0u8; NONCE_LEN];
        // The system RNG does not fail on Linux; a zero nonce would still sign correctly.
        let _ = self.rng.fill(&mut nonce);
        nonce
    }

    /// DER ECDSA over SHA-256 of `message`, S normalised to the lower half.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        let signature = self
            .key
            .sign(&self.rng, message)
            .map_err(|_| Error::Config("signing failed".into()))?;
        signature::to_low_s(signature.as_ref())
            .ok_or_else(|| Error::Config("signer produced a malformed signature".into()))
    }
}

fn first_file(dir: &Path) -> Result<PathBuf, String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("read {}: {e}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
        .into_iter()
        .next()
        .ok_or_else(|| format!("{} holds no file", dir.display()))
}
