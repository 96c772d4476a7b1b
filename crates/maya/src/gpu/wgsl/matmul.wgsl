// Batched matrix product, tiled in workgroup memory, and its adjoints:
//   out[b] += op(lhs[b]) @ op(rhs[b])
// where op transposes a stored matrix when its flag is set, so that the
// adjoints dA += dC Bᵀ and dB += Aᵀ dC read B and A in place. `out` is
// [batch, m, n]; op(lhs) is [m, k] (stored [m, k], or [k, m] transposed);
// op(rhs) is [k, n] (stored [k, n], or [n, k] transposed).
//
// One workgroup (16 × 16 threads) computes one 32 × 32 tile of one batch
// entry, staging 32 × 16 slices of op(lhs) and 16 × 32 of op(rhs) in
// workgroup memory; each thread computes 2 × 2 entries of the tile (rows
// y, y + 16, columns x, x + 16), each summed over k in ascending order: a
// fixed order, hence the same bits on every run, no atomics.
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

const TILE: u32 = 32u;
const HALF: u32 = 16u;

var<workgroup> lhs_tile: array<array<real, 16>, 32>;
var<workgroup> rhs_tile: array<array<real, 32>, 16>;

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

// out[row, col] += value, inside [m, n].
fn add_out(b: u32, row: u32, col: u32, value: real) {
    if (row < params.m && col < params.n) {
        let o = b * params.m * params.n + row * params.n + col;
        out[o] = out[o] + value;
    }
}

// out += op(lhs) @ op(rhs), one 32 × 32 output tile per workgroup; the
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
    var acc00 = real(0.0);
    var acc01 = real(0.0);
    var acc10 = real(0.0);
    var acc11 = real(0.0);
    let slices = (params.k + HALF - 1u) / HALF;
    for (var t = 0u; t < slices; t = t + 1u) {
        let kk = t * HALF;
        lhs_tile[lid.y][lid.x] = lhs_at(b, row, kk + lid.x);
        lhs_tile[lid.y + HALF][lid.x] = lhs_at(b, row + HALF, kk + lid.x);
        rhs_tile[lid.y][lid.x] = rhs_at(b, kk + lid.y, col);
        rhs_tile[lid.y][lid.x + HALF] = rhs_at(b, kk + lid.y, col + HALF);
        workgroupBarrier();
        for (var i = 0u; i < HALF; i = i + 1u) {
            let a0 = lhs_tile[lid.y][i];
            let a1 = lhs_tile[lid.y + HALF][i];
            let b0 = rhs_tile[i][lid.x];
            let b1 = rhs_tile[i][lid.x + HALF];
            acc00 = acc00 + a0 * b0;
            acc01 = acc01 + a0 * b1;
            acc10 = acc10 + a1 * b0;
            acc11 = acc11 + a1 * b1;
        }
        workgroupBarrier();
    }
    add_out(b, row, col, acc00);
    add_out(b, row, col + HALF, acc01);
    add_out(b, row + HALF, col, acc10);
    add_out(b, row + HALF, col + HALF, acc11);
}
