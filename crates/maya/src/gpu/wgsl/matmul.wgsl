// Batched matrix product, tiled in workgroup memory, and its adjoints:
//   out[b] += op(lhs[b]) @ op(rhs[b])
// where op transposes a stored matrix when its flag is set, so that the
// adjoints dA += dC Bᵀ and dB += Aᵀ dC read B and A in place. `out` is
// [batch, m, n]; op(lhs) is [m, k] (stored [m, k], or [k, m] transposed);
// op(rhs) is [k, n] (stored [k, n], or [n, k] transposed).
//
// One workgroup computes one 16 × 16 tile of one batch entry; one thread
// one entry of it, summing over k in ascending order (tile by tile, 16 at a
// time): a fixed order, hence the same bits on every run, no atomics.
// Entries past m, n or k load as zeros, so any m, n, k works.
// The module names its float type `real`; the launcher prepends the alias.

struct Params {
    m: u32,
    n: u32,
    k: u32,
    batch: u32,
    // 1 when lhs is stored transposed ([k, m])
    lhs_t: u32,
    // 1 when rhs is stored transposed ([n, k])
    rhs_t: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> lhs: array<real>;
@group(0) @binding(2) var<storage, read> rhs: array<real>;
@group(0) @binding(3) var<storage, read_write> out: array<real>;

const TILE: u32 = 16u;

var<workgroup> lhs_tile: array<array<real, 16>, 16>;
var<workgroup> rhs_tile: array<array<real, 16>, 16>;

// op(lhs)[row, col] of batch entry `b`, zero outside [m, k].
fn lhs_at(b: u32, row: u32, col: u32) -> real {
    if (row >= params.m || col >= params.k) {
        return real(0.0);
    }
    let base = b * params.m * params.k;
    if (params.lhs_t == 1u) {
        return lhs[base + col * params.m + row];
    }
    return lhs[base + row * params.k + col];
}

// op(rhs)[row, col] of batch entry `b`, zero outside [k, n].
fn rhs_at(b: u32, row: u32, col: u32) -> real {
    if (row >= params.k || col >= params.n) {
        return real(0.0);
    }
    let base = b * params.k * params.n;
    if (params.rhs_t == 1u) {
        return rhs[base + col * params.k + row];
    }
    return rhs[base + row * params.n + col];
}

// out += op(lhs) @ op(rhs), one 16 × 16 output tile per workgroup; the
// workgroups are numbered batch-major, then tile row, then tile column.
@compute @workgroup_size(16, 16)
fn matmul_acc(
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
) {
    let tiles_m = (params.m + TILE - 1u) / TILE;
    let tiles_n = (params.n + TILE - 1u) / TILE;
    let group = wid.y * nwg.x + wid.x;
    // A 2-D grid may have more workgroups than tiles: those do nothing
    // (the whole workgroup leaves, so the barriers below stay uniform).
    if (group >= params.batch * tiles_m * tiles_n) {
        return;
    }
    let b = group / (tiles_m * tiles_n);
    let tile = group % (tiles_m * tiles_n);
    let row = (tile / tiles_n) * TILE + lid.y;
    let col = (tile % tiles_n) * TILE + lid.x;
    var acc = real(0.0);
    let tiles_k = (params.k + TILE - 1u) / TILE;
    for (var t = 0u; t < tiles_k; t = t + 1u) {
        lhs_tile[lid.y][lid.x] = lhs_at(b, row, t * TILE + lid.x);
        rhs_tile[lid.y][lid.x] = rhs_at(b, t * TILE + lid.y, col);
        workgroupBarrier();
        for (var i = 0u; i < TILE; i = i + 1u) {
            acc = acc + lhs_tile[lid.y][i] * rhs_tile[i][lid.x];
        }
        workgroupBarrier();
    }
    if (row < params.m && col < params.n) {
        let o = b * params.m * params.n + row * params.n + col;
        out[o] = out[o] + acc;
    }
}
