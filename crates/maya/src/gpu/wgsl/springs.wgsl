// One semi-implicit Euler step of a mass-spring network (the W3 workload)
// in 2 or 3 dimensions, springs fused with the integrator, and its adjoint.
// For spring s joining a and b, d = p_b − p_a, l = |d|:
//   f = k_s (l − L_s) d / l,   F_a += f,   F_b −= f,
// then F_i += m_i g, a = F / m, v' = v + dt a, p' = p + dt (v + dt a).
//
// No atomics: a vertex → incident-spring table (CSR, built once on the host)
// lets each particle's thread gather its own force, and in the adjoint its
// own gradient, over its springs in spring order: the order in which the
// host kernel scatters them, so the sums are the host's term by term. Each
// spring's thread gathers its stiffness and rest-length gradients.
//
// The table `topo` (u32): topo[0..=n] are the offsets of each particle's
// entries in `topo`; an entry is (spring << 1) | (1 if the particle is the
// spring's b end); after the 2s entries come the endpoints a, b of each
// spring.
//
// Coincident endpoints (l = 0): a spring of rest length 0 exerts no force
// there, as on the host; one of rest length L > 0 yields NaN (0/0), which
// reaches the loss (the host kernel reports it as an error instead).

struct Params {
    n: u32,
    s: u32,
    dim: u32,
    dt: f64,
    gx: f64,
    gy: f64,
    gz: f64,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> topo: array<u32>;
@group(0) @binding(2) var<storage, read> p: array<f64>;
@group(0) @binding(3) var<storage, read> v: array<f64>;
@group(0) @binding(4) var<storage, read> mass: array<f64>;
@group(0) @binding(5) var<storage, read> stiffness: array<f64>;
@group(0) @binding(6) var<storage, read> rest: array<f64>;
// forward: p', v'. adjoint: ḡp', ḡv' (read).
@group(0) @binding(7) var<storage, read_write> out_p: array<f64>;
@group(0) @binding(8) var<storage, read_write> out_v: array<f64>;
// adjoint: ḡk, ḡL per spring, ḡp, ḡv per particle (accumulated).
@group(0) @binding(9) var<storage, read_write> grad_k: array<f64>;
@group(0) @binding(10) var<storage, read_write> grad_rest: array<f64>;
@group(0) @binding(11) var<storage, read_write> grad_p: array<f64>;
@group(0) @binding(12) var<storage, read_write> grad_v: array<f64>;

fn gravity(j: u32) -> f64 {
    return select(select(params.gx, params.gy, j == 1u), params.gz, j == 2u);
}

fn thread(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.y * (nwg.x * 64u) + gid.x;
}

// The endpoints (a, b) of spring `sp`.
fn ends(sp: u32) -> vec2<u32> {
    let at = params.n + 1u + 2u * params.s + 2u * sp;
    return vec2<u32>(topo[at], topo[at + 1u]);
}

// The force f of spring `sp` on its a end (−f on its b end).
fn spring_force(sp: u32) -> array<f64, 3> {
    let dim = params.dim;
    let e = ends(sp);
    var d: array<f64, 3>;
    var l2 = 0.0lf;
    for (var q = 0u; q < dim; q = q + 1u) {
        d[q] = p[e.y * dim + q] - p[e.x * dim + q];
        l2 = l2 + d[q] * d[q];
    }
    var f: array<f64, 3>;
    if (l2 == 0.0lf && rest[sp] == 0.0lf) {
        return f; // rest length 0 at l = 0: no force
    }
    let l = sqrt(l2);
    let m = stiffness[sp] * (l - rest[sp]) / l;
    for (var q = 0u; q < dim; q = q + 1u) {
        f[q] = m * d[q];
    }
    return f;
}

@compute @workgroup_size(64)
fn step_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = thread(gid, nwg);
    if (i >= params.n) {
        return;
    }
    let dim = params.dim;
    var f: array<f64, 3>;
    for (var e = topo[i]; e < topo[i + 1u]; e = e + 1u) {
        let code = topo[e];
        let fs = spring_force(code >> 1u);
        let on_b = (code & 1u) == 1u;
        for (var q = 0u; q < dim; q = q + 1u) {
            f[q] = select(f[q] + fs[q], f[q] - fs[q], on_b);
        }
    }
    let m = mass[i];
    let inv_m = 1.0lf / m;
    for (var q = 0u; q < dim; q = q + 1u) {
        let j = dim * i + q;
        let acc = (f[q] + m * gravity(q)) * inv_m;
        out_v[j] = v[j] + params.dt * acc;
        out_p[j] = p[j] + params.dt * (v[j] + params.dt * acc);
    }
}

