//! Link settings for macOS; nothing to do elsewhere.
//!
//! A Ruby extension on macOS is a bundle that uses the interpreter's symbols
//! without linking to libruby: the linker must leave them undefined, to be
//! found when Ruby loads the bundle (`-undefined dynamic_lookup`). rb-sys
//! emits that flag only for its own targets, so this crate's cdylib needs it
//! here.
//!
//! The macOS backend waits with `UL_COMPARE_AND_WAIT_SHARED`, which XNU has
//! from macOS 10.15 on: that is the minimum deployment target. rustc's own
//! default is 10.12 for x86_64 (11.0, high enough, for arm64), so for x86_64
//! a missing or lower `MACOSX_DEPLOYMENT_TARGET` is raised to 10.15, in the
//! environment of the rustc that links this crate.

use std::env;

const MINIMUM_MACOS: &str = "10.15";

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=MACOSX_DEPLOYMENT_TARGET");
    if env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("macos") {
        return;
    }
    println!("cargo:rustc-cdylib-link-arg=-Wl,-undefined,dynamic_lookup");
    let requested = env::var("MACOSX_DEPLOYMENT_TARGET").ok();
    let x86_64 = env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("x86_64");
    if x86_64
        && requested
            .as_deref()
            .is_none_or(|version| older(version, MINIMUM_MACOS))
    {
        println!("cargo:rustc-env=MACOSX_DEPLOYMENT_TARGET={MINIMUM_MACOS}");
    }
}

/// Whether version `a` ("10.13", "11") is older than `b`.
fn older(a: &str, b: &str) -> bool {
    let parse = |version: &str| -> Vec<u32> {
        version
            .split('.')
            .map(|part| part.trim().parse().unwrap_or(0))
            .collect()
    };
    parse(a) < parse(b)
}
