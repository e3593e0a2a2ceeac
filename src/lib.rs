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

/// Sets the allocator's policy for a process that indexes a vault; called once at start.
///
/// glibc's allocator lets its threshold for giving big blocks their own mapping climb to the
/// size of the biggest block freed (up to 32 MB). Indexing frees many big blocks (the scan's
/// growing lists, the build's tables), so after them big blocks came from the arenas, where
/// freed ones stay: at 100,000 notes the peak was 9-10 MB higher (in-process, 364 against
/// 355 MB). A fixed threshold of 4 MiB returns each block that big to the system when freed,
/// while smaller ones keep being reused (glibc's own 128 KiB start cost 25% more page faults
/// for 2 MB less). Elsewhere (another allocator or platform) this does nothing.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only sets a parameter of glibc's allocator; called before any thread
    // of ours allocates concurrently, and safe to call at any time anyway.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 4 << 20);
    }
}
