//! Dispatch: the routing tree and, with the pipeline, aggregation groups.
pub mod route;

pub use route::{GroupBy, Route, RouteOpts};
