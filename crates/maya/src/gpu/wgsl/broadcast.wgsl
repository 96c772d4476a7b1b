// Broadcasting elementwise ops and the adjoint of a broadcast, for shapes
// of up to 8 axes aligned on the right (the host's rules). Axis d of the
// output has extent `shape[d]`; an input read along a broadcast axis has
// stride 0 there, so each output entry maps to one entry of each input.
//
// The adjoint sums the output's gradient back to an input's shape with one
// thread per input entry, looping over the output entries it was broadcast
// to in row-major order: a fixed order, hence the same bits on every run.
// The module names its float type `real`; the launcher prepends the alias.

struct Params {
    // entries written: the output's (forward) or the input's (adjoint)
    n: u32,
    // axes of the output
    rank: u32,
    // adjoint: output entries summed into each input entry
    reduce: u32,
    // adjoint: 0 sums the gradient alone (add), 1 times `other` (mul)
    with_other: u32,
    // the output's extent per axis
    shape: array<vec4<u32>, 2>,
    // forward: a's strides; adjoint: the input's extent per axis (1 where broadcast)
    first: array<vec4<u32>, 2>,
    // forward: b's strides; adjoint: `other`'s strides
    second: array<vec4<u32>, 2>,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<real>;
@group(0) @binding(2) var<storage, read> b: array<real>;
@group(0) @binding(3) var<storage, read_write> out: array<real>;

fn shape_at(d: u32) -> u32 {
    return params.shape[d / 4u][d % 4u];
}

fn first_at(d: u32) -> u32 {
    return params.first[d / 4u][d % 4u];
}

fn second_at(d: u32) -> u32 {
    return params.second[d / 4u][d % 4u];
}

fn entry(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.y * (nwg.x * 64u) + gid.x;
}

// The offsets into a and b of output entry i.
fn offsets(i: u32) -> vec2<u32> {
    var rest = i;
    var off = vec2<u32>(0u, 0u);
    for (var e = 0u; e < params.rank; e = e + 1u) {
        let d = params.rank - 1u - e;
        let index = rest % shape_at(d);
        rest = rest / shape_at(d);
        off = off + index * vec2<u32>(first_at(d), second_at(d));
    }
    return off;
}

// out = a + b, broadcast
@compute @workgroup_size(64)
fn add(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = entry(gid, nwg);
    if (i < params.n) {
        let off = offsets(i);
        out[i] = a[off.x] + b[off.y];
    }
}

// out = a * b, broadcast
@compute @workgroup_size(64)
fn mul(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = entry(gid, nwg);
    if (i < params.n) {
        let off = offsets(i);
        out[i] = a[off.x] * b[off.y];
    }
}

// out[j] += Σ a[o] (· b[o's entry of b] when with_other), over the output
// entries o that input entry j was broadcast to, in row-major order.
// a is the output's gradient, b the other factor of a product.
@compute @workgroup_size(64)
fn reduce_into(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let j = entry(gid, nwg);
    if (j >= params.n) {
        return;
    }
    // Where entry j sits in the output (its broadcast axes at 0).
    var rest = j;
    var base = vec2<u32>(0u, 0u);
    var stride = 1u;
    for (var e = 0u; e < params.rank; e = e + 1u) {
        let d = params.rank - 1u - e;
        let index = rest % first_at(d);
        rest = rest / first_at(d);
        base = base + index * vec2<u32>(stride, second_at(d));
        stride = stride * shape_at(d);
    }
    var acc = real(0.0);
    for (var r = 0u; r < params.reduce; r = r + 1u) {
        // r counts over the broadcast axes only (extent 1 elsewhere).
        var rest_r = r;
        var off = base;
        var stride_r = 1u;
        for (var e = 0u; e < params.rank; e = e + 1u) {
            let d = params.rank - 1u - e;
            let extent = shape_at(d) / first_at(d);
            let index = rest_r % extent;
            rest_r = rest_r / extent;
            off = off + index * vec2<u32>(stride_r, second_at(d));
            stride_r = stride_r * shape_at(d);
        }
        if (params.with_other == 1u) {
            acc = acc + a[off.x] * b[off.y];
        } else {
            acc = acc + a[off.x];
        }
    }
    out[j] = out[j] + acc;
}
