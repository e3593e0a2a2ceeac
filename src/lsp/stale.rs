//! Which requests an edit made stale. An answer computed on a text the editor has since
//! changed carries positions in that old text; it is answered `ContentModified` instead, at
//! once, which both VS Code and Neovim take silently (and VS Code may ask again).
//!
//! Only edits the editor sends (`didChange`) count: they are what moves the positions the
//! editor would apply the answer to. A file changed on disk is not the editor's text.

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::sync::watch;
use tower_lsp_server::ls_types::Uri;

/// What a request's answer depends on, as far as edits go.
#[derive(Debug, Clone)]
pub enum Scope {
    /// Positions in one document: the cursor's, the document's own links and headings. An
    /// edit of another document leaves the answer right.
    Document(Uri),
    /// Positions in any open document (references, workspace symbols): an edit anywhere may
    /// move them.
    Workspace,
    /// Nothing an edit moves (or the answer guards itself, as a versioned workspace edit
    /// does, which the editor refuses for a document it has changed).
    Never,
}

/// The edits of open documents, counted, with the count at each document's last edit.
pub struct Edits {
    count: watch::Sender<u64>,
    /// Behind the same lock as the count's updates, so that a mark never sees a document's
    /// stamp without the count that goes with it.
    last: Mutex<HashMap<Uri, u64>>,
}

impl Default for Edits {
    fn default() -> Edits {
        Edits {
            count: watch::Sender::new(0),
            last: Mutex::default(),
        }
    }
}

impl Edits {
    /// Called for every edit applied to an open document, before anything awaits: requests
    /// marked before it (in the order of the messages) are stale if they depend on it.
    pub fn edited(&self, uri: &Uri) {
        let mut last = self.last.lock().unwrap();
        let n = *self.count.borrow() + 1;
        last.insert(uri.clone(), n);
        self.count.send_replace(n);
    }

    /// A closed document's edits no longer matter to anyone: forgets its stamp, which keeps
    /// the map to the documents open.
    pub fn closed(&self, uri: &Uri) {
        self.last.lock().unwrap().remove(uri);
    }

    /// Marks a request as it arrives, to ask later whether an edit made it stale.
    pub fn mark(&self, scope: Scope) -> Mark {
        let _last = self.last.lock().unwrap();
        let changes = self.count.subscribe();
        let seen = *changes.borrow();
        Mark {
            scope,
            seen,
            changes,
        }
    }

    fn is_stale(&self, mark: &Mark) -> bool {
        let last = self.last.lock().unwrap();
        match &mark.scope {
            Scope::Never => false,
            Scope::Workspace => *self.count.borrow() > mark.seen,
            Scope::Document(uri) => last.get(uri).is_some_and(|&n| n > mark.seen),
        }
    }
}

/// A request's place among the edits (see [`Edits::mark`]).
pub struct Mark {
    scope: Scope,
    seen: u64,
    changes: watch::Receiver<u64>,
}

impl Mark {
    /// Whether an edit since the mark made the request's answer stale.
    pub fn is_stale(&self, edits: &Edits) -> bool {
        edits.is_stale(self)
    }

    /// Ends once an edit makes the request stale; never, for a request no edit can.
    pub async fn stale(&mut self, edits: &Edits) {
        if matches!(self.scope, Scope::Never) {
            return std::future::pending().await;
        }
        loop {
            if edits.is_stale(self) {
                return;
            }
            if self.changes.changed().await.is_err() {
                return std::future::pending().await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(name: &str) -> Uri {
        format!("file:///vault/{name}.md").parse().unwrap()
    }

    #[test]
    fn an_edit_makes_stale_what_depends_on_it_and_nothing_else() {
        let edits = Edits::default();
        let basil = Scope::Document(uri("basil"));
        let (on_basil, on_mint, anywhere, never) = (
            edits.mark(basil.clone()),
            edits.mark(Scope::Document(uri("mint"))),
            edits.mark(Scope::Workspace),
            edits.mark(Scope::Never),
        );
        edits.edited(&uri("basil"));
        assert!(on_basil.is_stale(&edits));
        assert!(!on_mint.is_stale(&edits));
        assert!(anywhere.is_stale(&edits));
        assert!(!never.is_stale(&edits));
        // Marked after the edit: not stale, until the next one.
        let after = edits.mark(basil);
        assert!(!after.is_stale(&edits));
        edits.edited(&uri("mint"));
        assert!(!after.is_stale(&edits));
        assert!(on_mint.is_stale(&edits));
        edits.edited(&uri("basil"));
        assert!(after.is_stale(&edits));
        // Closing forgets the document's stamp; its next edit stamps it again.
        edits.closed(&uri("basil"));
        let reopened = edits.mark(Scope::Document(uri("basil")));
        assert!(!reopened.is_stale(&edits));
        edits.edited(&uri("basil"));
        assert!(reopened.is_stale(&edits));
    }

    #[tokio::test]
    async fn waiting_ends_with_the_edit_that_makes_it_stale() {
        let edits = std::sync::Arc::new(Edits::default());
        let mut mark = edits.mark(Scope::Document(uri("basil")));
        let other = edits.clone();
        let editing = tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            other.edited(&uri("mint"));
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            other.edited(&uri("basil"));
        });
        tokio::time::timeout(std::time::Duration::from_secs(5), mark.stale(&edits))
            .await
            .expect("the edit of basil ends the wait");
        assert!(mark.is_stale(&edits));
        editing.await.unwrap();
        let mut never = edits.mark(Scope::Never);
        edits.edited(&uri("basil"));
        let waited =
            tokio::time::timeout(std::time::Duration::from_millis(50), never.stale(&edits)).await;
        assert!(waited.is_err(), "no edit makes a Never request stale");
    }
}
