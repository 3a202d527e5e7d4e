//! Command-line flags shared by `loadgen` and `orderer benchmark`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use orderer_proto::common::HeaderType;

use crate::Error;
use crate::ca::DevCa;
use crate::msp::Signer;
use crate::signers::Signers;
use crate::workload::{Rate, Workload};

/// Flags that describe a workload.
#[derive(Debug, Clone, Args)]
pub struct WorkloadArgs {
    /// Channels to broadcast on, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "appchannel")]
    pub channels: Vec<String>,
    /// Broadcast streams per channel.
    #[arg(long, default_value_t = 4)]
    pub broadcasters: usize,
    /// Deliver clients per channel; each must see every envelope.
    #[arg(long, default_value_t = 1)]
    pub deliverers: usize,
    /// Payload data bytes per envelope (endorser transactions: bytes of the chaincode
    /// action's read-write set).
    #[arg(long, default_value_t = 1024)]
    pub message_size: usize,
    /// Envelopes to send in all.
    #[arg(long, default_value_t = 200_000)]
    pub total: u64,
    /// Stop sending after this many seconds (with --rate N, --total defaults to N x this).
    #[arg(long)]
    pub duration: Option<f64>,
    /// Offered rate in tx/s over all streams (open loop), or `max` (closed loop).
    #[arg(long, default_value = "max")]
    pub rate: String,
    /// With --rate max: envelopes in flight per stream.
    #[arg(long, default_value_t = 256)]
    pub window: usize,
    /// Header type of the envelopes: message, or endorser-transaction (a transaction a
    /// peer can read, endorsed by the signer).
    #[arg(long, default_value = "message")]
    pub header_type: String,
    /// Sign every envelope before the clock starts.
    #[arg(long)]
    pub presign: bool,
    /// A Fabric MSP directory to sign with (signcerts/, keystore/); without it clients of
    /// a fresh development CA sign (see --signers).
    #[arg(long)]
    pub msp_dir: Option<PathBuf>,
    /// Distinct client identities signing envelopes round robin, issued before the clock
    /// starts (`orderer benchmark`: by the channel org's CA). With --msp-dir only 1.
    #[arg(long, default_value_t = 1)]
    pub signers: usize,
    /// The MSP ID of --msp-dir.
    #[arg(long, default_value = "SampleOrg")]
    pub msp_id: String,
    /// Send unsigned envelopes (only to measure what signing costs).
    #[arg(long)]
    pub unsigned: bool,
    /// Seconds to wait for deliveries after the last answer.
    #[arg(long, default_value_t = 30.0)]
    pub drain_timeout: f64,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// TLS: the PEM roots the orderer's certificate must chain to (an `http://` endpoint
    /// is then dialled as `https://`).
    #[arg(long)]
    pub tls_ca: Option<PathBuf>,
    /// Mutual TLS: the client's PEM certificate (with --tls-key).
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// Mutual TLS: the client's PEM private key (with --tls-cert).
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// TLS: the name the orderer's certificate must carry, when not the endpoint's host.
    #[arg(long)]
    pub tls_server_name: Option<String>,
    /// Record envelopes delivered per bucket of this many milliseconds of commit time
    /// (`delivered_timeline` in the record): the rate over the run, to see a dip.
    #[arg(long, value_name = "MS")]
    pub timeline_ms: Option<u64>,
}

impl WorkloadArgs {
    /// The workload against `endpoint`, signed by the identities the flags name.
    pub fn workload(&self, endpoint: String) -> Result<Workload, Error> {
        let signers = if self.unsigned {
            Signers::default()
        } else {
            self.signers()?
        };
        self.workload_signed_by(endpoint, signers)
    }

    /// The identities the flags name: the one of `--msp-dir`, or `--signers` clients of a
    /// fresh development CA for `--msp-id`.
    fn signers(&self) -> Result<Signers, Error> {
        match &self.msp_dir {
            Some(_) if self.signers > 1 => Err(Error::Refused(format!(
                "--signers {}: --msp-dir holds one identity and no CA key to issue more; \
                 use --signers 1 with --msp-dir (orderer benchmark issues many from its own CA)",
                self.signers
            ))),
            Some(dir) => Ok(Signers::one(Arc::new(Signer::from_msp_dir(
                dir,
                &self.msp_id,
            )?))),
            None => Signers::issue(&DevCa::generate(&self.msp_id)?, self.signers),
        }
    }

