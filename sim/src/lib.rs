//! quorum-sim
