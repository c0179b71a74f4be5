//! Embeds `models/hip-default.safetensors` into hip-model when it exists, so that the `hip` binary
//! and the Python package find their default model without any path (`default_model`).
fn main() {
    let manifest = std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let model = manifest.join("../../models/hip-default.safetensors");
    println!("cargo:rustc-check-cfg=cfg(has_default_model)");
    println!("cargo:rerun-if-changed={}", model.display());
    if model.exists() {
        println!("cargo:rustc-cfg=has_default_model");
        println!("cargo:rustc-env=HIP_DEFAULT_MODEL_PATH={}", model.canonicalize().expect("exists").display());
    }
}
