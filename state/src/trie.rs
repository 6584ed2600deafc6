//! A binary Merkle trie keyed by 256-bit paths, updated in place.
//!
//! The state root must be recomputed after every block, and the state only
//! grows; a commitment rebuilt from scratch costs time in proportion to the
//! whole state, which sooner or later exceeds the block itself. This trie
//! costs time in proportion to what changed: a block that writes `k` entries
//! of a state of `n` rehashes about `k · log2(n)` nodes.
//!
//! **The commitment.** Each entry has a path (the keccak-256 of its key, so
//! paths are spread evenly and nobody can choose a deep one) and a leaf hash
//! (which commits to the key and the value). The hash of a set of entries
//! below depth `d` is:
//!
//! - no entry: 32 zero bytes ([`EMPTY_ROOT`]);
//! - one entry: its leaf hash, wherever it sits (a lone entry is not pushed
//!   down to depth 256, which is what makes the tree small);
//! - two or more: `keccak256(0x01 ‖ left ‖ right)`, where `left` and `right`
//!   are the hashes of the entries whose path has bit `d` (most significant
//!   first) clear and set, both taken below depth `d + 1`.
//!
//! The hash depends only on the set of entries, never on the order they were
//! written in, and [`reference_root`] computes it directly from a list, which
//! the tests use to check the trie. Leaf hashes start with a `0x00` byte and
//! internal nodes with `0x01` (see [`crate::root`]), so neither can pass for
//! the other.
//!
//! **The structure.** Nodes own their children; a node's hash is cached and
//! cleared on the way down whenever an entry below it changes, so
//! [`MerkleTrie::root`] only rehashes the nodes on the paths that changed
//! since the last call.

use crate::address::Hash32;
use crate::root::{node_hash, EMPTY_ROOT};

/// A node: one entry, or a fork with at least two entries below it.
#[derive(Debug, Clone)]
enum Node {
    Leaf { path: Hash32, hash: Hash32 },
    Fork { hash: Option<Hash32>, children: Box<[Option<Node>; 2]> },
}

/// Bit `depth` of `path`, most significant bit of byte 0 first.
fn bit(path: &Hash32, depth: usize) -> usize {
    usize::from(path[depth / 8] >> (7 - depth % 8) & 1)
}

/// A set of (path, leaf hash) entries with a Merkle root kept up to date
/// incrementally (see the module docs).
#[derive(Debug, Clone, Default)]
pub struct MerkleTrie {
    root: Option<Node>,
    len: usize,
}

