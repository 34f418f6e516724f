//! quorum-scenarios
