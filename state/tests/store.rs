//! The redb store: commit, reopen, lookups, checks and corrupt files.

mod common;

use avm_state::{state_root, Address, Block, State, Store, StoreError};
use common::{genesis, next_block, temp_dir};

#[test]
fn reopen_restores_exact_state() {
    let dir = temp_dir("reopen");
    let (mut state, g) = genesis();
    let mut headers = vec![g.header.clone()];
    let mut all_receipts = vec![];
    {
        let mut store = Store::open(&dir).unwrap();
        assert_eq!(store.latest_header().unwrap(), None);
        store.commit_block(&g, &[], &mut state).unwrap();
        let mut parent = g.header.clone();
        for _ in 0..30 {
            let (block, receipts) = next_block(&parent, &mut state);
            store.commit_block(&block, &receipts, &mut state).unwrap();
            parent = block.header.clone();
            headers.push(block.header.clone());
            all_receipts.extend(receipts);
        }
        assert!(state.take_dirty().is_empty());
        store.meta_set("alias/token", b"0x01").unwrap();
    }
    let store = Store::open(&dir).unwrap();
    let loaded = store.load_state().unwrap();
    assert_eq!(loaded, state);
    let latest = store.latest_header().unwrap().unwrap();
    assert_eq!(latest.number, 30);
    assert_eq!(state_root(&loaded), latest.state_root);
    assert_eq!(state_root(&loaded), state_root(&state));
    // Storage deleted in some blocks is gone from the store too.
    assert!(loaded.accounts().any(|(a, _)| loaded.storage_get(a, b"last").is_none()));
    for h in &headers {
        assert_eq!(store.header(h.number).unwrap().as_ref(), Some(h));
    }
    let b7: Block = store.block(7).unwrap().unwrap();
    assert_eq!(b7.header, headers[7]);
    assert_eq!(b7.transactions.len(), b7.header.tx_count as usize);
    assert_eq!(store.block(31).unwrap(), None);
    for r in &all_receipts {
        assert_eq!(store.receipt(&r.tx_hash).unwrap().as_ref(), Some(r));
    }
    assert_eq!(store.receipt(&[0; 32]).unwrap(), None);
    assert_eq!(store.meta_get("alias/token").unwrap(), Some(b"0x01".to_vec()));
    assert_eq!(store.meta_get("nothing").unwrap(), None);
    store.meta_set("alias/zed", b"2").unwrap();
    store.meta_set("key/alice", b"k").unwrap();
    let aliases: Vec<_> = store.meta_list("alias/").unwrap().into_iter().map(|(k, _)| k).collect();
    assert_eq!(aliases, ["alias/token", "alias/zed"]);
    store.meta_remove("alias/zed").unwrap();
    assert_eq!(store.meta_get("alias/zed").unwrap(), None);
    drop(store);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn commit_checks_the_chain() {
    let dir = temp_dir("checks");
    let mut store = Store::open(&dir).unwrap();
    let (mut state, g) = genesis();
    let mut copy = state.clone();
    let (b1, r1) = next_block(&g.header, &mut copy);
    assert!(matches!(store.commit_block(&b1, &r1, &mut state), Err(StoreError::NotNextBlock { expected: 0, got: 1 })));
    store.commit_block(&g, &[], &mut state).unwrap();
    assert!(matches!(store.commit_block(&g, &[], &mut state), Err(StoreError::NotNextBlock { expected: 1, got: 0 })));
    let mut bad = b1.clone();
    bad.header.parent_hash = [9; 32];
    assert!(matches!(store.commit_block(&bad, &r1, &mut copy), Err(StoreError::ParentMismatch { .. })));
    assert!(matches!(store.commit_block(&b1, &[], &mut copy), Err(StoreError::ReceiptCount { txs: _, receipts: 0 })));
    let cp = copy.checkpoint();
    assert!(matches!(store.commit_block(&b1, &r1, &mut copy), Err(StoreError::OpenCheckpoints(1))));
    copy.commit(cp);
    // The failed attempts kept the dirty sets, so this commit still writes block 1's changes.
    store.commit_block(&b1, &r1, &mut copy).unwrap();
    drop(store);
    let store = Store::open(&dir).unwrap();
    assert_eq!(store.load_state().unwrap(), copy);
    drop(store);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn reverted_account_creation_is_not_stored() {
    let dir = temp_dir("reverted");
    let mut store = Store::open(&dir).unwrap();
    let (mut state, g) = genesis();
    let ghost = Address([0xee; 20]);
    let cp = state.checkpoint();
    state.set_balance(&ghost, 5);
    state.storage_set(&ghost, b"k", b"v").unwrap();
    state.set_code(&ghost, vec![1, 2]);
    state.revert(cp);
    store.commit_block(&g, &[], &mut state).unwrap();
    let loaded = store.load_state().unwrap();
    assert!(!loaded.exists(&ghost));
    assert_eq!(loaded, state);
    assert_eq!(loaded.codes().count(), 0);
    drop(store);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn corrupt_file_is_an_error() {
    let dir = temp_dir("corrupt");
    std::fs::write(dir.join(avm_state::DB_FILE), vec![0x5a; 10_000]).unwrap();
    let err = Store::open(&dir).unwrap_err();
    assert!(!err.to_string().is_empty());
    // A valid database with damaged pages: open or load fails cleanly, or reads back
    // something, but never panics the caller.
    let dir2 = temp_dir("corrupt2");
    {
        let mut store = Store::open(&dir2).unwrap();
        let (mut state, g) = genesis();
        store.commit_block(&g, &[], &mut state).unwrap();
    }
    let path = dir2.join(avm_state::DB_FILE);
    let mut bytes = std::fs::read(&path).unwrap();
    let len = bytes.len();
    for i in (len / 4..len).step_by(97) {
        bytes[i] ^= 0xff;
    }
    std::fs::write(&path, &bytes).unwrap();
    let opened = Store::open(&dir2);
    eprintln!("damaged open: {:?}", opened.as_ref().map(|_| ()));
    if let Ok(store) = opened {
        let _ = store.load_state();
        let _ = store.latest_header();
    }
    let _ = State::new();
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(&dir2).unwrap();
}
