//! Compiles `protos/` with protox (pure Rust, no system `protoc`) and generates prost
//! types and tonic stubs from the resulting descriptor set.

const PROTOS: &[&str] = &[
    "common/common.proto",
    "common/configtx.proto",
    "common/configuration.proto",
    "common/policies.proto",
    "ledger/rwset/kvrwset/kv_rwset.proto",
    "ledger/rwset/rwset.proto",
    "msp/identities.proto",
    "msp/msp_config.proto",
    "msp/msp_principal.proto",
    "orderer/ab.proto",
    "orderer/configuration.proto",
    "orderer/kafka.proto",
    "peer/chaincode.proto",
    "peer/configuration.proto",
    "peer/proposal.proto",
    "peer/proposal_response.proto",
    "peer/transaction.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=protos");
    let files = protox::compile(PROTOS, ["protos"])?;
    tonic_prost_build::configure()
        .bytes(".")
        .build_server(true)
        .build_client(true)
        .compile_fds(files)?;
    raw_service();
    Ok(())
}

/// `orderer.AtomicBroadcast` once more, over `raw::RawCodec`: the server takes envelopes
/// as raw bytes and sends stored blocks without re-encoding them.
fn raw_service() {
    let method = |name: &str, route: &str, input: &str, output: &str| {
        tonic_build::manual::Method::builder()
            .name(name)
            .route_name(route)
            .input_type(input)
            .output_type(output)
            .codec_path("crate::raw::RawCodec")
            .client_streaming()
            .server_streaming()
            .build()
    };
    let service = tonic_build::manual::Service::builder()
        .name("AtomicBroadcast")
        .package("orderer")
        .method(method(
            "broadcast",
            "Broadcast",
            "crate::raw::RawEnvelope",
            "crate::orderer::BroadcastResponse",
        ))
        .method(method(
            "deliver",
            "Deliver",
            "crate::raw::RawEnvelope",
            "crate::raw::DeliverFrame",
        ))
        .build();
    tonic_build::manual::Builder::new().compile(&[service]);
}
