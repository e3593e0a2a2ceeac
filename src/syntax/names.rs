//! The names an index scan shares between notes: one copy of each link target per scanning
//! worker, found through a table that a note's links look up all together, fetching ahead. A
//! scan's tables also number the targets ([`ScanNames`]), which the index groups links by.
//!
//! Why not a hash set of names: at 100,000 notes a scanning thread holds about 110,000 distinct
//! targets, and nearly every link looks up one that was last seen long ago. A hash set keeps its
//! control bytes, its buckets and each name's text in three places, each a wait on memory: a
//! quarter of the scan's time went to those waits. Here a slot is one cache line holding the
//! name's full hash and, for a name of up to [`INLINE`] bytes, its text: a lookup reads one line.
//! The slots of all of a note's links are fetched before the first is compared, and each name
//! found while the others are looked up, before any is taken: the waits overlap instead of
//! following one another.

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

/// Bounds a table of names (it starts over when full; names already handed out stay valid, and
/// a scan's keep their numbers). Twice the distinct targets a worker meets in a 100,000-note
/// vault: a table that starts over mid-scan stops sharing, and a copy per link costs ~40 bytes
/// more. At most half full, a table then takes at most 32 MiB (a slot is a cache line).
const NAMES_LIMIT: usize = 1 << 18;

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
    NAMES.with_borrow_mut(|names| names.share(text, links, targets))
}

/// [`share_targets`] from a scan's table: returns each link's number in the scan
/// ([`NO_NAME`] for an unclosed link or an empty target) instead of its key hash.
pub(crate) fn share_numbered_targets(
    text: &str,
    links: &mut [Link],
    targets: &[(u32, u32)],
    names: &mut ScanNames,
) -> Box<[u32]> {
    names.table.share(text, links, targets)
}

/// What a link's number is when it has none: an unclosed link, or one with an empty target.
pub const NO_NAME: u32 = u32::MAX;

/// The link targets of one index scan, each spelling numbered: one table per worker of the
/// scan, the numbers drawn from a counter they share, so that a number stands for one spelling
/// in the whole scan.
///
/// Why: the index then groups the vault's millions of links by key through their numbers, one
/// lookup in an array each, never reading a link again (its target, its text) nor hashing
/// anything per link; the keys are made once per spelling ([`ScanNames::numbered_into`]).
/// Two workers that meet one spelling give it two numbers; the grouping merges them by text.
pub struct ScanNames {
    table: NameTable,
}

/// A spelling a scan numbered: its number, the shared name, and its link key's [`key_hash`]
/// (0: no key).
#[derive(Debug, Clone)]
pub struct NumberedName {
    pub number: u32,
    pub name: Name,
    pub key: u32,
}

/// How many numbers a table takes from the shared counter at a time.
const NUMBER_BLOCK: u32 = 4096;

struct Numbers {
    counter: std::sync::Arc<std::sync::atomic::AtomicU32>,
    next: u32,
    end: u32,
    /// The numbered names of the slots a table that started over let go of (the table's own
    /// slots hold the others: no second list of a hundred thousand names).
    let_go: Vec<NumberedName>,
}

impl Numbers {
    /// The next number, or [`NO_NAME`] once the counter is spent (four billion spellings: more
    /// than memory holds, each costing tens of bytes).
    fn take(&mut self) -> u32 {
        if self.next == self.end {
            use std::sync::atomic::Ordering;
            let start = self
                .counter
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |c| {
                    c.checked_add(NUMBER_BLOCK).filter(|&e| e < NO_NAME)
                });
            let Ok(start) = start else {
                return NO_NAME;
            };
            (self.next, self.end) = (start, start + NUMBER_BLOCK);
        }
        self.next += 1;
        self.next - 1
    }
}

impl ScanNames {
    /// A table whose numbers come from `counter` (shared by the tables of one scan).
    pub fn new(counter: std::sync::Arc<std::sync::atomic::AtomicU32>) -> ScanNames {
        ScanNames {
            table: NameTable {
                numbers: Some(Numbers {
                    counter,
                    next: 0,
                    end: 0,
                    let_go: Vec::new(),
                }),
                ..NameTable::default()
            },
        }
    }

    /// The number of `name` (made shared in this table when new), for a link made elsewhere;
    /// [`NO_NAME`] for an empty name.
    pub fn number(&mut self, name: &Name) -> u32 {
        if name.is_empty() {
            return NO_NAME;
        }
        self.table.make_room(1);
        let i = self.table.slot_of(name, hash(name), || name.clone());
        self.table.slots[i].number
    }

    /// How many spellings it numbered.
    pub fn len(&self) -> usize {
        let let_go = self.table.numbers.as_ref().map_or(0, |n| n.let_go.len());
        self.table.len + let_go
    }

