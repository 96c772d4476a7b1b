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
    dt: real,
    gx: real,
    gy: real,
    gz: real,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> topo: array<u32>;
@group(0) @binding(2) var<storage, read> p: array<real>;
@group(0) @binding(3) var<storage, read> v: array<real>;
@group(0) @binding(4) var<storage, read> mass: array<real>;
@group(0) @binding(5) var<storage, read> stiffness: array<real>;
@group(0) @binding(6) var<storage, read> rest: array<real>;
// forward: p', v'. adjoint: ḡp', ḡv' (read).
@group(0) @binding(7) var<storage, read_write> out_p: array<real>;
@group(0) @binding(8) var<storage, read_write> out_v: array<real>;
// adjoint: ḡk, ḡL per spring, ḡp, ḡv per particle (accumulated).
@group(0) @binding(9) var<storage, read_write> grad_k: array<real>;
@group(0) @binding(10) var<storage, read_write> grad_rest: array<real>;
@group(0) @binding(11) var<storage, read_write> grad_p: array<real>;
@group(0) @binding(12) var<storage, read_write> grad_v: array<real>;

fn gravity(j: u32) -> real {
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

// Per-particle vectors as vec3 (z = 0 in 2D): componentwise arithmetic,
// no dynamically indexed private arrays (slow on CPU drivers), and in 2D
// the z terms add exact zeros, so the sums are the host's.
fn position(i: u32) -> vec3<real> {
    let b = params.dim * i;
    var x = vec3<real>(p[b], p[b + 1u], real(0.0));
    if (params.dim == 3u) {
        x.z = p[b + 2u];
    }
    return x;
}

fn velocity(i: u32) -> vec3<real> {
    let b = params.dim * i;
    var x = vec3<real>(v[b], v[b + 1u], real(0.0));
    if (params.dim == 3u) {
        x.z = v[b + 2u];
    }
    return x;
}

// ḡp' and ḡv' of particle i (the adjoint's seeds, in the forward's
// output bindings).
fn seed_p(i: u32) -> vec3<real> {
    let b = params.dim * i;
    var x = vec3<real>(out_p[b], out_p[b + 1u], real(0.0));
    if (params.dim == 3u) {
        x.z = out_p[b + 2u];
    }
    return x;
}

fn seed_v(i: u32) -> vec3<real> {
    let b = params.dim * i;
    var x = vec3<real>(out_v[b], out_v[b + 1u], real(0.0));
    if (params.dim == 3u) {
        x.z = out_v[b + 2u];
    }
    return x;
}

// Writes p' and v' of particle i (the forward's outputs).
fn store_state(i: u32, q: vec3<real>, u: vec3<real>) {
    let b = params.dim * i;
    out_p[b] = q.x;
    out_p[b + 1u] = q.y;
    out_v[b] = u.x;
    out_v[b + 1u] = u.y;
    if (params.dim == 3u) {
        out_p[b + 2u] = q.z;
        out_v[b + 2u] = u.z;
    }
}

// Writes ḡp and ḡv of particle i (the adjoint's outputs).
fn store_grads(i: u32, gq: vec3<real>, gu: vec3<real>) {
    let b = params.dim * i;
    grad_p[b] = gq.x;
    grad_p[b + 1u] = gq.y;
    grad_v[b] = gu.x;
    grad_v[b + 1u] = gu.y;
    if (params.dim == 3u) {
        grad_p[b + 2u] = gq.z;
        grad_v[b + 2u] = gu.z;
    }
}

fn sum_of_squares(d: vec3<real>) -> real {
    return d.x * d.x + d.y * d.y + d.z * d.z;
}

fn inner(a: vec3<real>, b: vec3<real>) -> real {
    return a.x * b.x + a.y * b.y + a.z * b.z;
}

// The force f of spring `sp` on its a end (−f on its b end).
fn spring_force(sp: u32) -> vec3<real> {
    let e = ends(sp);
    let d = position(e.y) - position(e.x);
    let l2 = sum_of_squares(d);
    if (l2 == real(0.0) && rest[sp] == real(0.0)) {
        return vec3<real>(); // rest length 0 at l = 0: no force
    }
    let l = sqrt(l2);
    let m = stiffness[sp] * (l - rest[sp]) / l;
    return m * d;
}

@compute @workgroup_size(64)
fn step_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = thread(gid, nwg);
    if (i >= params.n) {
        return;
    }
    var f = vec3<real>();
    for (var e = topo[i]; e < topo[i + 1u]; e = e + 1u) {
        let code = topo[e];
        let fs = spring_force(code >> 1u);
        if ((code & 1u) == 1u) {
            f = f - fs;
        } else {
            f = f + fs;
        }
    }
    let m = mass[i];
    let inv_m = real(1.0) / m;
    let g = vec3<real>(params.gx, params.gy, params.gz);
    let acc = (f + m * g) * inv_m;
    let q = position(i);
    let u = velocity(i);
    store_state(i, q + params.dt * (u + params.dt * acc), u + params.dt * acc);
}

