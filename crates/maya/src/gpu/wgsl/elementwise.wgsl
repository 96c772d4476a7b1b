// Elementwise kernels (in `real`: f64 or f32, the alias the launcher
// prepends) and their adjoints' accumulations, one thread per
// entry. Every entry point has the same four bindings; `n` is the length.
// The grid is 2-D (x up to 65535 workgroups of 64 threads) so that more than
// 4M entries fit one dispatch.

struct Params {
    n: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<real>;
@group(0) @binding(2) var<storage, read> b: array<real>;
@group(0) @binding(3) var<storage, read_write> out: array<real>;

fn entry(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.y * (nwg.x * 64u) + gid.x;
}

// out = a + b
@compute @workgroup_size(64)
fn add(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = entry(gid, nwg);
    if (i < params.n) {
        out[i] = a[i] + b[i];
    }
}

// out = a * b
@compute @workgroup_size(64)
fn mul(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = entry(gid, nwg);
    if (i < params.n) {
        out[i] = a[i] * b[i];
    }
}

// out += a (gradient accumulation; the adjoint of add; b is unused)
@compute @workgroup_size(64)
fn add_into(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = entry(gid, nwg);
    if (i < params.n) {
        out[i] = out[i] + a[i];
    }
}

// out += a * b (the adjoint of mul: ḡx += ḡy · the other factor)
@compute @workgroup_size(64)
fn mul_into(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = entry(gid, nwg);
    if (i < params.n) {
        out[i] = out[i] + a[i] * b[i];
    }
}

// out += a[0] (the adjoint of a sum: the scalar gradient to every entry)
@compute @workgroup_size(64)
fn broadcast_into(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = entry(gid, nwg);
    if (i < params.n) {
        out[i] = out[i] + a[0];
    }
}
