//! The code tonic-prost-build generates from `proto/quorum.proto`, and the encoded
//! descriptor set that reflection serves.
//!
//! No lint is allowed here: the generator's `cleanup-markdown` feature (on by
//! default) rewrites the proto's comments into doc comments that trip clippy's
//! `doc_lazy_continuation`, so the build dependency is declared without it.

tonic::include_proto!("quorum.v1");

/// The encoded `FileDescriptorSet` of `quorum.proto`, for tonic-reflection.
pub(crate) const DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("quorum_descriptor");
