//! [`SoftBody`]: a triangle mesh with a material, made into a particle
//! system of the one pipeline (its vertices are the particles, its lumped
//! masses and [`Elastic`] forces come from the differentiable rest
//! geometry), so gravity, the ground, loads, fixed vertices and every
//! scheme — backward Euler included — come with it.

use super::element::Elastic;
use super::material::MaterialModel;
use super::mesh::TriMesh;
use super::rest::{try_rest_geometry, RestGeometry};
use crate::dynamics::ParticleSystem;
use crate::error::{Error, OrPanic, Result};
use crate::tape::TVar;
use crate::tensor::Tensor;

/// A soft body: mesh topology, material model and its differentiable
/// fields — rest positions, Young's modulus, Poisson's ratio and density —
/// with the rest geometry and Lamé fields computed from them on the tape.
///
/// ```
/// use maya::fem::{rectangle, Diagonal, MaterialModel, SoftBody};
/// use maya::{Tensor, TensorTape};
/// let mesh = rectangle([0.0, 0.0], 4.0, 1.0, 8, 2, Diagonal::Right).unwrap();
/// let t = TensorTape::new();
/// let youngs = t.var(Tensor::full(&[mesh.n_triangles()], 1e4));
/// let body = SoftBody::new(&mesh, MaterialModel::NeoHookean, t.constant(mesh.rest_tensor()),
///     youngs, 0.3, t.scalar(1.0));
/// let clamped = mesh.vertices_where(|p| p[0] == 0.0);
/// let sys = body.system(1e-4).with_fixed(&clamped)
///     .with_gravity(t.constant(Tensor::from_data(vec![0.0, -9.81], vec![2])));
/// let x0 = t.constant(mesh.rest_tensor());
/// let (x, _) = sys.rollout_final(&x0, &t.constant(Tensor::zeros(&[mesh.n_vertices(), 2])), 50).unwrap();
/// let sag = x.sub(&x0).square().sum();
/// let g = t.grad(sag);
/// assert_eq!(g.wrt(&youngs).shape, vec![mesh.n_triangles()]);
/// ```
#[derive(Clone)]
pub struct SoftBody<'t> {
    elastic: Elastic,
    /// Rest positions `[V, 2]`.
    pub rest_positions: TVar<'t>,
    /// B = Dm⁻¹, rest areas and lumped masses.
    pub rest: RestGeometry<'t>,
    /// Shear modulus μ per triangle `[T]` (Pa).
    pub mu: TVar<'t>,
    /// Lamé's λ per triangle `[T]` (Pa, plane strain).
    pub lambda: TVar<'t>,
}