// ḡF of particle j, coordinate q: ḡa / m with ḡa = dt (dt ḡp' + ḡv').
fn grad_force(j: u32, q: u32) -> f64 {
    let x = params.dim * j + q;
    let dt = params.dt;
    return dt * (dt * out_p[x] + out_v[x]) * (1.0lf / mass[j]);
}

// What spring `sp` passes back, from ḡf = ḡF_a − ḡF_b: ḡd (into p_b, and
// its negative into p_a) in [0, dim), ḡk at 3 and ḡL at 4.
//   ḡk = (ḡf·d)(l − L)/l,  ḡL = −k (ḡf·d)/l,
//   ḡd = k(1 − L/l) ḡf + (k L / l³)(ḡf·d) d   (k ḡf at l = 0 = L).
fn spring_adjoint(sp: u32) -> array<f64, 5> {
    let dim = params.dim;
    let e = ends(sp);
    var d: array<f64, 3>;
    var gf: array<f64, 3>;
    var l2 = 0.0lf;
    var gfd = 0.0lf;
    for (var q = 0u; q < dim; q = q + 1u) {
        d[q] = p[e.y * dim + q] - p[e.x * dim + q];
        gf[q] = grad_force(e.x, q) - grad_force(e.y, q);
        l2 = l2 + d[q] * d[q];
        gfd = gfd + gf[q] * d[q];
    }
    let k = stiffness[sp];
    let len0 = rest[sp];
    var out: array<f64, 5>;
    if (l2 == 0.0lf && len0 == 0.0lf) {
        for (var q = 0u; q < dim; q = q + 1u) {
            out[q] = k * gf[q];
        }
        return out;
    }
    let l = sqrt(l2);
    out[3] = gfd * (l - len0) / l;
    out[4] = 0.0lf - k * gfd / l;
    let m = k * (1.0lf - len0 / l);
    let qd = k * len0 / (l * l2) * gfd;
    for (var q = 0u; q < dim; q = q + 1u) {
        out[q] = m * gf[q] + qd * d[q];
    }
    return out;
}

// Thread t does particle t (t < n): ḡv += ḡv' + dt ḡp', ḡp += ḡp' and then
// its springs' ḡd in spring order; and spring t (t < s): ḡk, ḡL.
@compute @workgroup_size(64)
fn step_adjoint(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = thread(gid, nwg);
    let dim = params.dim;
    if (t < params.n) {
        var gq: array<f64, 3>;
        for (var q = 0u; q < dim; q = q + 1u) {
            let x = dim * t + q;
            grad_v[x] = grad_v[x] + (out_v[x] + params.dt * out_p[x]);
            gq[q] = grad_p[x] + out_p[x];
        }
        for (var e = topo[t]; e < topo[t + 1u]; e = e + 1u) {
            let code = topo[e];
            let gd = spring_adjoint(code >> 1u);
            let on_b = (code & 1u) == 1u;
            for (var q = 0u; q < dim; q = q + 1u) {
                gq[q] = select(gq[q] - gd[q], gq[q] + gd[q], on_b);
            }
        }
        for (var q = 0u; q < dim; q = q + 1u) {
            grad_p[dim * t + q] = gq[q];
        }
    }
    if (t < params.s) {
        let g = spring_adjoint(t);
        grad_k[t] = grad_k[t] + g[3];
        grad_rest[t] = grad_rest[t] + g[4];
    }
}
