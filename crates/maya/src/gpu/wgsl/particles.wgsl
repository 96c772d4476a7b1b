// One semi-implicit Euler step of particles in 3D under gravity, linear
// drag and a penalty floor at z = 0 (the W2 workload), one thread per
// particle, and its adjoint. Per particle i with mass m:
//   F = m g − c v + k relu(−p_z) e_z,   a = F / m,
//   v' = v + dt a,   p' = p + dt (v + dt a).
// The arithmetic follows the host step kernel term by term.

struct Params {
    n: u32,
    // steps per dispatch of the fused rollout (steps_forward, steps_adjoint)
    steps: u32,
    dt: real,
    gx: real,
    gy: real,
    gz: real,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> p: array<real>;
@group(0) @binding(2) var<storage, read> v: array<real>;
@group(0) @binding(3) var<storage, read> mass: array<real>;
@group(0) @binding(4) var<storage, read> drag: array<real>;
@group(0) @binding(5) var<storage, read> stiffness: array<real>;
// forward: p', v'. adjoint: ḡp', ḡv' (read) and ḡp, ḡv (accumulated).
@group(0) @binding(6) var<storage, read_write> out_p: array<real>;
@group(0) @binding(7) var<storage, read_write> out_v: array<real>;
@group(0) @binding(8) var<storage, read_write> grad_p: array<real>;
@group(0) @binding(9) var<storage, read_write> grad_v: array<real>;
// adjoint: per-particle contributions to ḡc and ḡk, [2 n] (c then k).
@group(0) @binding(10) var<storage, read_write> partials: array<real>;
// fused rollout: the state at the start of each step, [steps, n, 6]
// (p then v), written forward and read by the adjoint.
@group(0) @binding(11) var<storage, read_write> trajectory: array<real>;

fn gravity(j: u32) -> real {
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
    let inv_m = real(1.0) / m;
    let push = k * max(real(0.0) - p[3u * i + 2u], real(0.0));
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
    let inv_m = real(1.0) / mass[i];
    let depth = real(0.0) - p[3u * i + 2u];
    var gc = real(0.0);
    var gk = real(0.0);
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
        if (j == 2u && depth > real(0.0)) {
            gk = gk + depth * gf;
            gq = gq - k * gf;
        }
        grad_p[3u * i + j] = grad_p[3u * i + j] + gq;
        grad_v[3u * i + j] = grad_v[3u * i + j] + gu;
    }
    partials[i] = real(0.0) - gc;
    partials[params.n + i] = gk;
}

// The fused rollout: `params.steps` steps of step_forward in one dispatch
// (particles do not interact, so each thread runs its particle through
// every step), saving each step's starting state for the adjoint.
@compute @workgroup_size(64)
fn steps_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = particle(gid, nwg);
    if (i >= params.n) {
        return;
    }
    let dt = params.dt;
    let c = drag[0];
    let k = stiffness[0];
    let m = mass[i];
    let inv_m = real(1.0) / m;
    var q: array<real, 3>;
    var u: array<real, 3>;
    for (var j = 0u; j < 3u; j = j + 1u) {
        q[j] = p[3u * i + j];
        u[j] = v[3u * i + j];
    }
    for (var s = 0u; s < params.steps; s = s + 1u) {
        let at = 6u * (s * params.n + i);
        for (var j = 0u; j < 3u; j = j + 1u) {
            trajectory[at + j] = q[j];
            trajectory[at + 3u + j] = u[j];
        }
        let push = k * max(real(0.0) - q[2], real(0.0));
        for (var j = 0u; j < 3u; j = j + 1u) {
            var f = m * gravity(j) - c * u[j];
            if (j == 2u) {
                f = f + push;
            }
            let acc = f * inv_m;
            q[j] = q[j] + dt * (u[j] + dt * acc);
            u[j] = u[j] + dt * acc;
        }
    }
    for (var j = 0u; j < 3u; j = j + 1u) {
        out_p[3u * i + j] = q[j];
        out_v[3u * i + j] = u[j];
    }
}

// The fused rollout's adjoint: step_adjoint walked back over the saved
// states, ḡc and ḡk summed per particle over the steps.
@compute @workgroup_size(64)
fn steps_adjoint(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = particle(gid, nwg);
    if (i >= params.n) {
        return;
    }
    let dt = params.dt;
    let c = drag[0];
    let k = stiffness[0];
    let inv_m = real(1.0) / mass[i];
    var gq: array<real, 3>;
    var gu: array<real, 3>;
    for (var j = 0u; j < 3u; j = j + 1u) {
        gq[j] = out_p[3u * i + j];
        gu[j] = out_v[3u * i + j];
    }
    var gc = real(0.0);
    var gk = real(0.0);
    for (var s = params.steps; s > 0u; s = s - 1u) {
        let at = 6u * ((s - 1u) * params.n + i);
        let depth = real(0.0) - trajectory[at + 2u];
        for (var j = 0u; j < 3u; j = j + 1u) {
            let gp1 = gq[j];
            let gv1 = gu[j];
            let gf = dt * (dt * gp1 + gv1) * inv_m;
            gu[j] = gv1 + dt * gp1 - c * gf;
            gc = gc + gf * trajectory[at + 3u + j];
            if (j == 2u && depth > real(0.0)) {
                gk = gk + depth * gf;
                gq[j] = gp1 - k * gf;
            }
        }
    }
    for (var j = 0u; j < 3u; j = j + 1u) {
        grad_p[3u * i + j] = grad_p[3u * i + j] + gq[j];
        grad_v[3u * i + j] = grad_v[3u * i + j] + gu[j];
    }
    partials[i] = real(0.0) - gc;
    partials[params.n + i] = gk;
}
