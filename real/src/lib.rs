//! quorum-real
