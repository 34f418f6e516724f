//! gRPC codegen: protox compiles `proto/quorum.proto` into a descriptor set (no
//! system `protoc` needed), the encoded set goes to `OUT_DIR` for tonic-reflection,
//! and tonic-prost-build generates the messages, clients and servers from it.

use std::path::PathBuf;

use prost::Message;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto/quorum.proto");
    let descriptors = protox::compile(["quorum.proto"], ["proto"])?;
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out_dir.join("quorum_descriptor.bin"), descriptors.encode_to_vec())?;
    tonic_prost_build::configure().build_client(true).build_server(true).compile_fds(descriptors)?;
    Ok(())
}
