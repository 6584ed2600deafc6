//! `avm`: run RISC-V programs on aVM. See `avm --help` and [`cli`].

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
