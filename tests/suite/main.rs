//! The integration suite: one test binary (one link, one shared template database per run)
//! with a module per area. Run one area with `cargo test --test suite AREA::`, e.g.
//! `cargo test --test suite faults:: -- --nocapture`.

mod common;
mod fixture;

mod auth;
mod backup;
mod basemap;
mod boundary_quality;
mod budget;
mod budget_props;
mod compression;
mod facilities;
mod faults;
mod feeds;
mod fleet;
mod follow;
mod gap;
mod gap_live;
mod idempotency;
mod import;
mod import_bad_files;
mod isolation;
mod ogc;
mod openapi;
mod partners;
mod privacy;
mod proposals;
mod pwa;
mod scale;
mod service;
mod tiles;
