//! Link settings of the workload modules: a module has no `main`, only the export `run`
//! (wasm-ld exports nothing from an executable unless told to).
fn main() {
    println!("cargo:rustc-link-arg-bins=--no-entry");
    println!("cargo:rustc-link-arg-bins=--export=run");
}
