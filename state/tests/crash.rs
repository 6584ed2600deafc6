//! The crash test: a child process imports blocks into a store and is killed with SIGKILL
//! at varying points; after each kill the store must hold exactly the state after its
//! latest committed block, never part of a block.
//!
//! The test re-executes its own binary as the child (selected by an environment variable).
//! The child prints `committed N ROOT` after each commit returns; the parent replays the
//! same deterministic blocks and checks that the store's latest block is the last one the
//! child reported (or the one after it, if the kill came between commit and print), that
//! every stored header is the replayed one, and that the loaded state equals the replayed
//! state exactly.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use avm_state::{state_root, to_hex, BlockHeader, State, Store};
use common::{genesis, next_block, temp_dir};

const CHILD_ENV: &str = "AVM_STATE_CRASH_CHILD_DIR";
const TRIALS: u64 = 50;

/// The child: import blocks until killed.
fn child(dir: &str) -> ! {
    let mut store = Store::open(std::path::Path::new(dir)).expect("child: open");
    let mut state = store.load_state().expect("child: load");
    let mut parent = store.latest_header().expect("child: latest").expect("child: genesis present");
    let mut out = std::io::stdout().lock();
    writeln!(out, "ready").unwrap();
    out.flush().unwrap();
    loop {
        let (block, receipts) = next_block(&parent, &mut state);
        store.commit_block(&block, &receipts, &mut state).expect("child: commit");
        writeln!(out, "committed {} {}", block.header.number, to_hex(&block.header.state_root)).unwrap();
        out.flush().unwrap();
        parent = block.header;
    }
}

#[test]
fn crash_during_block_import_keeps_the_last_committed_block() {
    if let Ok(dir) = std::env::var(CHILD_ENV) {
        child(&dir);
    }
    let dir = temp_dir("crash");
    // The model chain, advanced in step with what the store holds.
    let (mut model, g) = genesis();
    {
        let mut store = Store::open(&dir).unwrap();
        store.commit_block(&g, &[], &mut model).unwrap();
    }
    let mut model_header: BlockHeader = g.header;
    let exe = std::env::current_exe().unwrap();
    let mut kills_after_commits = 0;
    for trial in 0..TRIALS {
        let mut child = Command::new(&exe)
            .args(["--exact", "crash_during_block_import_keeps_the_last_committed_block", "--nocapture"])
            .env(CHILD_ENV, &dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Wait until the child has opened the store, so that slow process start-up on a busy
        // machine does not shift the kill points.
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        while line.trim() != "ready" {
            line.clear();
            if stdout.read_line(&mut line).unwrap() == 0 {
                break;
            }
        }
        // Deterministic but varied kill points, from before the first commit to many blocks in.
        let delay = (trial * 37) % 61;
        std::thread::sleep(Duration::from_millis(delay));
        child.kill().unwrap(); // SIGKILL on unix
        child.wait().unwrap();
        let mut output = String::new();
        stdout.read_to_string(&mut output).unwrap();
        let reported: Vec<(u64, String)> = output
            .lines()
            .filter_map(|l| l.strip_prefix("committed "))
            .map(|l| {
                let (n, root) = l.split_once(' ').unwrap();
                (n.parse().unwrap(), root.to_string())
            })
            .collect();

        let store = Store::open(&dir).unwrap_or_else(|e| panic!("trial {trial}: reopen failed: {e}"));
        let latest = store.latest_header().unwrap().unwrap();
        if let Some((n, _)) = reported.last() {
            kills_after_commits += 1;
            assert!(
                latest.number == *n || latest.number == n + 1,
                "trial {trial}: latest {} vs reported {n}",
                latest.number
            );
        }
        assert!(latest.number >= model_header.number, "trial {trial}: the store lost committed blocks");
        while model_header.number < latest.number {
            let (block, _) = next_block(&model_header, &mut model);
            model_header = block.header;
            assert_eq!(store.header(model_header.number).unwrap().as_ref(), Some(&model_header));
        }
        for (n, root) in &reported {
            assert_eq!(&to_hex(&store.header(*n).unwrap().unwrap().state_root), root, "trial {trial}: block {n}");
        }
        // The latest block is whole: its body and receipts are there; nothing of the block
        // after it is.
        let body = store.block(latest.number).unwrap().unwrap();
        for tx in &body.transactions {
            assert!(store.receipt(&tx.hash()).unwrap().is_some(), "trial {trial}: receipt missing");
        }
        let (next, _) = next_block(&model_header, &mut model.clone());
        assert_eq!(store.header(next.header.number).unwrap(), None, "trial {trial}");
        for tx in &next.transactions {
            assert_eq!(store.receipt(&tx.hash()).unwrap(), None, "trial {trial}: receipt of an uncommitted block");
        }
        let loaded: State = store.load_state().unwrap();
        assert_eq!(loaded, model, "trial {trial}: loaded state differs from block {}", latest.number);
        assert_eq!(state_root(&loaded), latest.state_root, "trial {trial}");
        model.take_dirty();
    }
    eprintln!(
        "crash test: {TRIALS} kills, {kills_after_commits} after at least one commit, {} blocks",
        model_header.number
    );
    // The test must not degenerate into killing children that never commit (the bounds
    // are loose so that a busy machine does not make the test flaky; typically ~45 of 50
    // kills come after commits and ~500 blocks are imported).
    assert!(kills_after_commits >= TRIALS / 5, "only {kills_after_commits} trials got past a commit");
    assert!(model_header.number >= TRIALS / 5, "only {} blocks imported", model_header.number);
    std::fs::remove_dir_all(&dir).unwrap();
}
