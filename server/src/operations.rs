//! The operations endpoint (`Operations.ListenAddress`), as Fabric's: `/healthz`,
//! `/metrics` (Prometheus text, when `Metrics.Provider` is `prometheus`), `/logspec` (GET
//! the active logging spec, PUT a new one) and `/version`, on its own port: plain HTTP,
//! or HTTPS with `Operations.TLS` ([`tls`]), where `/metrics` and `/logspec` need a
//! verified client certificate as in Fabric.

pub mod tls;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use engine::config::Consensus;
use engine::registrar::Registrar;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

use crate::error::Error;
use crate::logging;
use crate::metrics::Metrics;

/// What the endpoint reports on.
#[derive(Debug, Clone)]
pub struct Operations {
    /// The channels.
    pub registrar: Arc<Registrar>,
    /// The counts Broadcast and Deliver keep.
    pub metrics: Arc<Metrics>,
    /// Serve `/metrics` (`Metrics.Provider: prometheus`).
    pub prometheus: bool,
}

#[derive(Debug, Serialize)]
struct FailedCheck {
    component: String,
    reason: String,
}

#[derive(Debug, Serialize)]
struct Health {
    status: &'static str,
    time: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    failed_checks: Vec<FailedCheck>,
}

#[derive(Debug, Serialize, Deserialize)]
struct LogSpec {
    spec: String,
}

#[derive(Debug, Serialize)]
struct ErrorBody {
    #[serde(rename = "Error")]
    error: String,
}

#[derive(Debug, Serialize)]
struct Version {
    #[serde(rename = "Version")]
    version: &'static str,
}

fn json(status: StatusCode, body: &impl Serialize) -> Response {
    let text = serde_json::to_string(body).unwrap_or_else(|_| "{}".into());
    (status, [(header::CONTENT_TYPE, "application/json")], text).into_response()
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// 200 when every channel orders; 503 naming each one that does not (halted, or a
/// Kafka consenter not started).
async fn healthz(State(ops): State<Arc<Operations>>) -> Response {
    let failed_checks: Vec<FailedCheck> = ops
        .registrar
        .chains()
        .into_iter()
        .filter_map(|chain| {
            let reason = if chain.is_halted() {
                "halted: the chain stopped ordering (see the log)"
            } else if chain.is_unwritable() {
                "its ledger cannot be written (disk full or failing); retrying"
            } else if !chain.is_ready() {
                "not ordering yet: its consenter has not started"
            } else {
                return None;
            };
            Some(FailedCheck {
                component: format!("channel {}", chain.channel_id()),
                reason: reason.into(),
            })
        })
        .collect();
    let (code, status) = if failed_checks.is_empty() {
        (StatusCode::OK, "OK")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable")
    };
    let health = Health {
        status,
        time: now_rfc3339(),
        failed_checks,
    };
    json(code, &health)
}

/// Every metric, the ledger gauges read from the store first.
async fn metrics(State(ops): State<Arc<Operations>>) -> Response {
    for chain in ops.registrar.chains() {
        let channel = chain.channel_id();
        let height = chain.reader().height();
        ops.metrics
            .ledger_blockchain_height
            .with(&[channel])
            .set(i64::try_from(height).unwrap_or(i64::MAX));
        if matches!(chain.config().consensus, Consensus::Kafka { .. })
            && let Ok(newest) = chain.reader().block(height.saturating_sub(1))
            && let Ok(offsets) = engine::kafka::message::Offsets::of_block(&newest)
        {
            ops.metrics
                .consensus_kafka_last_offset_persisted
                .with(&[channel])
                .set(offsets.persisted);
        }
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        ops.metrics.encode(),
    )
        .into_response()
}

async fn logspec_get() -> Response {
    match logging::spec() {
        Some(spec) => json(StatusCode::OK, &LogSpec { spec }),
        None => json(
            StatusCode::BAD_REQUEST,
            &ErrorBody {
                error: "logging is not controlled by this process".into(),
            },
        ),
    }
}

async fn logspec_put(body: String) -> Response {
    let request: LogSpec = match serde_json::from_str(&body) {
        Ok(request) => request,
        Err(error) => {
            return json(
                StatusCode::BAD_REQUEST,
                &ErrorBody {
                    error: error.to_string(),
                },
            );
        }
    };
    match logging::set_spec(&request.spec) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(error) => json(StatusCode::BAD_REQUEST, &ErrorBody { error }),
    }
}

async fn version() -> Response {
    json(
        StatusCode::OK,
        &Version {
            version: env!("CARGO_PKG_VERSION"),
        },
    )
}

/// 401 unless the TLS client presented a verified certificate (Fabric's `RequireCert`).
async fn require_cert(
    ConnectInfo(peer): ConnectInfo<tls::Peer>,
    request: Request,
    next: Next,
) -> Response {
    if peer.client_verified {
        next.run(request).await
    } else {
        StatusCode::UNAUTHORIZED.into_response()
    }
}

/// The endpoint's routes; with `secure`, `/metrics` and `/logspec` require a verified
/// client certificate (served over [`tls::TlsListener`], which tells who presented one).
pub fn router(ops: Operations, secure: bool) -> Router {
    // Each guarded path's every method needs the certificate, as Fabric's RequireCert
    // wraps the whole handler: a wrong method is 401, not 405; other paths stay 404.
    let guard = |route: MethodRouter<Arc<Operations>>| {
        if secure {
            route.layer(middleware::from_fn(require_cert))
        } else {
            route
        }
    };
    let mut router = Router::new()
        .route("/healthz", get(healthz))
        .route("/version", get(version))
        .route("/logspec", guard(get(logspec_get).put(logspec_put)));
    if ops.prometheus {
        router = router.route("/metrics", guard(get(metrics)));
    }
    router.with_state(Arc::new(ops))
}

/// Serves the endpoint on `listener` until `shutdown` resolves: HTTPS as `tls` says, or
/// plain HTTP.
pub async fn serve(
    listener: TcpListener,
    ops: Operations,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    let served = match tls {
        Some(config) => {
            let listener = tls::TlsListener::new(listener, config)?;
            let service = router(ops, true).into_make_service_with_connect_info::<tls::Peer>();
            axum::serve(listener, service)
                .with_graceful_shutdown(shutdown)
                .await
        }
        None => {
            axum::serve(listener, router(ops, false))
                .with_graceful_shutdown(shutdown)
                .await
        }
    };
    served.map_err(|source| Error::Io {
        action: "serve the operations endpoint".into(),
        source,
    })
}
