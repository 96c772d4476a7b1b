// Deterministic sum: each workgroup of 256 threads sums its 256 entries by
// a fixed binary tree in workgroup memory and writes one partial; the host
// repeats the pass over the partials until one value is left. No atomics
// (WGSL has none for f64), so the result is the same on every run.

struct Params {
    // entries to sum, from `offset` on
    n: u32,
    offset: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<real>;
@group(0) @binding(2) var<storage, read_write> partials: array<real>;

var<workgroup> tree: array<real, 256>;

@compute @workgroup_size(256)
fn sum_pass(
    @builtin(local_invocation_index) lid: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
) {
    let group = wid.y * nwg.x + wid.x;
    let i = group * 256u + lid;
    var x = real(0.0);
    if (i < params.n) {
        x = a[params.offset + i];
    }
    tree[lid] = x;
    workgroupBarrier();
    for (var half = 128u; half > 0u; half = half / 2u) {
        if (lid < half) {
            tree[lid] = tree[lid] + tree[lid + half];
        }
        workgroupBarrier();
    }
    // A 2-D grid may have more workgroups than partials: those write nothing.
    if (lid == 0u && group < arrayLength(&partials)) {
        partials[group] = tree[0];
    }
}
