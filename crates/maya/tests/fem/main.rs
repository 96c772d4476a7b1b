//! Soft bodies by finite elements, and the pipeline features they rest on
//! (fixed nodes, given loads, static equilibrium): one test binary, so
//! that its build and link are paid once.

mod closed_form;
mod dynamics;
mod fixed_nodes;
mod kernels;
mod statics;
