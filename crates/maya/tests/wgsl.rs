//! Every WGSL module of `src/gpu/wgsl/` is parsed and validated with naga
//! (the compiler wgpu uses), without an adapter and without the `gpu`
//! feature, in both precisions: each module names its float type `real`,
//! and the launcher prepends `alias real = f64;` or `alias real = f32;`
//! (the f32 variant is validated without the FLOAT64 capability, so no
//! f64 may leak into it). f64 code may not call the transcendental builtins that
//! Vulkan's GLSL.std.450 defines for 16- and 32-bit floats only (naga would
//! emit invalid SPIR-V for them, which some drivers run and others answer
//! with garbage).

use naga::valid::{Capabilities, ValidationFlags, Validator};
use naga::{Expression, MathFunction, Module, ScalarKind};
use std::path::PathBuf;

/// Builtins that have no 64-bit form in SPIR-V's GLSL.std.450 (sqrt,
/// inverseSqrt, fma, abs, floor, min, max, clamp, … do).
const F32_ONLY: [MathFunction; 20] = [
    MathFunction::Radians,
    MathFunction::Degrees,
    MathFunction::Sin,
    MathFunction::Cos,
    MathFunction::Tan,
    MathFunction::Asin,
    MathFunction::Acos,
    MathFunction::Atan,
    MathFunction::Sinh,
    MathFunction::Cosh,
    MathFunction::Tanh,
    MathFunction::Asinh,
    MathFunction::Acosh,
    MathFunction::Atanh,
    MathFunction::Atan2,
    MathFunction::Pow,
    MathFunction::Exp,
    MathFunction::Log,
    MathFunction::Exp2,
    MathFunction::Log2,
];

/// The line the launcher prepends to a module for each precision (as
/// `gpu::DType` writes it).
const ALIASES: [(&str, &str); 2] = [
    ("f64", "alias real = f64;\n"),
    ("f32", "alias real = f32;\n"),
];

/// Parses and validates one module (f64 and int64 allowed, as requested
/// from the device), then rejects an f32-only builtin applied to f64.
fn check(name: &str, source: &str) -> Result<(), String> {
    check_with(
        name,
        source,
        Capabilities::FLOAT64 | Capabilities::SHADER_INT64,
    )
}

/// [`check`] under the given capabilities.
fn check_with(name: &str, source: &str, capabilities: Capabilities) -> Result<(), String> {
    let module: Module =
        naga::front::wgsl::parse_str(source).map_err(|e| e.emit_to_string(source))?;
    let info = Validator::new(ValidationFlags::all(), capabilities)
        .validate(&module)
        .map_err(|e| e.emit_to_string(source))?;
    let functions = module
        .functions
        .iter()
        .map(|(h, f)| (f, &info[h], f.name.clone().unwrap_or_default()))
        .chain(
            module
                .entry_points
                .iter()
                .enumerate()
                .map(|(k, ep)| (&ep.function, info.get_entry_point(k), ep.name.clone())),
        );
    for (function, finfo, fname) in functions {
        for (_, expr) in function.expressions.iter() {
            let Expression::Math { fun, arg, .. } = expr else {
                continue;
            };
            let scalar = finfo[*arg].ty.inner_with(&module.types).scalar();
            let is_f64 = scalar.is_some_and(|s| s.kind == ScalarKind::Float && s.width == 8);
            if is_f64 && F32_ONLY.contains(fun) {
                return Err(format!(
                    "{name}: function `{fname}` calls {fun:?} on f64, which Vulkan does not \
                     define (GLSL.std.450 has it for 16/32-bit floats only); write it in WGSL"
                ));
            }
        }
    }
    Ok(())
}

fn wgsl_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/gpu/wgsl")
}

#[test]
fn every_wgsl_module_parses_validates_and_avoids_f64_transcendentals() {
    let mut seen = 0;
    for entry in std::fs::read_dir(wgsl_dir()).expect("src/gpu/wgsl exists") {
        let path = entry.expect("a directory entry").path();
        if path.extension().is_some_and(|e| e == "wgsl") {
            let source = std::fs::read_to_string(&path).expect("readable WGSL");
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            // The launcher prepends the alias naming the float type `real`.
            for (dtype, alias) in ALIASES {
                let variant = format!("{alias}{source}");
                // The f32 variant validates without FLOAT64: an f64 (or an
                // `lf` literal) left in a module fails here.
                let caps = match dtype {
                    "f64" => Capabilities::FLOAT64 | Capabilities::SHADER_INT64,
                    _ => Capabilities::SHADER_INT64,
                };
                if let Err(e) = check_with(&format!("{name} ({dtype})"), &variant, caps) {
                    panic!("{e}");
                }
            }
            seen += 1;
        }
    }
    // elementwise, reduce, particles, springs, matmul, broadcast: a module
    // that vanished is a failure.
    assert!(seen >= 6, "only {seen} WGSL modules found");
}

#[test]
fn an_f64_transcendental_is_rejected_and_its_f32_twin_and_sqrt_are_not() {
    let module = |ty: &str, call: &str| {
        format!(
            "@group(0) @binding(0) var<storage, read_write> x: array<{ty}>;\n\
             @compute @workgroup_size(1) fn main() {{ x[0] = {call}(x[0]); }}"
        )
    };
    let err = check("bad.wgsl", &module("f64", "exp")).unwrap_err();
    assert!(
        err.contains("Exp on f64") && err.contains("`main`"),
        "{err}"
    );
    assert!(check("bad.wgsl", &module("f64", "tanh")).is_err());
    assert!(check("bad.wgsl", &module("f64", "pow(x[0], x[0]) + sin")).is_err());
    // The same builtin on f32 is fine, and sqrt/abs are defined for f64.
    check("ok.wgsl", &module("f32", "exp")).unwrap();
    check("ok.wgsl", &module("f64", "sqrt")).unwrap();
    check("ok.wgsl", &module("f64", "abs")).unwrap();
    // Through the launcher's alias: `real` is f64 in one variant and f32
    // in the other, and only the f64 one is rejected.
    let aliased = |alias: &str| format!("{alias}{}", module("real", "exp"));
    let err = check("alias.wgsl", &aliased(ALIASES[0].1)).unwrap_err();
    assert!(err.contains("Exp on f64"), "{err}");
    check("alias.wgsl", &aliased(ALIASES[1].1)).unwrap();
    // A helper function is checked as well as the entry point.
    let helper = "@group(0) @binding(0) var<storage, read_write> x: array<f64>;\n\
                  fn soft(y: f64) -> f64 { return log(y); }\n\
                  @compute @workgroup_size(1) fn main() { x[0] = soft(x[0]); }";
    let err = check("helper.wgsl", helper).unwrap_err();
    assert!(err.contains("`soft`") && err.contains("Log"), "{err}");
}

#[test]
fn a_module_that_does_not_validate_is_reported() {
    // f64 arithmetic mixed with f32 is a type error naga must catch.
    let bad = "@group(0) @binding(0) var<storage, read_write> x: array<f64>;\n\
               @compute @workgroup_size(1) fn main() { x[0] = x[0] + 1.0f; }";
    assert!(check("mixed.wgsl", bad).is_err());
}
