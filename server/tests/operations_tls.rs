//! `Operations.TLS` on a real `orderer` process, with certificates the test makes, as
//! Fabric's operations endpoint behaves: HTTPS only; `/healthz` and `/version` answer any
//! client that trusts the server; `/metrics` and `/logspec` answer 401 unless the client
//! presented a certificate that chains to `ClientRootCAs`; a certificate from another CA
//! is refused at the handshake; with `ClientAuthRequired` every client needs one.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod support;

use std::path::Path;

use loadgen::ca::{DevCa, Issued};
use support::http::{Https, get, operations_address};
use support::process::{Process, refused_start, spawn_orderer_with};
use support::*;

/// An orderer whose operations endpoint serves TLS as `server`, trusting client
/// certificates of `client_ca`; the process and the endpoint's address.
fn orderer(dir: &Path, server: &Issued, client_ca: &DevCa, required: bool) -> (Process, String) {
    let env = vec![
        (
            "ORDERER_OPERATIONS_LISTENADDRESS",
            "127.0.0.1:0".to_string(),
        ),
        ("ORDERER_METRICS_PROVIDER", "prometheus".into()),
        ("ORDERER_OPERATIONS_TLS_ENABLED", "true".into()),
        (
            "ORDERER_OPERATIONS_TLS_CERTIFICATE",
            write_text(dir, "ops.crt", &server.cert_pem),
        ),
        (
            "ORDERER_OPERATIONS_TLS_PRIVATEKEY",
            write_text(dir, "ops.key", &server.key_pem()),
        ),
        (
            "ORDERER_OPERATIONS_TLS_CLIENTROOTCAS",
            format!(
                "[{}]",
                write_text(dir, "client-ca.crt", client_ca.cert_pem())
            ),
        ),
        (
            "ORDERER_OPERATIONS_TLS_CLIENTAUTHREQUIRED",
            required.to_string(),
        ),
    ];
    let process = spawn_orderer_with(&dir.join("ledger"), &genesis(), &env);
    let address = operations_address(&process);
    (process, address)
}

struct Cas {
    server: DevCa,
    client: DevCa,
    stranger: DevCa,
}

fn cas() -> Cas {
    Cas {
        server: DevCa::generate("OpsServerOrg").unwrap(),
        client: DevCa::generate("OpsClientOrg").unwrap(),
        stranger: DevCa::generate("StrangerOrg").unwrap(),
    }
}

fn client(cas: &Cas, ca: Option<&DevCa>) -> Https {
    let issued = ca.map(|ca| ca.issue_tls(&["monitor"]).unwrap());
    let key_pem = issued.as_ref().map(Issued::key_pem);
    let identity = issued
        .as_ref()
        .zip(key_pem.as_deref())
        .map(|(issued, key)| (issued.cert_pem.as_str(), key));
    Https::new(cas.server.cert_pem(), identity)
}

#[test]
fn metrics_and_logspec_need_a_verified_client_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let cas = cas();
    let server = cas.server.issue_tls(&["127.0.0.1"]).unwrap();
    let (_orderer, ops) = orderer(dir.path(), &server, &cas.client, false);

    let anonymous = client(&cas, None);
    let (code, body) = anonymous.get(&ops, "/healthz").unwrap();
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("\"status\":\"OK\""), "{body}");
    assert_eq!(anonymous.get(&ops, "/version").unwrap().0, 200);
    assert_eq!(anonymous.get(&ops, "/metrics").unwrap().0, 401);
    assert_eq!(anonymous.get(&ops, "/logspec").unwrap().0, 401);
    // Any method on a guarded path needs the certificate; other paths are not guarded.
    assert_eq!(anonymous.request(&ops, "POST", "/logspec").unwrap().0, 401);
    assert_eq!(anonymous.get(&ops, "/nothing-here").unwrap().0, 404);

    let monitor = client(&cas, Some(&cas.client));
    let (code, text) = monitor.get(&ops, "/metrics").unwrap();
    assert_eq!(code, 200, "{text}");
    assert!(
        text.contains("# TYPE ledger_blockchain_height gauge"),
        "{text}"
    );
    let (code, body) = monitor.get(&ops, "/logspec").unwrap();
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("\"spec\""), "{body}");
    assert_eq!(monitor.request(&ops, "POST", "/logspec").unwrap().0, 405);

    // A certificate of a CA the endpoint does not trust: refused at the handshake.
    let stranger = client(&cas, Some(&cas.stranger));
    let refused = stranger.get(&ops, "/healthz");
    assert!(refused.is_err(), "{refused:?}");
    // Plain HTTP gets no HTTP answer from the TLS port.
    let plain = std::panic::catch_unwind(|| get(&ops, "/healthz"));
    assert!(!matches!(plain, Ok((200, _))), "{plain:?}");
}

#[test]
fn client_auth_required_refuses_clients_without_a_certificate_at_the_handshake() {
    let dir = tempfile::tempdir().unwrap();
    let cas = cas();
    let server = cas.server.issue_tls(&["127.0.0.1"]).unwrap();
    let (_orderer, ops) = orderer(dir.path(), &server, &cas.client, true);

    let refused = client(&cas, None).get(&ops, "/healthz");
    assert!(refused.is_err(), "{refused:?}");
    let monitor = client(&cas, Some(&cas.client));
    assert_eq!(monitor.get(&ops, "/healthz").unwrap().0, 200);
    assert_eq!(monitor.get(&ops, "/metrics").unwrap().0, 200);
}

#[test]
fn operations_tls_without_its_files_is_refused_at_start() {
    let stderr = refused_start(&[
        ("ORDERER_OPERATIONS_LISTENADDRESS", "127.0.0.1:0"),
        ("ORDERER_OPERATIONS_TLS_ENABLED", "true"),
    ]);
    assert!(stderr.contains("Operations.TLS.Certificate"), "{stderr}");
    let stderr = refused_start(&[
        ("ORDERER_OPERATIONS_LISTENADDRESS", "127.0.0.1:0"),
        ("ORDERER_OPERATIONS_TLS_ENABLED", "true"),
        ("ORDERER_OPERATIONS_TLS_CERTIFICATE", "/nonexistent/ops.crt"),
        ("ORDERER_OPERATIONS_TLS_PRIVATEKEY", "/nonexistent/ops.key"),
    ]);
    assert!(stderr.contains("/nonexistent/ops."), "{stderr}");
}
