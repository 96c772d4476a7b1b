//! The one 2D math of maya, written over [`Real`] so that the same formulas
//! run on `f64` and on the scalar tape (the references of fused kernels).

pub(crate) use crate::scalar::Real;

/// A 2D vector over a [`Real`].
pub(crate) type V2<T> = [T; 2];

#[inline(always)]
pub(crate) fn add<T: Real>(a: V2<T>, b: V2<T>) -> V2<T> {
    [a[0] + b[0], a[1] + b[1]]
}

#[inline(always)]
pub(crate) fn sub<T: Real>(a: V2<T>, b: V2<T>) -> V2<T> {
    [a[0] - b[0], a[1] - b[1]]
}

#[inline(always)]
pub(crate) fn scale<T: Real>(a: V2<T>, s: T) -> V2<T> {
    [a[0] * s, a[1] * s]
}

#[inline(always)]
pub(crate) fn dot<T: Real>(a: V2<T>, b: V2<T>) -> T {
    a[0] * b[0] + a[1] * b[1]
}

/// The z-component of a × b.
#[inline(always)]
pub(crate) fn cross<T: Real>(a: V2<T>, b: V2<T>) -> T {
    a[0] * b[1] - a[1] * b[0]
}

/// a rotated by +90°: (−a_y, a_x), i.e. ẑ × a.
#[inline(always)]
pub(crate) fn perp<T: Real>(a: V2<T>) -> V2<T> {
    [-a[1], a[0]]
}

/// R(θ)·u for a body-frame vector u.
#[inline(always)]
pub(crate) fn rotate<T: Real>(theta: T, u: V2<T>) -> V2<T> {
    let (s, c) = (theta.sin(), theta.cos());
    [c * u[0] - s * u[1], s * u[0] + c * u[1]]
}

/// A constant vector on the tape of `like`.
#[inline(always)]
pub(crate) fn lift2<T: Real>(like: T, u: [f64; 2]) -> V2<T> {
    [like.lift(u[0]), like.lift(u[1])]
}

// f64-only helpers for the adjoints.

#[inline(always)]
pub(crate) fn axpy(acc: &mut [f64; 2], s: f64, a: [f64; 2]) {
    acc[0] += s * a[0];
    acc[1] += s * a[1];
}

/// Rotates a body-frame vector by θ (f64 only).
#[inline(always)]
pub(crate) fn rot(theta: f64, u: [f64; 2]) -> [f64; 2] {
    let (s, c) = theta.sin_cos();
    [c * u[0] - s * u[1], s * u[0] + c * u[1]]
}

/// Inverse rotation R(θ)ᵀ v.
#[inline(always)]
pub(crate) fn rot_t(theta: f64, v: [f64; 2]) -> [f64; 2] {
    let (s, c) = theta.sin_cos();
    [c * v[0] + s * v[1], -s * v[0] + c * v[1]]
}

/// Area, centroid and second moment about the centroid of a
/// counter-clockwise polygon.
pub(crate) fn polygon_moments(vs: &[[f64; 2]]) -> (f64, [f64; 2], f64) {
    let n = vs.len();
    let (mut a2, mut cx, mut cy, mut j) = (0.0, 0.0, 0.0, 0.0);
    for i in 0..n {
        let (p, q) = (vs[i], vs[(i + 1) % n]);
        let c = cross(p, q);
        a2 += c;
        cx += (p[0] + q[0]) * c;
        cy += (p[1] + q[1]) * c;
        j +=
            c * (p[0] * p[0] + p[1] * p[1] + p[0] * q[0] + p[1] * q[1] + q[0] * q[0] + q[1] * q[1]);
    }
    let area = a2 / 2.0;
    let centroid = [cx / (3.0 * a2), cy / (3.0 * a2)];
    let j_origin = j / 12.0;
    let j_centroid = j_origin - area * (centroid[0] * centroid[0] + centroid[1] * centroid[1]);
    (area, centroid, j_centroid)
}