// ḡF of particle j: ḡa / m with ḡa = dt (dt ḡp' + ḡv').
fn grad_force(j: u32) -> vec3<real> {
    let dt = params.dt;
    return dt * (dt * seed_p(j) + seed_v(j)) * (real(1.0) / mass[j]);
}

// What spring `sp` passes back, from ḡf = ḡF_a − ḡF_b: ḡd (into p_b, and
// its negative into p_a), ḡk and ḡL.
//   ḡk = (ḡf·d)(l − L)/l,  ḡL = −k (ḡf·d)/l,
//   ḡd = k(1 − L/l) ḡf + (k L / l³)(ḡf·d) d   (k ḡf at l = 0 = L).
struct SpringGrads {
    d: vec3<real>,
    k: real,
    rest: real,
}

fn spring_adjoint(sp: u32) -> SpringGrads {
    let e = ends(sp);
    let d = position(e.y) - position(e.x);
    let gf = grad_force(e.x) - grad_force(e.y);
    let l2 = sum_of_squares(d);
    let gfd = inner(gf, d);
    let k = stiffness[sp];
    let len0 = rest[sp];
    var out: SpringGrads;
    if (l2 == real(0.0) && len0 == real(0.0)) {
        out.d = k * gf;
        return out;
    }
    let l = sqrt(l2);
    out.k = gfd * (l - len0) / l;
    out.rest = real(0.0) - k * gfd / l;
    let m = k * (real(1.0) - len0 / l);
    let qd = k * len0 / (l * l2) * gfd;
    out.d = m * gf + qd * d;
    return out;
}

// Thread t does particle t (t < n): ḡv += ḡv' + dt ḡp', ḡp += ḡp' and then
// its springs' ḡd in spring order; and spring t (t < s): ḡk, ḡL.
@compute @workgroup_size(64)
fn step_adjoint(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = thread(gid, nwg);
    if (t < params.n) {
        let b = params.dim * t;
        var held_p = vec3<real>(grad_p[b], grad_p[b + 1u], real(0.0));
        var held_v = vec3<real>(grad_v[b], grad_v[b + 1u], real(0.0));
        if (params.dim == 3u) {
            held_p.z = grad_p[b + 2u];
            held_v.z = grad_v[b + 2u];
        }
        let gp1 = seed_p(t);
        let gv1 = seed_v(t);
        let gu = held_v + (gv1 + params.dt * gp1);
        var gq = held_p + gp1;
        for (var e = topo[t]; e < topo[t + 1u]; e = e + 1u) {
            let code = topo[e];
            let gd = spring_adjoint(code >> 1u).d;
            if ((code & 1u) == 1u) {
                gq = gq + gd;
            } else {
                gq = gq - gd;
            }
        }
        store_grads(t, gq, gu);
    }
    if (t < params.s) {
        let g = spring_adjoint(t);
        grad_k[t] = grad_k[t] + g.k;
        grad_rest[t] = grad_rest[t] + g.rest;
    }
}