    /// Whether it numbered nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds every spelling it numbered to `out`, in no particular order; the table is gone.
    pub fn numbered_into(self, out: &mut Vec<NumberedName>) {
        let NameTable { slots, numbers, .. } = self.table;
        out.extend(numbers.into_iter().flat_map(|n| n.let_go));
        out.extend(slots.into_iter().filter_map(Slot::numbered));
    }
}

fn hash(s: &str) -> u64 {
    FxBuildHasher.hash_one(s)
}

/// A link's slot when its target is empty (no table has that many slots).
const NO_SLOT: u32 = u32::MAX;

/// Open addressing with linear probing over a power-of-two number of slots, at most half full.
#[derive(Default)]
struct NameTable {
    slots: Vec<Slot>,
    len: usize,
    /// The hashes of the note being shared, kept to reuse its allocation.
    hashes: Vec<u64>,
    /// The slot of each link of the note being shared ([`NO_SLOT`]: an empty target).
    found: Vec<u32>,
    /// Where a new name's link key is made.
    key: String,
    /// A scan's table numbers its names (see [`ScanNames`]).
    numbers: Option<Numbers>,
}

/// One cache line: a lookup that finds its name reads nothing else, as long as the name is
/// short enough to be kept in the slot as well ([`INLINE`] bytes; most link targets are).
/// Comparing with the name's own text instead was a second wait on memory per link, the
/// scan's biggest (the names lie all over the heap).
#[derive(Clone)]
#[repr(C, align(64))]
struct Slot {
    hash: u64,
    /// `None`: an empty slot.
    name: Option<Name>,
    /// The [`key_hash`] of the name read as a link target.
    key: u32,
    /// Its number in a scan ([`NO_NAME`] in a table that numbers nothing).
    number: u32,
    /// The name's length when it is kept in `inline`, else [`LONG`].
    len: u8,
    inline: [u8; INLINE],
}

/// The longest name a slot keeps a copy of.
const INLINE: usize = 39;

/// [`Slot::len`] of a name longer than [`INLINE`]: compared with the name's own text.
const LONG: u8 = u8::MAX;

impl Default for Slot {
    fn default() -> Slot {
        Slot {
            hash: 0,
            name: None,
            key: 0,
            number: NO_NAME,
            len: 0,
            inline: [0; INLINE],
        }
    }
}

impl Slot {
    /// The spelling a scan's table numbered in this slot, if any.
    fn numbered(self) -> Option<NumberedName> {
        let name = self.name?;
        (self.number != NO_NAME).then_some(NumberedName {
            number: self.number,
            name,
            key: self.key,
        })
    }

    /// Whether the slot holds `s`, whose hash is `h`.
    #[inline]
    fn holds(&self, s: &str, h: u64) -> bool {
        if self.hash != h {
            return false;
        }
        match self.len {
            LONG => self.name.as_ref().is_some_and(|n| n.as_str() == s),
            len => self.inline.get(..len as usize) == Some(s.as_bytes()),
        }
    }
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
            let slots = std::mem::take(&mut self.slots);
            if let Some(numbers) = &mut self.numbers {
                numbers
                    .let_go
                    .extend(slots.into_iter().filter_map(Slot::numbered));
            }
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

    /// The shared copy of `s` (whose hash is `h`), its key hash and its number, added when
    /// missing. There is room.
    fn get_or_insert(&mut self, s: &str, h: u64) -> (Name, u32, u32) {
        let i = self.slot_of(s, h, || Name::from(s));
        let slot = &self.slots[i];
        let name = slot.name.clone().unwrap_or_default();
        (name, slot.key, slot.number)
    }

    /// The slot holding `s` (whose hash is `h`), filled with the name `make` makes when
    /// missing (a copy of `s`, or a name that already holds it, shared rather than copied).
    /// There is room. Reads nothing but the table and the names it compares: no
    /// reference count is touched, so the loads of many calls in a row can overlap.
    fn slot_of(&mut self, s: &str, h: u64, make: impl FnOnce() -> Name) -> usize {
        let mask = self.slots.len() - 1;
        let mut i = self.home(h);
        loop {
            let slot = &self.slots[i];
            if slot.name.is_none() {
                break;
            }
            if slot.holds(s, h) {
                return i;
            }
            i = (i + 1) & mask;
        }
        link_key_into(s, &mut self.key);
        let key = key_hash(&self.key);
        let number = self.numbers.as_mut().map_or(NO_NAME, Numbers::take);
        let mut slot = Slot {
            hash: h,
            name: Some(make()),
            key,
            number,
            len: LONG,
            inline: [0; INLINE],
        };
        if let Some(inline) = slot.inline.get_mut(..s.len()) {
            inline.copy_from_slice(s.as_bytes());
            slot.len = s.len() as u8;
        }
        self.slots[i] = slot;
        self.len += 1;
        i
    }

