//! Helpers shared by the host's integration tests.

#![allow(dead_code)]

pub mod recording_server;
