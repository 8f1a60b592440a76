//! One integration-test binary (links once): each module boots real klaxon
//! servers on loopback and talks HTTP to them.

mod harness;

mod acceptance;
mod amctl;
mod api_alerts;
mod bad_input;
mod binary_output;
mod cluster;
mod cluster_faults;
mod connections;
mod corpus;
mod crash_faults;
mod cross_site;
mod delivery;
mod differential;
mod discord;
mod email;
mod event_recorder;
mod examples;
mod flags;
mod ops;
mod peer_proxy;
mod peers;
mod persistence;
mod readme;
mod receiver_outage;
mod receivers;
mod receivers_differential;
mod routes_api;
mod secret_echo;
mod silences;
mod storage_faults;
mod templates;
mod trace_export;
mod ui;
mod utf8_names;
mod web_config;