impl<'t> SoftBody<'t> {
    /// A soft body of `mesh` under `model`, at rest positions `rest`
    /// (`[V, 2]`: the mesh's vertices, or a variable for shape
    /// optimisation), Young's modulus `youngs` (Pa, `[T]` per triangle or
    /// `[]`), Poisson's ratio `poisson` and density `density` (kg/m², `[T]`
    /// or `[]`). Panics on bad input; see [`Self::try_new`].
    #[track_caller]
    pub fn new(
        mesh: &TriMesh,
        model: MaterialModel,
        rest: TVar<'t>,
        youngs: TVar<'t>,
        poisson: f64,
        density: TVar<'t>,
    ) -> SoftBody<'t> {
        Self::try_new(mesh, model, rest, youngs, poisson, density).or_panic()
    }

    /// [`Self::new`], returning an error for a Poisson ratio outside
    /// (−1, ½), a field of the wrong shape, or a degenerate rest triangle
    /// ([`Error::DegenerateElement`]).
    pub fn try_new(
        mesh: &TriMesh,
        model: MaterialModel,
        rest: TVar<'t>,
        youngs: TVar<'t>,
        poisson: f64,
        density: TVar<'t>,
    ) -> Result<SoftBody<'t>> {
        if !(poisson > -1.0 && poisson < 0.5) {
            return Err(Error::Parameter {
                name: "Poisson's ratio",
                value: poisson,
                reason: "plane strain needs −1 < ν < ½",
            });
        }
        let youngs = per_triangle(mesh, youngs, "SoftBody: Young's modulus")?;
        let nu = poisson;
        let mu = youngs.scalar_mul(1.0 / (2.0 * (1.0 + nu)));
        let lambda = youngs.scalar_mul(nu / ((1.0 + nu) * (1.0 - 2.0 * nu)));
        Self::try_from_lame(mesh, model, rest, mu, lambda, density)
    }

    /// A soft body given its Lamé fields directly: shear modulus `mu` and
    /// `lambda` (Pa, plane strain, `[T]` or `[]`), so that both are free
    /// fields (e.g. to fit a Poisson ratio per triangle). Errors as
    /// [`Self::try_new`]; the values are checked (μ > 0, λ + μ > 0) when a
    /// system built from the body steps.
    ///
    /// ```
    /// use maya::fem::{rectangle, Diagonal, MaterialModel, SoftBody};
    /// use maya::{Tensor, TensorTape};
    /// let mesh = rectangle([0.0, 0.0], 1.0, 1.0, 2, 2, Diagonal::Right).unwrap();
    /// let t = TensorTape::new();
    /// let body = SoftBody::try_from_lame(&mesh, MaterialModel::Corotated,
    ///     t.constant(mesh.rest_tensor()), t.scalar(4e3), t.scalar(6e3), t.scalar(1.0)).unwrap();
    /// assert_eq!(body.lambda.shape(), vec![8]);
    /// ```
    pub fn try_from_lame(
        mesh: &TriMesh,
        model: MaterialModel,
        rest: TVar<'t>,
        mu: TVar<'t>,
        lambda: TVar<'t>,
        density: TVar<'t>,
    ) -> Result<SoftBody<'t>> {
        let mu = per_triangle(mesh, mu, "SoftBody: μ")?;
        let lambda = per_triangle(mesh, lambda, "SoftBody: λ")?;
        let density = per_triangle(mesh, density, "SoftBody: density")?;
        let rest_geometry = try_rest_geometry(mesh.triangles_arc(), &rest, &density)?;
        Ok(SoftBody {
            elastic: Elastic::new(model, mesh),
            rest_positions: rest,
            rest: rest_geometry,
            mu,
            lambda,
        })
    }

    /// The elastic element and its parameters (μ, λ, B, A), to add to a
    /// system of your own with
    /// [`ParticleSystem::with_force`].
    pub fn elastic(&self) -> (Elastic, [TVar<'t>; 4]) {
        (
            self.elastic.clone(),
            [self.mu, self.lambda, self.rest.dm_inv, self.rest.area],
        )
    }

    /// A particle system of the body's vertices at time step `dt` (s):
    /// lumped masses and elastic forces; add gravity, the ground, loads,
    /// fixed vertices and the integrator as for any particle system.
    /// Panics on a bad `dt`; see [`Self::try_system`].
    #[track_caller]
    pub fn system(&self, dt: f64) -> ParticleSystem<'t> {
        self.try_system(dt).or_panic()
    }

    /// [`Self::system`], returning [`Error::Parameter`] for a non-positive
    /// or non-finite `dt`.
    pub fn try_system(&self, dt: f64) -> Result<ParticleSystem<'t>> {
        let (element, params) = self.elastic();
        ParticleSystem::try_new(self.rest.mass, dt)?.try_with_force(element, &params)
    }
}

/// `x` as one value per triangle: `[T]` as given, `[]` broadcast.
fn per_triangle<'t>(mesh: &TriMesh, x: TVar<'t>, what: &'static str) -> Result<TVar<'t>> {
    let t = mesh.n_triangles();
    match &x.shape()[..] {
        [] => Ok(x.tape.constant(Tensor::ones(&[t])).mul(&x)),
        [n] if *n == t => Ok(x),
        s => Err(Error::Shape {
            op: what,
            lhs: s.to_vec(),
            rhs: vec![t],
            hint: "a material field has one value per triangle, [T], or one for all, []",
        }),
    }
}
