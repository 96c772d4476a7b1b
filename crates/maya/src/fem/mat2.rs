//! 2×2 matrix arithmetic for the element kernels: small, inlined, no
//! allocation. Matrices are row-major, `m[row][col]`.

/// A 2×2 matrix, row-major: `m[row][col]`.
///
/// ```
/// use maya::fem::Mat2;
/// let f: Mat2 = [[1.1, 0.2], [0.0, 0.9]]; // F₁₂ = 0.2
/// assert_eq!(f[0][1], 0.2);
/// ```
pub type Mat2 = [[f64; 2]; 2];

/// The identity.
pub(crate) const IDENTITY: Mat2 = [[1.0, 0.0], [0.0, 1.0]];

/// The zero matrix.
pub(crate) const ZERO: Mat2 = [[0.0; 2]; 2];

#[inline(always)]
pub(crate) fn add(a: &Mat2, b: &Mat2) -> Mat2 {
    [
        [a[0][0] + b[0][0], a[0][1] + b[0][1]],
        [a[1][0] + b[1][0], a[1][1] + b[1][1]],
    ]
}

#[inline(always)]
pub(crate) fn sub(a: &Mat2, b: &Mat2) -> Mat2 {
    [
        [a[0][0] - b[0][0], a[0][1] - b[0][1]],
        [a[1][0] - b[1][0], a[1][1] - b[1][1]],
    ]
}

#[inline(always)]
pub(crate) fn scale(a: &Mat2, s: f64) -> Mat2 {
    [[a[0][0] * s, a[0][1] * s], [a[1][0] * s, a[1][1] * s]]
}

/// s·a + t·b.
#[inline(always)]
pub(crate) fn combine(s: f64, a: &Mat2, t: f64, b: &Mat2) -> Mat2 {
    [
        [s * a[0][0] + t * b[0][0], s * a[0][1] + t * b[0][1]],
        [s * a[1][0] + t * b[1][0], s * a[1][1] + t * b[1][1]],
    ]
}

#[inline(always)]
pub(crate) fn transpose(a: &Mat2) -> Mat2 {
    [[a[0][0], a[1][0]], [a[0][1], a[1][1]]]
}

/// a b.
#[inline(always)]
pub(crate) fn mul(a: &Mat2, b: &Mat2) -> Mat2 {
    [
        [
            a[0][0] * b[0][0] + a[0][1] * b[1][0],
            a[0][0] * b[0][1] + a[0][1] * b[1][1],
        ],
        [
            a[1][0] * b[0][0] + a[1][1] * b[1][0],
            a[1][0] * b[0][1] + a[1][1] * b[1][1],
        ],
    ]
}

/// a bᵀ.
#[inline(always)]
pub(crate) fn mul_bt(a: &Mat2, b: &Mat2) -> Mat2 {
    [
        [
            a[0][0] * b[0][0] + a[0][1] * b[0][1],
            a[0][0] * b[1][0] + a[0][1] * b[1][1],
        ],
        [
            a[1][0] * b[0][0] + a[1][1] * b[0][1],
            a[1][0] * b[1][0] + a[1][1] * b[1][1],
        ],
    ]
}

/// aᵀ b.
#[inline(always)]
pub(crate) fn mul_at(a: &Mat2, b: &Mat2) -> Mat2 {
    [
        [
            a[0][0] * b[0][0] + a[1][0] * b[1][0],
            a[0][0] * b[0][1] + a[1][0] * b[1][1],
        ],
        [
            a[0][1] * b[0][0] + a[1][1] * b[1][0],
            a[0][1] * b[0][1] + a[1][1] * b[1][1],
        ],
    ]
}

/// The Frobenius product a : b = Σᵢⱼ aᵢⱼ bᵢⱼ.
#[inline(always)]
pub(crate) fn ddot(a: &Mat2, b: &Mat2) -> f64 {
    a[0][0] * b[0][0] + a[0][1] * b[0][1] + a[1][0] * b[1][0] + a[1][1] * b[1][1]
}

#[inline(always)]
pub(crate) fn trace(a: &Mat2) -> f64 {
    a[0][0] + a[1][1]
}

#[inline(always)]
pub(crate) fn det(a: &Mat2) -> f64 {
    a[0][0] * a[1][1] - a[0][1] * a[1][0]
}

/// The cofactor matrix, cof a = det(a) a⁻ᵀ; linear in `a` in 2D, and
/// ∂ det(a)/∂a = cof a.
#[inline(always)]
pub(crate) fn cofactor(a: &Mat2) -> Mat2 {
    [[a[1][1], -a[1][0]], [-a[0][1], a[0][0]]]
}

/// sym(a) = (a + aᵀ)/2.
#[inline(always)]
pub(crate) fn sym(a: &Mat2) -> Mat2 {
    let off = 0.5 * (a[0][1] + a[1][0]);
    [[a[0][0], off], [off, a[1][1]]]
}

/// a⁻¹ (the caller knows det a ≠ 0).
#[inline(always)]
pub(crate) fn inverse(a: &Mat2) -> Mat2 {
    let inv_det = 1.0 / det(a);
    [
        [a[1][1] * inv_det, -a[0][1] * inv_det],
        [-a[1][0] * inv_det, a[0][0] * inv_det],
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_match_their_definitions() {
        let a: Mat2 = [[1.0, 2.0], [3.0, 4.0]];
        let b: Mat2 = [[-1.0, 0.5], [2.0, 3.0]];
        // a b by hand: [[1·−1 + 2·2, 1·0.5 + 2·3], [3·−1 + 4·2, 3·0.5 + 4·3]].
        assert_eq!(mul(&a, &b), [[3.0, 6.5], [5.0, 13.5]]);
        assert_eq!(mul_bt(&a, &b), mul(&a, &transpose(&b)));
        assert_eq!(mul_at(&a, &b), mul(&transpose(&a), &b));
        assert_eq!(det(&a), -2.0);
        assert_eq!(mul(&a, &inverse(&a)), IDENTITY);
        assert_eq!(cofactor(&a), scale(&transpose(&inverse(&a)), det(&a)));
        assert_eq!(ddot(&a, &b), -1.0 + 1.0 + 6.0 + 12.0);
    }
}