    /// The workload against `endpoint`, its envelopes signed by `signers` (none: unsigned).
    pub fn workload_signed_by(
        &self,
        endpoint: String,
        signers: Signers,
    ) -> Result<Workload, Error> {
        let invalid = |what: String| Error::Refused(what);
        let rate = match self.rate.as_str() {
            "max" => Rate::Max {
                window: self.window.max(1),
            },
            number => Rate::Fixed(
                number
                    .parse::<f64>()
                    .ok()
                    .filter(|rate| *rate > 0.0)
                    .ok_or_else(|| invalid(format!("--rate {number:?}: expected tx/s or max")))?,
            ),
        };
        let header_type = match self.header_type.as_str() {
            "message" => HeaderType::Message,
            "endorser-transaction" => HeaderType::EndorserTransaction,
            other => {
                return Err(invalid(format!(
                    "--header-type {other:?}: expected message or endorser-transaction"
                )));
            }
        };
        let duration = self.duration.map(Duration::from_secs_f64);
        let total_tx = match (rate, duration) {
            (Rate::Fixed(rate), Some(duration)) => (rate * duration.as_secs_f64()).round() as u64,
            _ => self.total,
        };
        if self.channels.is_empty() || self.broadcasters == 0 || total_tx == 0 {
            return Err(invalid(
                "need at least one channel, one broadcaster and one envelope".into(),
            ));
        }
        Ok(Workload {
            endpoint,
            channels: self.channels.clone(),
            broadcast_streams_per_channel: self.broadcasters,
            deliver_clients_per_channel: self.deliverers,
            payload_bytes: self.message_size,
            header_type,
            total_tx,
            duration,
            rate,
            presign: self.presign,
            signers,
            drain_timeout: Duration::from_secs_f64(self.drain_timeout),
            progress: !self.quiet,
            tls: self.tls()?,
            timeline_bucket: self.timeline_ms.map(|ms| Duration::from_millis(ms.max(1))),
        })
    }

    /// The TLS settings of the flags, files read.
    fn tls(&self) -> Result<Option<crate::client::ClientTls>, Error> {
        let read = |flag: &str, path: &PathBuf| {
            std::fs::read(path)
                .map_err(|error| Error::Refused(format!("{flag} {}: {error}", path.display())))
        };
        let Some(ca) = &self.tls_ca else {
            return match self.tls_cert {
                Some(_) => Err(Error::Refused("--tls-cert needs --tls-ca".into())),
                None => Ok(None),
            };
        };
        let identity = match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Some((read("--tls-cert", cert)?, read("--tls-key", key)?)),
            _ => None,
        };
        Ok(Some(crate::client::ClientTls {
            root_cas_pem: read("--tls-ca", ca)?,
            identity,
            server_name: self.tls_server_name.clone(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        workload: WorkloadArgs,
    }

    fn workload(flags: &[&str]) -> Result<Workload, Error> {
        let cli = Cli::try_parse_from([&["loadgen"], flags].concat()).unwrap();
        cli.workload.workload("http://127.0.0.1:7050".into())
    }

    #[test]
    fn signers_are_issued_by_a_development_ca_without_an_msp_dir() {
        assert_eq!(workload(&[]).unwrap().signers.len(), 1);
        assert_eq!(workload(&["--signers", "3"]).unwrap().signers.len(), 3);
        assert!(
            workload(&["--signers", "3", "--unsigned"])
                .unwrap()
                .signers
                .is_empty()
        );
    }

    #[test]
    fn many_signers_with_an_msp_dir_are_refused_naming_why() {
        let msp_dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/fabric-vectors/msp"
        );
        let one = workload(&["--msp-dir", msp_dir]).unwrap();
        assert_eq!(one.signers.len(), 1);
        let error = workload(&["--msp-dir", msp_dir, "--signers", "2"]).unwrap_err();
        assert!(
            error.to_string().contains("--msp-dir holds one identity"),
            "{error}"
        );
    }
}
