//! A hash map that the index's snapshots share: cloning it is one reference count, and a write
//! copies only the shard it touches when a snapshot still holds that shard.
//!
//! Why not a persistent hash trie (`imbl`, used before): its nodes are arrays sized for every
//! slot, so a map of 100,000 names took about 23 MB of nodes against about 5 MB for a plain hash
//! table. The index keeps eight such maps; at 100,000 notes that was 170 MB. Here the map is
//! split into plain hash tables behind reference counts, about [`PER_SHARD`] keys each: a
//! snapshot is cheap, and a writer editing one key after a snapshot copies one shard (a hundred
//! or so entries, a few microseconds), never the map. A change to a note with fifty links
//! touches up to fifty shards of the link groups, so shards stay small.

use std::borrow::Borrow;
use std::hash::{BuildHasher, Hash};
use std::sync::Arc;

use rustc_hash::{FxBuildHasher, FxHashMap};

/// How many keys a shard holds on average when a map is built in one go: a table of 128 places
/// holds up to 112, so at 90 nearly every shard fits one (about 70% full), where an average
/// near the limit gave half the shards 256 places.
const PER_SHARD: usize = 90;

/// The shards of a map built empty and filled by edits (a vault indexed note by note, as
/// tests do; a scan builds its maps in one go, sized to fit).
const MIN_SHARDS: usize = 16;

/// Bounds the shard table (a snapshot's first write copies it).
const MAX_SHARDS: usize = 16_384;

#[derive(Clone)]
pub struct SharedMap<K, V> {
    /// Empty until the first key arrives: most vaults are small, and an empty map should cost
    /// nothing to make or clone.
    shards: Option<Arc<Vec<Shard<K, V>>>>,
}

/// One plain hash table, shared by the snapshots that have not written to it since.
type Shard<K, V> = Arc<FxHashMap<K, V>>;

impl<K, V> Default for SharedMap<K, V> {
    fn default() -> Self {
        SharedMap { shards: None }
    }
}

impl<K: std::fmt::Debug, V: std::fmt::Debug> std::fmt::Debug for SharedMap<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// The shard of a key among `shards` (any count): 32 bits from the middle of the hash scaled to
/// the count. The middle, because the shard's own table places keys by the low bits and tells
/// them apart by the top seven, which must still vary within a shard.
fn shard_of<Q: Hash + ?Sized>(key: &Q, shards: usize) -> usize {
    let middle = (FxBuildHasher.hash_one(key) >> 16) & 0xffff_ffff;
    ((middle * shards as u64) >> 32) as usize
}

impl<K, V> SharedMap<K, V> {
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.shards
            .iter()
            .flat_map(|s| s.iter())
            .flat_map(|s| s.iter())
    }

    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.iter().map(|(k, _)| k)
    }

    /// Bytes of the map's own tables (buckets and control bytes, shard headers), not counting
    /// what keys and values point to: a profiling aid.
    pub fn table_bytes(&self) -> usize {
        let Some(shards) = &self.shards else { return 0 };
        let entry = std::mem::size_of::<(K, V)>() + 1;
        shards.len() * (8 + 16 + std::mem::size_of::<FxHashMap<K, V>>())
            + shards
                .iter()
                .map(|s| match s.capacity() {
                    0 => 0,
                    c => (c * 8 / 7).next_power_of_two() * entry + 16,
                })
                .sum::<usize>()
    }
}

impl<K: Hash + Eq + Clone, V: Clone> SharedMap<K, V> {
    pub fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let shards = self.shards.as_ref()?;
        shards[shard_of(key, shards.len())].get(key)
    }

    /// The stored key equal to `key` (a shared name, say) and its value.
    pub fn get_key_value<Q>(&self, key: &Q) -> Option<(&K, &V)>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let shards = self.shards.as_ref()?;
        shards[shard_of(key, shards.len())].get_key_value(key)
    }

    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.get(key).is_some()
    }

    /// The shard of `key`, made this map's own (copied if a snapshot shares it).
    fn shard_mut<Q: Hash + ?Sized>(&mut self, key: &Q) -> &mut FxHashMap<K, V> {
        let shards = self
            .shards
            .get_or_insert_with(|| Arc::new(vec![Arc::default(); MIN_SHARDS]));
        let shard = shard_of(key, shards.len());
        Arc::make_mut(&mut Arc::make_mut(shards)[shard])
    }

    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        self.shard_mut(&key).insert(key, value)
    }

    pub fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        // A key that is not there copies nothing.
        if !self.contains_key(key) {
            return None;
        }
        self.shard_mut(key).remove(key)
    }

    pub fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        if !self.contains_key(key) {
            return None;
        }
        self.shard_mut(key).get_mut(key)
    }

    /// The value of `key`, inserted as `V::default()` when missing.
    pub fn get_or_default(&mut self, key: K) -> &mut V
    where
        V: Default,
    {
        self.shard_mut(&key).entry(key).or_default()
    }
}

/// How many shards a map built in one go from `len` keys gets.
fn shards_for(len: usize) -> usize {
    len.div_ceil(PER_SHARD).clamp(MIN_SHARDS, MAX_SHARDS)
}

