//! Links every contract with the SDK's linker script.
fn main() {
    println!("cargo:rustc-link-arg-bins=-Tavm-contract.x");
    println!("cargo:rerun-if-changed=build.rs");
}
