//! The chain commands of `avm`: a development chain in a data dir.
//!
//! Every command opens the chain in `--data-dir` (redb store: state, blocks,
//! receipts, keys and aliases), does its work and, for a transaction, mines
//! it into a block at once, like a development node's automine. Each
//! transaction is signed with the named account's key and goes through the
//! same validation, execution and block commit as any other.
//!
//! Exit status: 0 when the command did what it was asked (for a transaction:
//! mined with status `success`), 1 when a mined transaction failed (revert,
//! out-of-gas, fault: the receipt says why), 2 for bad input (unknown name,
//! bad argument, invalid transaction, corrupt data dir). A command line that
//! does not parse at all (unknown flag, missing argument) exits 3, as for
//! `avm exec`.

pub mod demo;
pub mod names;
pub mod node;
pub mod render;
pub mod scenario;
pub mod toolchain;
pub mod txs;
pub mod values;

use std::path::{Path, PathBuf};

use avm::engine::{EngineKind, DEFAULT_ENGINE};
use clap::{Args, Subcommand, ValueEnum};

/// Exit status: a mined transaction did not succeed.
pub const EXIT_FAILED_TX: u8 = 1;
/// Exit status: bad input.
pub const EXIT_BAD_INPUT: u8 = 2;

/// A command's error: a message and an exit status.
pub struct Failure {
    /// What to print after `error: `.
    pub message: String,
    /// The exit status.
    pub status: u8,
}

impl From<String> for Failure {
    fn from(message: String) -> Failure {
        Failure { message, status: EXIT_BAD_INPUT }
    }
}

/// The result of a command: its exit status.
pub type Outcome = Result<u8, Failure>;

/// The parser of `--engine`: one of [`EngineKind::ALL`] by name, listed in
/// `--help` as clap's `value_enum` would. The library type does not depend
/// on clap; the command line gives it its parser here.
pub fn engine_kind() -> impl clap::builder::TypedValueParser<Value = EngineKind> {
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(EngineKind::ALL.map(EngineKind::name))
        .try_map(|name| name.parse::<EngineKind>())
}

/// Options every chain command takes.
#[derive(Args, Debug, Clone)]
pub struct ChainOpts {
    /// The chain's data directory: the global `--data-dir` (see [`run`]),
    /// which may stand before or after the command's name.
    #[arg(skip)]
    pub data_dir: PathBuf,
    /// Execution engine.
    #[arg(long, value_parser = engine_kind(), default_value_t = DEFAULT_ENGINE)]
    pub engine: EngineKind,
    /// Machine-readable output (integers as decimal strings).
    #[arg(long)]
    pub json: bool,
}

/// Engines for commands that can compare them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum EngineChoice {
    /// The reference interpreter.
    Interp,
    /// The JIT.
    Jit,
    /// Both, comparing every receipt and gas figure.
    Both,
}

impl EngineChoice {
    /// The engines to run.
    pub fn engines(self) -> Vec<EngineKind> {
        match self {
            EngineChoice::Interp => vec![EngineKind::Interp],
            EngineChoice::Jit => vec![EngineKind::Jit],
            EngineChoice::Both => vec![EngineKind::Interp, EngineKind::Jit],
        }
    }
}

