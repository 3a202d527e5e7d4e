//! Scrapes the in-process orderer's `/metrics` over HTTP, as Prometheus would, to check
//! the orderer's own counts against what loadgen saw.

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::error::Error;

/// The body of `GET /metrics` from the operations endpoint at `address`.
pub async fn metrics(address: &str) -> Result<String, Error> {
    let io = |action: &str| {
        let action = format!("{action} the operations endpoint {address}");
        move |source| Error::Io { action, source }
    };
    let mut stream = TcpStream::connect(address)
        .await
        .map_err(io("connect to"))?;
    let request = format!("GET /metrics HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(io("write to"))?;
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .await
        .map_err(io("read from"))?;
    match response.split_once("\r\n\r\n") {
        Some((head, body)) if head.starts_with("HTTP/1.1 200") => Ok(body.to_string()),
        _ => Err(Error::Config(format!(
            "GET /metrics from {address} did not answer 200"
        ))),
    }
}

/// `broadcast_processed_count` with status SUCCESS for `channels`, summed over the header
/// types loadgen sends: CONFIG_UPDATE, which only the benchmark's `--config-update-at`
/// sends, is left out.
pub fn processed_success(text: &str, channels: &[String]) -> u64 {
    text.lines()
        .filter(|line| line.starts_with("broadcast_processed_count{"))
        .filter(|line| line.contains("status=\"SUCCESS\""))
        .filter(|line| !line.contains("type=\"CONFIG_UPDATE\""))
        .filter(|line| {
            channels
                .iter()
                .any(|channel| line.contains(&format!("channel=\"{channel}\"")))
        })
        .filter_map(|line| line.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_counts_of_the_channels_are_summed() {
        let text = "broadcast_processed_count{channel=\"a\",type=\"MESSAGE\",status=\"SUCCESS\"} 5\n\
                    broadcast_processed_count{channel=\"a\",type=\"ENDORSER_TRANSACTION\",status=\"SUCCESS\"} 2\n\
                    broadcast_processed_count{channel=\"a\",type=\"MESSAGE\",status=\"BAD_REQUEST\"} 9\n\
                    broadcast_processed_count{channel=\"a\",type=\"CONFIG_UPDATE\",status=\"SUCCESS\"} 1\n\
                    broadcast_processed_count{channel=\"b\",type=\"MESSAGE\",status=\"SUCCESS\"} 1\n";
        assert_eq!(processed_success(text, &["a".into()]), 7);
        assert_eq!(processed_success(text, &["a".into(), "b".into()]), 8);
    }
}
