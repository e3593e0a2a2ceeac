//! The notes of the index in order of id, shared by snapshots: cloning is one reference count,
//! and a write copies only the chunk it touches while a snapshot still holds that chunk.
//!
//! Why not a persistent vector (`imbl`, used before): finding an element walks a tree of four
//! or five nodes, each a likely cache miss, and a hub's references look up tens of thousands of
//! notes several times each. Here it is two array reads.

use std::sync::Arc;

/// Elements a chunk holds: a write after a snapshot copies this many pointers.
const CHUNK: usize = 256;

#[derive(Clone)]
pub struct SharedVec<T> {
    chunks: Arc<Vec<Arc<Vec<T>>>>,
    len: usize,
}

impl<T> Default for SharedVec<T> {
    fn default() -> Self {
        SharedVec {
            chunks: Arc::default(),
            len: 0,
        }
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for SharedVec<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<T> SharedVec<T> {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn get(&self, i: usize) -> Option<&T> {
        self.chunks.get(i / CHUNK)?.get(i % CHUNK)
    }

    /// Where element `i` is, without reading it (for [`super::prefetch`]); null past the end.
    pub fn slot_ptr(&self, i: usize) -> *const T {
        match self.chunks.get(i / CHUNK) {
            Some(chunk) if i % CHUNK < chunk.len() => chunk[i % CHUNK..].as_ptr(),
            _ => std::ptr::null(),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.chunks.iter().flat_map(|c| c.iter())
    }
}

impl<T: Clone> SharedVec<T> {
    pub fn push_back(&mut self, value: T) {
        let chunks = Arc::make_mut(&mut self.chunks);
        match chunks.last_mut() {
            Some(last) if last.len() < CHUNK => Arc::make_mut(last).push(value),
            _ => {
                let mut chunk = Vec::with_capacity(CHUNK);
                chunk.push(value);
                chunks.push(Arc::new(chunk));
            }
        }
        self.len += 1;
    }

    /// Replaces element `i`; an index past the end is ignored (the caller got it from this
    /// vector).
    pub fn set(&mut self, i: usize, value: T) {
        if i >= self.len {
            debug_assert!(false, "index {i} past {}", self.len);
            return;
        }
        let chunks = Arc::make_mut(&mut self.chunks);
        Arc::make_mut(&mut chunks[i / CHUNK])[i % CHUNK] = value;
    }
}

impl<T> FromIterator<T> for SharedVec<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut chunks = Vec::new();
        let mut chunk = Vec::with_capacity(CHUNK);
        let mut len = 0;
        for value in iter {
            if chunk.len() == CHUNK {
                chunks.push(Arc::new(std::mem::replace(
                    &mut chunk,
                    Vec::with_capacity(CHUNK),
                )));
            }
            chunk.push(value);
            len += 1;
        }
        if !chunk.is_empty() {
            chunks.push(Arc::new(chunk));
        }
        SharedVec {
            chunks: Arc::new(chunks),
            len,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_keeps_its_elements_while_the_vector_changes() {
        let mut v: SharedVec<u32> = (0..1000).collect();
        let snapshot = v.clone();
        v.set(3, 300);
        v.set(999, 9);
        v.push_back(1000);
        assert_eq!(
            (v.len(), v.get(3), v.get(999), v.get(1000)),
            (1001, Some(&300), Some(&9), Some(&1000))
        );
        assert_eq!(v.get(1001), None);
        assert_eq!(
            (
                snapshot.len(),
                snapshot.get(3),
                snapshot.get(999),
                snapshot.get(1000)
            ),
            (1000, Some(&3), Some(&999), None)
        );
        assert!(v.iter().copied().eq((0..1001).map(|i| match i {
            3 => 300,
            999 => 9,
            i => i,
        })));
        // One write after a snapshot copies one chunk; the others stay shared.
        let shared = (0..v.chunks.len().min(snapshot.chunks.len()))
            .filter(|&i| Arc::ptr_eq(&v.chunks[i], &snapshot.chunks[i]))
            .count();
        assert_eq!(shared, snapshot.chunks.len() - 2);
    }

    #[test]
    fn pushing_onto_an_empty_vector_fills_chunks_in_turn() {
        let mut v = SharedVec::default();
        for i in 0..(2 * CHUNK + 1) {
            v.push_back(i);
        }
        assert_eq!(v.chunks.len(), 3);
        assert!(v.iter().copied().eq(0..2 * CHUNK + 1));
        assert_eq!(SharedVec::<u8>::default().get(0), None);
    }
}
