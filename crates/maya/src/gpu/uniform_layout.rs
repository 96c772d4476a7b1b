//! The kernels' uniform parameters (packed by [`Uniform`](super::Uniform))
//! against WGSL's layout of their `Params` structs, as naga lays them out,
//! in both dtypes: a field written at the wrong offset or width would make
//! a kernel read garbage without any error.

use super::dtype::DType;
use super::{kernels, springs};
use naga::{Scalar, ScalarKind, TypeInner};

/// Each member of `Params` in `source` compiled for `dtype`: its offset
/// and scalar type.
fn params_layout(source: &str, dtype: DType) -> Vec<(usize, Scalar)> {
    let module = naga::front::wgsl::parse_str(&(dtype.alias() + source)).expect("valid WGSL");
    let (_, ty) = module
        .types
        .iter()
        .find(|(_, t)| t.name.as_deref() == Some("Params"))
        .expect("a Params struct");
    let TypeInner::Struct { members, .. } = &ty.inner else {
        panic!("Params is a struct");
    };
    let scalar = |m: &naga::StructMember| module.types[m.ty].inner.scalar().expect("scalar");
    members
        .iter()
        .map(|m| (m.offset as usize, scalar(m)))
        .collect()
}

/// The value at `offset` of `bytes`, read as `scalar`.
fn read(bytes: &[u8], offset: usize, scalar: Scalar) -> f64 {
    let at = |n: usize| &bytes[offset..offset + n];
    match (scalar.kind, scalar.width) {
        (ScalarKind::Uint, 4) => u32::from_le_bytes(at(4).try_into().unwrap()) as f64,
        (ScalarKind::Float, 4) => f32::from_le_bytes(at(4).try_into().unwrap()) as f64,
        (ScalarKind::Float, 8) => f64::from_le_bytes(at(8).try_into().unwrap()),
        other => panic!("a Params member of type {other:?}"),
    }
}

#[test]
fn uniform_parameters_sit_where_wgsl_lays_out_each_params_member() {
    for dtype in DType::ALL {
        // Values 1, 2, … in declaration order (exact in f32).
        let cases = [
            (
                kernels::PARTICLES,
                kernels::particle_steps_params(dtype, 1, 2, 3.0, [4.0, 5.0, 6.0]),
            ),
            (
                springs::SPRINGS,
                springs::step_params(dtype, [1, 2, 3], 4.0, [5.0, 6.0, 7.0]),
            ),
        ];
        for (source, uniform) in cases {
            let layout = params_layout(source, dtype);
            assert!(layout.len() >= 6, "{layout:?}");
            for (k, &(offset, scalar)) in layout.iter().enumerate() {
                if scalar.kind == ScalarKind::Float {
                    assert_eq!(scalar.width as usize, dtype.size_bytes(), "{dtype}");
                }
                let value = read(uniform.bytes(), offset, scalar);
                assert_eq!(value, (k + 1) as f64, "{dtype}: member {k} at {offset}");
            }
        }
    }
}