impl<K: Hash + Eq + Clone + Send + Sync, V: Clone + Send + Sync> SharedMap<K, V> {
    /// The map of `entries` (distinct keys), as `collect` makes it, with the keys hashed and
    /// the shards filled on all cores: the index's link groups are a hundred thousand keys
    /// whose texts lie all over memory.
    pub fn from_vec_par(entries: Vec<(K, V)>) -> Self {
        use rayon::prelude::*;
        if entries.is_empty() {
            return SharedMap::default();
        }
        let count = shards_for(entries.len());
        let places: Vec<u32> = entries
            .par_iter()
            .with_min_len(1024)
            .map(|(k, _)| shard_of(k, count) as u32)
            .collect();
        let mut sizes = vec![0usize; count];
        for &s in &places {
            sizes[s as usize] += 1;
        }
        let mut buckets: Vec<Vec<(K, V)>> = sizes.iter().map(|&n| Vec::with_capacity(n)).collect();
        for (entry, s) in entries.into_iter().zip(places) {
            buckets[s as usize].push(entry);
        }
        let shards: Vec<Shard<K, V>> = buckets
            .into_par_iter()
            .with_min_len(16)
            .map(|bucket| {
                let mut shard = FxHashMap::with_capacity_and_hasher(bucket.len(), FxBuildHasher);
                shard.extend(bucket);
                Arc::new(shard)
            })
            .collect();
        SharedMap {
            shards: Some(Arc::new(shards)),
        }
    }
}

impl<K: Hash + Eq + Clone, V: Clone> FromIterator<(K, V)> for SharedMap<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let entries: Vec<(K, V)> = iter.into_iter().collect();
        if entries.is_empty() {
            return SharedMap::default();
        }
        let count = shards_for(entries.len());
        // Each shard sized for its keys at once, rather than grown by doubling.
        let places: Vec<usize> = entries.iter().map(|(k, _)| shard_of(k, count)).collect();
        let mut sizes = vec![0usize; count];
        for &s in &places {
            sizes[s] += 1;
        }
        let mut shards: Vec<FxHashMap<K, V>> = sizes
            .iter()
            .map(|&n| FxHashMap::with_capacity_and_hasher(n, FxBuildHasher))
            .collect();
        for ((k, v), s) in entries.into_iter().zip(places) {
            shards[s].insert(k, v);
        }
        SharedMap {
            shards: Some(Arc::new(shards.into_iter().map(Arc::new).collect())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_keeps_its_values_while_the_map_changes() {
        let mut map: SharedMap<String, u32> = (0..1000).map(|i| (format!("k{i}"), i)).collect();
        assert_eq!(map.iter().count(), 1000);
        let snapshot = map.clone();
        map.insert("k1".into(), 100);
        *map.get_or_default("new".into()) += 7;
        *map.get_mut("k2").unwrap() = 200;
        assert_eq!(map.remove("k3"), Some(3));
        assert_eq!(map.remove("k3"), None);
        assert_eq!(map.get_mut("absent"), None);
        assert_eq!(
            (map.get("k1"), map.get("k2"), map.get("k3"), map.get("new")),
            (Some(&100), Some(&200), None, Some(&7))
        );
        assert_eq!(map.iter().count(), 1000);
        assert_eq!(
            (snapshot.get("k1"), snapshot.get("k2"), snapshot.get("k3")),
            (Some(&1), Some(&2), Some(&3))
        );
        assert!(!snapshot.contains_key("new"));
        assert_eq!(snapshot.iter().count(), 1000);
        let mut keys: Vec<_> = map.keys().cloned().collect();
        keys.sort();
        assert_eq!(keys.len(), 1000);
        assert!(keys.contains(&"new".to_string()) && !keys.contains(&"k3".to_string()));
    }

    #[test]
    fn a_map_built_in_one_go_has_shards_of_about_a_hundred_keys() {
        let map: SharedMap<u32, u32> = (0..100_000).map(|i| (i, i)).collect();
        let shards = map.shards.as_ref().unwrap();
        assert_eq!(shards.len(), 1112);
        assert!(shards.iter().all(|s| s.len() < 2 * PER_SHARD), "balanced");
        // Nearly every shard fits a table of 128 places.
        let small = shards.iter().filter(|s| s.capacity() <= 112).count();
        assert!(
            small * 100 >= shards.len() * 95,
            "{small} of {}",
            shards.len()
        );
        let mut edited = map.clone();
        edited.insert(7, 0);
        // One shard copied; the others still shared with the snapshot.
        let own = edited.shards.as_ref().unwrap();
        let shared = (0..own.len())
            .filter(|&i| Arc::ptr_eq(&own[i], &shards[i]))
            .count();
        assert_eq!(shared, 1111);
    }

    #[test]
    fn a_map_built_on_all_cores_is_the_map_collected() {
        let entries: Vec<(String, u32)> = (0..20_000).map(|i| (format!("k{i}"), i)).collect();
        let collected: SharedMap<String, u32> = entries.iter().cloned().collect();
        let built = SharedMap::from_vec_par(entries.clone());
        let shards = |m: &SharedMap<String, u32>| {
            m.shards
                .as_ref()
                .unwrap()
                .iter()
                .map(|s| s.len())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            shards(&built),
            shards(&collected),
            "the same keys in each shard"
        );
        for (k, v) in &entries {
            assert_eq!(built.get(k.as_str()), Some(v));
        }
        assert_eq!(built.get("k20000"), None);
        assert!(
            SharedMap::<String, u32>::from_vec_par(Vec::new())
                .shards
                .is_none()
        );
    }

    #[test]
    fn an_empty_map_holds_no_table_until_written() {
        let mut map: SharedMap<String, u32> = SharedMap::default();
        assert!(map.shards.is_none());
        assert_eq!(map.remove("x"), None);
        assert!(map.shards.is_none());
        map.insert("x".into(), 1);
        assert_eq!((map.iter().count(), map.get("x")), (1, Some(&1)));
        let empty: SharedMap<String, u32> = std::iter::empty().collect();
        assert!(empty.shards.is_none());
    }

    #[test]
    fn paths_are_found_by_path() {
        use std::path::{Path, PathBuf};
        let map: SharedMap<PathBuf, u32> = [(PathBuf::from("/v/a.md"), 1)].into_iter().collect();
        assert_eq!(map.get(Path::new("/v/a.md")), Some(&1));
    }
}
