// One semi-implicit Euler step of particles in 3D under gravity, linear
// drag and a penalty floor at z = 0 (the W2 workload), one thread per
// particle, and its adjoint. Per particle i with mass m:
//   F = m g − c v + k relu(−p_z) e_z,   a = F / m,
//   v' = v + dt a,   p' = p + dt (v + dt a).
// The arithmetic follows the host step kernel term by term.

struct Params {
    n: u32,
    dt: f64,
    gx: f64,
    gy: f64,
    gz: f64,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> p: array<f64>;
@group(0) @binding(2) var<storage, read> v: array<f64>;
@group(0) @binding(3) var<storage, read> mass: array<f64>;
@group(0) @binding(4) var<storage, read> drag: array<f64>;
@group(0) @binding(5) var<storage, read> stiffness: array<f64>;
// forward: p', v'. adjoint: ḡp', ḡv' (read) and ḡp, ḡv (accumulated).
@group(0) @binding(6) var<storage, read_write> out_p: array<f64>;
@group(0) @binding(7) var<storage, read_write> out_v: array<f64>;
@group(0) @binding(8) var<storage, read_write> grad_p: array<f64>;
@group(0) @binding(9) var<storage, read_write> grad_v: array<f64>;
// adjoint: per-particle contributions to ḡc and ḡk, [2 n] (c then k).
@group(0) @binding(10) var<storage, read_write> partials: array<f64>;

fn gravity(j: u32) -> f64 {
    return select(select(params.gx, params.gy, j == 1u), params.gz, j == 2u);
}

fn particle(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.y * (nwg.x * 64u) + gid.x;
}

@compute @workgroup_size(64)
fn step_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = particle(gid, nwg);
    if (i >= params.n) {
        return;
    }
    let dt = params.dt;
    let c = drag[0];
    let k = stiffness[0];
    let m = mass[i];
    let inv_m = 1.0lf / m;
    let push = k * max(0.0lf - p[3u * i + 2u], 0.0lf);
    for (var j = 0u; j < 3u; j = j + 1u) {
        let q = p[3u * i + j];
        let u = v[3u * i + j];
        var f = m * gravity(j) - c * u;
        if (j == 2u) {
            f = f + push;
        }
        let acc = f * inv_m;
        out_v[3u * i + j] = u + dt * acc;
        out_p[3u * i + j] = q + dt * (u + dt * acc);
    }
}

@compute @workgroup_size(64)
fn step_adjoint(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = particle(gid, nwg);
    if (i >= params.n) {
        return;
    }
    let dt = params.dt;
    let c = drag[0];
    let k = stiffness[0];
    let inv_m = 1.0lf / mass[i];
    let depth = 0.0lf - p[3u * i + 2u];
    var gc = 0.0lf;
    var gk = 0.0lf;
    for (var j = 0u; j < 3u; j = j + 1u) {
        let gp1 = out_p[3u * i + j];
        let gv1 = out_v[3u * i + j];
        var gq = gp1;
        var gu = gv1 + dt * gp1;
        let gf = dt * (dt * gp1 + gv1) * inv_m;
        // drag: ḡv −= c ḡF, ḡc −= ḡF·v
        gu = gu - c * gf;
        gc = gc + gf * v[3u * i + j];
        // floor: ḡk += δ ḡF_z, ḡp_z −= k ḡF_z where δ = −p_z > 0
        if (j == 2u && depth > 0.0lf) {
            gk = gk + depth * gf;
            gq = gq - k * gf;
        }
        grad_p[3u * i + j] = grad_p[3u * i + j] + gq;
        grad_v[3u * i + j] = grad_v[3u * i + j] + gu;
    }
    partials[i] = 0.0lf - gc;
    partials[params.n + i] = gk;
}
