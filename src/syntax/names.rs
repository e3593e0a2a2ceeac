//! The names an index scan shares between notes: one copy of each link target per scanning
//! thread, found through a table that a note's links look up all together, fetching ahead.
//!
//! Why not a hash set of names: at 100,000 notes a scanning thread holds about 110,000 distinct
//! targets, and nearly every link looks up one that was last seen long ago. A hash set keeps its
//! control bytes, its buckets and each name's text in three places, each a wait on memory: a
//! quarter of the scan's time went to those waits. Here a slot holds the name's full hash beside
//! it, and the slots of all of a note's links (then the texts their hashes point to) are fetched
//! before the first is compared, so the waits overlap instead of following one another.

use std::cell::RefCell;
use std::hash::BuildHasher;

use rustc_hash::FxBuildHasher;

use super::{Link, Name, key_hash, link_key_into};

thread_local! {
    /// The names (link targets and headings) this thread's slim parses made, so that links
    /// spelled alike share one copy. Only index scans use it (a few threads); a full parse of an
    /// open note makes its own names, so editors' many blocking threads keep no tables.
    static NAMES: RefCell<NameTable> = RefCell::default();
}

/// Bounds [`NAMES`] (the table starts over when full; names already handed out stay valid).
/// Large enough for every distinct target of a 100,000-note vault: a table that starts over
/// mid-scan stops sharing, and a copy per link costs ~40 bytes more.
const NAMES_LIMIT: usize = 1 << 20;

/// The smallest table made (slots; a power of two).
const MIN_SLOTS: usize = 1024;

/// Empties this thread's table of shared names: a scan calls it on each of its threads when
/// done, so the table does not keep names that the index no longer uses.
pub fn forget_shared_names() {
    NAMES.with(|names| *names.borrow_mut() = NameTable::default());
}

/// `s` as a [`Name`]: from this thread's table when `shared`, else a fresh copy.
pub(crate) fn name(s: &str, shared: bool) -> Name {
    if s.is_empty() {
        return Name::new();
    }
    if !shared {
        return Name::from(s);
    }
    NAMES.with_borrow_mut(|names| {
        names.make_room(1);
        names.get_or_insert(s, hash(s)).0
    })
}

/// Gives each link its target, the text at `targets` (one range per link, in order), from this
/// thread's table. The links were made with empty targets placed at their ranges' starts.
/// Returns each link's [`key_hash`] of its link key (0 for an unclosed link or one without a
/// key), which the table computes once per name.
pub(crate) fn share_targets(text: &str, links: &mut [Link], targets: &[(u32, u32)]) -> Box<[u32]> {
    debug_assert_eq!(links.len(), targets.len());
    let target = |&(a, b): &(u32, u32)| &text[a as usize..b as usize];
    NAMES.with_borrow_mut(|names| {
        names.make_room(targets.len());
        let mut hashes = std::mem::take(&mut names.hashes);
        hashes.clear();
        hashes.extend(targets.iter().map(|t| hash(target(t))));
        // Every slot first, then the text of each name found there: the fetches of all links
        // are under way together before the first comparison waits for its own.
        for &h in &hashes {
            super::prefetch(&names.slots[names.home(h)]);
        }
        for &h in &hashes {
            let slot = &names.slots[names.home(h)];
            if slot.hash == h
                && let Some(n) = &slot.name
            {
                // The name's header (length, count) sits just before its text.
                super::prefetch(n.as_ptr().wrapping_sub(16));
            }
        }
        let keys = links
            .iter_mut()
            .zip(targets)
            .zip(&hashes)
            .map(|((link, t), &h)| {
                let s = target(t);
                if s.is_empty() {
                    return 0;
                }
                let (name, key) = names.get_or_insert(s, h);
                link.target = name;
                if link.closed() { key } else { 0 }
            })
            .collect();
        names.hashes = hashes;
        keys
    })
}

fn hash(s: &str) -> u64 {
    FxBuildHasher.hash_one(s)
}

