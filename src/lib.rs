//! wikilsp: a language server for vaults of wiki-linked markdown notes.
//!
//! Layers, each depending only on the ones listed before it (see ARCHITECTURE.md):
//! [`syntax`] → [`vault`] → [`ide`] → [`lsp`]; [`check`] and [`bench`] are command-line jobs.

pub mod bench;
pub mod check;
pub mod config;
pub mod ide;
pub mod lsp;
pub mod syntax;
pub mod vault;
