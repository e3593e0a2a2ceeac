//! The features, each a function of a vault snapshot and a position in a note, returning our
//! own types in byte offsets. Nothing here knows the protocol; `lsp` translates.

mod code_actions;
mod completion;
mod definition;
mod diagnostics;
mod hover;
mod links;
mod preview;
mod references;
mod rename;
mod symbols;
mod unlinked;

pub use code_actions::{CodeAction, EditTarget, FileEdit, FixEdit, code_actions};
pub use completion::{
    CompletionContext, CompletionItem, CompletionItemKind, CompletionList, completion,
};
pub use definition::definition;
pub use diagnostics::{Diagnostic, DiagnosticsOptions, Severity, diagnostics};
pub use hover::{Hover, hover};
pub use links::{DocumentLink, FoldKind, LinkTarget, document_links, folding_ranges};
pub use preview::note_preview;
pub use references::{
    BacklinksLens, References, backlinks_lens, references, references_to, title_range,
};
pub use rename::{
    PrepareRename, RenameEdit, RenameError, TextEdit, prepare_rename, rename, will_rename_files,
};
pub use symbols::{
    DocumentSymbol, SymbolKind, WorkspaceSymbol, document_symbols, workspace_symbols,
};
pub use unlinked::{Mention, unlinked_mentions};

use crate::syntax::{Link, TextRange, Timestamp};
use crate::vault::NoteId;

/// A position in a note: the byte offset of the cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilePosition {
    pub note: NoteId,
    pub offset: u32,
}

/// A range in some note of the vault (ordered by note, then by position).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct NoteRange {
    pub note: NoteId,
    pub range: TextRange,
}

/// The link the cursor is on. A cursor just after `]]` still counts, as editors place it there
/// after typing.
pub(crate) fn link_at(links: &[Link], offset: u32) -> Option<&Link> {
    let i = links.partition_point(|l| l.range().end < offset);
    links[i..]
        .iter()
        .take_while(|l| l.range().start <= offset)
        .find(|l| l.range().touches(offset))
}

pub(crate) fn timestamp_at(timestamps: &[Timestamp], offset: u32) -> Option<&Timestamp> {
    let i = timestamps.partition_point(|t| t.range.end < offset);
    timestamps[i..]
        .iter()
        .take_while(|t| t.range.start <= offset)
        .find(|t| t.range.touches(offset))
}

/// `513` → `00:08:33`.
pub fn format_moment(seconds: u32) -> String {
    format!(
        "{:02}:{:02}:{:02}",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}