/// Open addressing with linear probing over a power-of-two number of slots, at most half full.
#[derive(Default)]
struct NameTable {
    slots: Vec<Slot>,
    len: usize,
    /// The hashes of the note being shared, kept to reuse its allocation.
    hashes: Vec<u64>,
    /// Where a new name's link key is made.
    key: String,
}

#[derive(Default, Clone)]
struct Slot {
    hash: u64,
    /// `None`: an empty slot.
    name: Option<Name>,
    /// The [`key_hash`] of the name read as a link target.
    key: u32,
}

impl NameTable {
    /// Where the probe for `hash` starts (the table is not empty).
    fn home(&self, hash: u64) -> usize {
        let bits = self.slots.len().trailing_zeros();
        (hash.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - bits)) as usize
    }

    /// Makes sure `more` names can be added without growing or starting over, so that slots
    /// fetched ahead stay where they are.
    fn make_room(&mut self, more: usize) {
        if self.len + more > NAMES_LIMIT {
            self.slots = Vec::new();
            self.len = 0;
        }
        let need = ((self.len + more) * 2).max(MIN_SLOTS).next_power_of_two();
        if need <= self.slots.len() {
            return;
        }
        let old = std::mem::replace(&mut self.slots, vec![Slot::default(); need]);
        for slot in old {
            if slot.name.is_some() {
                let mut i = self.home(slot.hash);
                while self.slots[i].name.is_some() {
                    i = (i + 1) & (need - 1);
                }
                self.slots[i] = slot;
            }
        }
    }

    /// The shared copy of `s` (whose hash is `h`) and its key hash, added when missing. There
    /// is room.
    fn get_or_insert(&mut self, s: &str, h: u64) -> (Name, u32) {
        let mask = self.slots.len() - 1;
        let mut i = self.home(h);
        loop {
            let slot = &self.slots[i];
            match &slot.name {
                None => break,
                Some(n) if slot.hash == h && n.as_str() == s => return (n.clone(), slot.key),
                Some(_) => i = (i + 1) & mask,
            }
        }
        link_key_into(s, &mut self.key);
        let key = key_hash(&self.key);
        let n = Name::from(s);
        self.slots[i] = Slot {
            hash: h,
            name: Some(n.clone()),
            key,
        };
        self.len += 1;
        (n, key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_spelled_alike_share_one_copy_across_growth_and_restarts() {
        forget_shared_names();
        let first: Vec<Name> = (0..5000)
            .map(|i| name(&format!("topic_{i}"), true))
            .collect();
        // The table grew several times meanwhile; every name is still found, not copied again.
        for (i, n) in first.iter().enumerate() {
            let again = name(&format!("topic_{i}"), true);
            assert_eq!(again, *n);
            assert_eq!(again.as_ptr(), n.as_ptr(), "shared");
        }
        assert_eq!(name("", true), "");
        let fresh = name("topic_1", false);
        assert_ne!(fresh.as_ptr(), first[1].as_ptr(), "unshared when asked");
        forget_shared_names();
        let after = name("topic_1", true);
        assert_eq!(after, first[1]);
        assert_ne!(
            after.as_ptr(),
            first[1].as_ptr(),
            "a table that starts over"
        );
        forget_shared_names();
    }

    #[test]
    fn names_whose_hashes_meet_in_one_slot_stay_apart() {
        let mut table = NameTable::default();
        table.make_room(3);
        // Same hash, different texts: found by their text, never mixed.
        let a = table.get_or_insert("alpha", 7).0;
        let b = table.get_or_insert("beta", 7).0;
        let c = table.get_or_insert("gamma", 7 + (1 << 60)).0;
        assert_eq!(
            (a.as_str(), b.as_str(), c.as_str()),
            ("alpha", "beta", "gamma")
        );
        assert_eq!(table.get_or_insert("beta", 7).0.as_ptr(), b.as_ptr());
        let (again, key) = table.get_or_insert("alpha", 7);
        assert_eq!(again.as_ptr(), a.as_ptr());
        assert_eq!(key, key_hash("alpha"), "its key hash, kept with it");
        assert_eq!(table.len, 3);
    }
}
