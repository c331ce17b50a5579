//! `--platform scf`: SCF's connection to the shared runner (`place`), and
//! its release path (`deploy`, `rollout`, `guard`), which runs through the
//! shared runner too. promote, rollback, status and prune run the shared
//! commands over `ScfPlace`.
//! The decisions are the core's (`core::plan`, `core::prune`), fed by
//! `scf::observe`.
//!
//! SCF's alias writes carry no revision to guard them, so every alias write
//! goes through `guard`: a fresh read compared with what the plan was made
//! from, and any difference stops the run without writing
//! (`Error::Interfered`), leaving the other writer's change in place.

mod deploy;
mod guard;
mod place;
mod rollout;
mod target;

pub use place::ScfPlace;

pub use deploy::run as deploy;
