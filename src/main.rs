//! `avm`: run RISC-V programs on aVM. See `avm --help` and [`cli`].

mod cli;
mod commands;

fn main() -> std::process::ExitCode {
    cli::main()
}