/// The chain commands.
#[derive(Subcommand, Debug)]
pub enum ChainCommand {
    /// Create a dev chain in the data dir with funded accounts alice, bob and carol.
    Init {
        #[command(flatten)]
        opts: ChainOpts,
    },
    /// Manage account keys kept in the data dir.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Deploy a contract (a bundled name, see `avm contracts`, or an ELF path); ARGS go to its `init`.
    Deploy {
        /// The deploying account.
        #[arg(long, value_name = "NAME")]
        from: String,
        /// Bundled contract name or ELF path.
        contract: String,
        /// Arguments of `init`, parsed by its ABI types.
        #[arg(allow_negative_numbers = true)]
        args: Vec<String>,
        /// Name the new contract so commands can use it.
        #[arg(long = "as", value_name = "ALIAS")]
        alias: Option<String>,
        /// Native value sent to the contract.
        #[arg(long, default_value = "0")]
        value: String,
        /// Gas limit of the transaction.
        #[arg(long, default_value_t = txs::DEFAULT_GAS_LIMIT)]
        gas_limit: u64,
        #[command(flatten)]
        opts: ChainOpts,
    },
    /// Call a contract method in a signed transaction, mined at once.
    Call {
        /// The calling account.
        #[arg(long, value_name = "NAME")]
        from: String,
        /// Contract address, alias or account name.
        target: String,
        /// Method name.
        method: String,
        /// Arguments, parsed by the method's ABI types (names and aliases where an Address is expected).
        #[arg(allow_negative_numbers = true)]
        args: Vec<String>,
        /// Native value sent along.
        #[arg(long, default_value = "0")]
        value: String,
        /// Gas limit of the transaction.
        #[arg(long, default_value_t = txs::DEFAULT_GAS_LIMIT)]
        gas_limit: u64,
        #[command(flatten)]
        opts: ChainOpts,
    },
    /// Call a method read-only: no transaction, nothing changes.
    View {
        /// Contract address or alias.
        target: String,
        /// Method name.
        method: String,
        /// Arguments, parsed by the method's ABI types.
        #[arg(allow_negative_numbers = true)]
        args: Vec<String>,
        #[command(flatten)]
        opts: ChainOpts,
    },
    /// Send native value.
    Send {
        /// The sending account.
        #[arg(long, value_name = "NAME")]
        from: String,
        /// Recipient: address, account name or alias.
        to: String,
        /// Amount.
        amount: String,
        #[command(flatten)]
        opts: ChainOpts,
    },
    /// Native balance of an account or contract.
    Balance {
        /// Address, account name or alias.
        who: String,
        #[command(flatten)]
        opts: ChainOpts,
    },
    /// A raw storage value of a contract (KEY as 0x hex, or text).
    Storage {
        /// Contract address or alias.
        target: String,
        /// Storage key: 0x hex bytes, or text taken as its UTF-8 bytes.
        key: String,
        #[command(flatten)]
        opts: ChainOpts,
    },
    /// A transaction's receipt.
    Receipt {
        /// Transaction hash (0x hex).
        tx_hash: String,
        #[command(flatten)]
        opts: ChainOpts,
    },
    /// A block header (the latest if N is not given).
    Block {
        /// Block number.
        number: Option<u64>,
        #[command(flatten)]
        opts: ChainOpts,
    },
    /// List the bundled contracts and their methods and events.
    Contracts {
        #[command(flatten)]
        opts: ChainOpts,
    },
    /// End-to-end demo: tokens, a DEX and signatures on a fresh temporary chain.
    Demo {
        /// Engine(s): `both` runs the demo twice and compares every receipt.
        #[arg(long, value_enum, default_value = "jit")]
        engine: EngineChoice,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
        /// Swaps to run (more = a longer run with a progress bar).
        #[arg(long, default_value_t = 20)]
        swaps: u32,
    },
    /// Run declarative scenario files (TOML) against fresh in-memory chains.
    Test {
        /// Scenario files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Engine(s): `both` also fails on any difference between the engines.
        #[arg(long, value_enum, default_value = "jit")]
        engine: EngineChoice,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Write a new contract crate from the template.
    New {
        /// Crate name (and directory).
        name: String,
    },
    /// Build a contract crate for aVM and print the ELF path.
    Build {
        /// The crate's directory.
        #[arg(default_value = ".")]
        path: PathBuf,
    },
}

/// `avm key` subcommands.
#[derive(Subcommand, Debug)]
pub enum KeyCommand {
    /// Create a key (derived from the name, for a dev chain) and fund nothing.
    New {
        /// Account name.
        name: String,
        #[command(flatten)]
        opts: ChainOpts,
    },
    /// List the keys and their addresses.
    List {
        #[command(flatten)]
        opts: ChainOpts,
    },
}

/// Run a chain command on the chain in `data_dir` (the global `--data-dir`).
pub fn run(cmd: &ChainCommand, data_dir: &Path) -> Outcome {
    let at = |opts: &ChainOpts| ChainOpts { data_dir: data_dir.to_path_buf(), ..opts.clone() };
    match cmd {
        ChainCommand::Init { opts } => node::init(&at(opts)),
        ChainCommand::Key(KeyCommand::New { name, opts }) => node::key_new(&at(opts), name),
        ChainCommand::Key(KeyCommand::List { opts }) => node::key_list(&at(opts)),
        ChainCommand::Deploy { from, contract, args, alias, value, gas_limit, opts } => {
            txs::deploy(&at(opts), from, contract, args, alias.as_deref(), value, *gas_limit)
        }
        ChainCommand::Call { from, target, method, args, value, gas_limit, opts } => {
            txs::call(&at(opts), from, target, method, args, value, *gas_limit)
        }
        ChainCommand::View { target, method, args, opts } => txs::view(&at(opts), target, method, args),
        ChainCommand::Send { from, to, amount, opts } => txs::send(&at(opts), from, to, amount),
        ChainCommand::Balance { who, opts } => node::balance(&at(opts), who),
        ChainCommand::Storage { target, key, opts } => node::storage(&at(opts), target, key),
        ChainCommand::Receipt { tx_hash, opts } => node::receipt(&at(opts), tx_hash),
        ChainCommand::Block { number, opts } => node::block(&at(opts), *number),
        ChainCommand::Contracts { opts } => node::contracts(&at(opts)),
        ChainCommand::Demo { engine, json, swaps } => demo::run(*engine, *json, *swaps),
        ChainCommand::Test { files, engine, json } => scenario::run_files(files, *engine, *json),
        ChainCommand::New { name } => toolchain::new(name),
        ChainCommand::Build { path } => toolchain::build(path),
    }
}