    /// See [`share_targets`]: key hashes, or numbers in a scan's table.
    fn share(&mut self, text: &str, links: &mut [Link], targets: &[(u32, u32)]) -> Box<[u32]> {
        debug_assert_eq!(links.len(), targets.len());
        let target = |&(a, b): &(u32, u32)| &text[a as usize..b as usize];
        self.make_room(targets.len());
        let mut hashes = std::mem::take(&mut self.hashes);
        hashes.clear();
        hashes.extend(targets.iter().map(|t| hash(target(t))));
        // Every slot first: their fetches are under way together before the first comparison
        // waits for its own. Each name found is fetched then, to be taken once all are found.
        for &h in &hashes {
            super::prefetch(&self.slots[self.home(h)]);
        }
        // Each link's slot first, then its name: taking a name bumps its reference count, an
        // atomic step that the processor lets no later load pass, so done in the same loop it
        // would make every comparison wait for the one before it.
        let mut found = std::mem::take(&mut self.found);
        found.clear();
        found.extend(targets.iter().zip(&hashes).map(|(t, &h)| {
            let s = target(t);
            if s.is_empty() {
                return NO_SLOT;
            }
            let i = self.slot_of(s, h, || Name::from(s));
            if let Some(name) = &self.slots[i].name {
                // Its header (length, count) sits just before its text.
                super::prefetch(name.as_ptr().wrapping_sub(16));
            }
            i as u32
        }));
        let numbered = self.numbers.is_some();
        let keys = links
            .iter_mut()
            .zip(&found)
            .map(|(link, &i)| {
                let Some(slot) = self.slots.get(i as usize) else {
                    return if numbered { NO_NAME } else { 0 };
                };
                if let Some(name) = &slot.name {
                    link.target = name.clone();
                }
                match (link.closed(), numbered) {
                    (true, true) => slot.number,
                    (true, false) => slot.key,
                    (false, true) => NO_NAME,
                    (false, false) => 0,
                }
            })
            .collect();
        self.found = found;
        self.hashes = hashes;
        keys
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
        let (again, key, number) = table.get_or_insert("alpha", 7);
        assert_eq!(number, NO_NAME, "a table that numbers nothing");
        assert_eq!(again.as_ptr(), a.as_ptr());
        assert_eq!(key, key_hash("alpha"), "its key hash, kept with it");
        assert_eq!(table.len, 3);
    }

    #[test]
    fn a_scan_table_that_starts_over_keeps_every_number_it_gave() {
        let mut names = ScanNames::new(Default::default());
        // More spellings than a table holds: it starts over once, and `first` is met again
        // after that (a second number for one spelling, which the grouping merges by text).
        let spell = |i: usize| Name::from(format!("topic {i}"));
        let first = names.number(&spell(0));
        let mut given = vec![(first, spell(0))];
        for i in 1..=NAMES_LIMIT + 10 {
            let name = spell(i);
            given.push((names.number(&name), name));
        }
        let again = names.number(&spell(0));
        assert_ne!(again, first, "met after the table started over");
        given.push((again, spell(0)));
        assert_eq!(names.len(), given.len());
        let mut out = Vec::new();
        names.numbered_into(&mut out);
        let mut out: Vec<(u32, String)> = out
            .into_iter()
            .map(|n| (n.number, n.name.to_string()))
            .collect();
        out.sort();
        let mut want: Vec<(u32, String)> = given
            .into_iter()
            .map(|(number, name)| (number, name.to_string()))
            .collect();
        want.sort();
        assert_eq!(out, want, "every number given, with its spelling, once");
    }

    #[test]
    fn names_longer_than_a_slot_keeps_are_compared_whole() {
        let mut table = NameTable::default();
        table.make_room(8);
        // One hash for all: only the text tells them apart, kept in the slot up to `INLINE`
        // bytes and read from the name past that.
        let texts = [
            "a".repeat(INLINE - 1),
            "a".repeat(INLINE),
            "a".repeat(INLINE + 1),
            "a".repeat(INLINE + 2),
            format!("{}b", "a".repeat(INLINE)),
            format!("{}é", "a".repeat(INLINE - 1)),
            "Zürich — Цюрих 🚆 and a long way to go beyond the slot".to_string(),
        ];
        let names: Vec<Name> = texts.iter().map(|t| table.get_or_insert(t, 42).0).collect();
        assert_eq!(table.len, texts.len());
        for (t, n) in texts.iter().zip(&names) {
            assert_eq!(n.as_str(), t);
            let again = table.get_or_insert(t, 42).0;
            assert_eq!(again.as_ptr(), n.as_ptr(), "found again, not copied: {t:?}");
        }
        assert_eq!(table.len, texts.len());
    }
}