impl MerkleTrie {
    /// An empty trie.
    pub fn new() -> MerkleTrie {
        MerkleTrie::default()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the trie has no entries.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Sets the leaf hash of the entry at `path` (adding the entry if new).
    pub fn insert(&mut self, path: Hash32, leaf: Hash32) {
        if insert(&mut self.root, path, leaf, 0) {
            self.len += 1;
        }
    }

    /// Removes the entry at `path`, if any.
    pub fn remove(&mut self, path: &Hash32) {
        if remove(&mut self.root, path, 0) {
            self.len -= 1;
        }
    }

    /// The root hash, rehashing only what changed since the last call.
    pub fn root(&mut self) -> Hash32 {
        self.root.as_mut().map_or(EMPTY_ROOT, hash)
    }
}

/// Insert below `slot` at `depth`; true if the entry is new.
fn insert(slot: &mut Option<Node>, path: Hash32, leaf: Hash32, depth: usize) -> bool {
    match slot {
        None => {
            *slot = Some(Node::Leaf { path, hash: leaf });
            true
        }
        Some(Node::Leaf { path: p, hash }) if *p == path => {
            *hash = leaf;
            false
        }
        Some(Node::Leaf { .. }) => {
            // Two entries now: fork here and push the old one down, then
            // insert the new one into the fork (which forks again below if
            // both paths agree on this bit).
            let Some(old) = slot.take() else { return false };
            let Node::Leaf { path: old_path, .. } = &old else { return false };
            let side = bit(old_path, depth);
            let mut children: Box<[Option<Node>; 2]> = Box::new([None, None]);
            children[side] = Some(old);
            let mut fork = Some(Node::Fork { hash: None, children });
            insert_into_fork(&mut fork, path, leaf, depth);
            *slot = fork;
            true
        }
        Some(Node::Fork { .. }) => insert_into_fork(slot, path, leaf, depth),
    }
}

/// Insert into the fork in `slot` (at `depth`), clearing its cached hash.
fn insert_into_fork(slot: &mut Option<Node>, path: Hash32, leaf: Hash32, depth: usize) -> bool {
    let Some(Node::Fork { hash, children }) = slot else { return false };
    *hash = None;
    let side = bit(&path, depth);
    // A fork always has two entries below it; if the new entry goes to the
    // side of a lone leaf whose path agrees, that side forks again.
    insert(&mut children[side], path, leaf, depth + 1)
}

/// Remove below `slot` at `depth`; true if the entry was there.
fn remove(slot: &mut Option<Node>, path: &Hash32, depth: usize) -> bool {
    match slot {
        None => false,
        Some(Node::Leaf { path: p, .. }) => {
            if p != path {
                return false;
            }
            *slot = None;
            true
        }
        Some(Node::Fork { hash, children }) => {
            if !remove(&mut children[bit(path, depth)], path, depth + 1) {
                return false;
            }
            *hash = None;
            // A fork left with a lone leaf below it is that leaf (a lone
            // entry's hash is its leaf hash, at any depth); a fork with a
            // fork on one side and nothing on the other stays.
            let lone = match &mut **children {
                [Some(Node::Leaf { .. }), None] => children[0].take(),
                [None, Some(Node::Leaf { .. })] => children[1].take(),
                _ => None,
            };
            if lone.is_some() {
                *slot = lone;
            }
            true
        }
    }
}

/// A node's hash, computing (and caching) what is missing.
fn hash(node: &mut Node) -> Hash32 {
    match node {
        Node::Leaf { hash, .. } => *hash,
        Node::Fork { hash: Some(h), .. } => *h,
        Node::Fork { hash: cached, children } => {
            let [left, right] = &mut **children;
            let l = left.as_mut().map_or(EMPTY_ROOT, hash);
            let r = right.as_mut().map_or(EMPTY_ROOT, hash);
            let h = node_hash(&l, &r);
            *cached = Some(h);
            h
        }
    }
}

/// The root of a set of entries computed directly from the definition
/// (module docs): the reference the trie is tested against. Paths must be
/// distinct.
pub fn reference_root(entries: &[(Hash32, Hash32)]) -> Hash32 {
    let mut sorted = entries.to_vec();
    sorted.sort();
    reference(&sorted, 0)
}

fn reference(entries: &[(Hash32, Hash32)], depth: usize) -> Hash32 {
    match entries {
        [] => EMPTY_ROOT,
        [(_, leaf)] => *leaf,
        _ => {
            // Sorted by path, so the entries with bit `depth` clear come first.
            let split = entries.partition_point(|(p, _)| bit(p, depth) == 0);
            node_hash(&reference(&entries[..split], depth + 1), &reference(&entries[split..], depth + 1))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::address::keccak256;

    fn entry(i: u32, v: u32) -> (Hash32, Hash32) {
        (keccak256(&i.to_le_bytes()), keccak256(&[i.to_le_bytes(), v.to_le_bytes()].concat()))
    }

    #[test]
    fn small_tries_match_the_definition() {
        let mut t = MerkleTrie::new();
        assert_eq!(t.root(), EMPTY_ROOT);
        let (p0, l0) = entry(0, 0);
        t.insert(p0, l0);
        assert_eq!(t.root(), l0, "a lone entry's root is its leaf hash");
        let (p1, l1) = entry(1, 0);
        t.insert(p1, l1);
        assert_eq!(t.root(), reference_root(&[(p0, l0), (p1, l1)]));
        t.remove(&p0);
        assert_eq!(t.root(), l1);
        t.remove(&p1);
        assert_eq!((t.root(), t.len()), (EMPTY_ROOT, 0));
    }

    #[test]
    fn paths_sharing_a_long_prefix_fork_where_they_differ() {
        let a = [0u8; 32];
        let mut b = [0u8; 32];
        b[31] = 1; // differs only at the last bit
        let (la, lb) = ([1u8; 32], [2u8; 32]);
        let mut t = MerkleTrie::new();
        t.insert(a, la);
        t.insert(b, lb);
        let mut want = node_hash(&la, &lb);
        for _ in 0..255 {
            want = node_hash(&want, &EMPTY_ROOT);
        }
        assert_eq!(t.root(), want);
        assert_eq!(reference_root(&[(a, la), (b, lb)]), want);
        t.remove(&b);
        assert_eq!(t.root(), la);
    }

    proptest::proptest! {
        /// Any sequence of inserts, overwrites and removals (keys from a
        /// small range, so they collide) leaves the trie with the root the
        /// definition gives for what is left, at every root taken midway.
        #[test]
        fn random_updates_match_the_definition(
            ops in proptest::collection::vec((0u32..64, proptest::prelude::any::<u32>(), proptest::prelude::any::<bool>()), 0..300)
        ) {
            let mut t = MerkleTrie::new();
            let mut live = std::collections::BTreeMap::new();
            for (i, (key, value, remove)) in ops.into_iter().enumerate() {
                let (path, leaf) = entry(key, value);
                if remove {
                    t.remove(&path);
                    live.remove(&path);
                } else {
                    t.insert(path, leaf);
                    live.insert(path, leaf);
                }
                if i % 17 == 0 {
                    let all: Vec<_> = live.iter().map(|(p, l)| (*p, *l)).collect();
                    proptest::prop_assert_eq!(t.root(), reference_root(&all));
                }
            }
            let all: Vec<_> = live.iter().map(|(p, l)| (*p, *l)).collect();
            proptest::prop_assert_eq!(t.root(), reference_root(&all));
            proptest::prop_assert_eq!(t.len(), live.len());
        }
    }
}
