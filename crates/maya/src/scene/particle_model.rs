//! [`ParticleModel`]: a particle scene on a tape, and its step with the
//! pinned particles held (see [`ParticleScene::build`](super::ParticleScene::build)).

use crate::dynamics::ParticleSystem;
use crate::error::Result;
use crate::physics::{rollout_from, Record};
use crate::tape::{TVar, TensorTape};
use crate::tensor::Tensor;

/// A particle scene on a tape (see
/// [`ParticleScene::build`](super::ParticleScene::build)): the system,
/// the initial state and every parameter, and the pins.
#[derive(Clone)]
pub struct ParticleModel<'t> {
    /// The system: masses, gravity, drag, ground and springs.
    pub system: ParticleSystem<'t>,
    /// Initial positions `[N, 2]`.
    pub positions: TVar<'t>,
    /// Initial velocities `[N, 2]`.
    pub velocities: TVar<'t>,
    /// Masses `[N]`.
    pub masses: TVar<'t>,
    /// Gravity `[2]`.
    pub gravity: TVar<'t>,
    /// Drag `[]`.
    pub drag: TVar<'t>,
    /// The ground's stiffness `[]`, if there is a ground.
    pub ground_stiffness: Option<TVar<'t>>,
    /// Spring stiffness `[S]`, if there are springs.
    pub stiffness: Option<TVar<'t>>,
    /// Spring rest lengths `[S]`, if there are springs.
    pub rest_length: Option<TVar<'t>>,
    /// Spring damping `[S]`, if any spring is damped.
    pub damping: Option<TVar<'t>>,
    /// The pinned particles.
    pub pinned: Vec<usize>,
    pub(crate) mask: Option<TVar<'t>>,
}

impl<'t> ParticleModel<'t> {
    /// One step from `(p, v)`, pinned particles held: one step node and,
    /// with pins, the masking ops p + m ⊙ (p̃ − p), m ⊙ ṽ.
    pub fn step(&self, p: &TVar<'t>, v: &TVar<'t>) -> Result<(TVar<'t>, TVar<'t>)> {
        let (p_free, v_free) = self.system.try_step(p, v)?;
        match &self.mask {
            None => Ok((p_free, v_free)),
            Some(m) => Ok((
                p.try_add(&p_free.try_sub(p)?.try_mul(m)?)?,
                v_free.try_mul(m)?,
            )),
        }
    }

    /// `steps` steps from the values `(q, v)`, numbered from `first`,
    /// without gradients.
    pub(crate) fn advance(
        &self,
        tape: &'t TensorTape,
        mut q: Tensor,
        mut v: Tensor,
        first: usize,
        steps: usize,
    ) -> Result<(Tensor, Tensor)> {
        let run = |q: Tensor, v: Tensor, from: usize, n: usize| -> Result<(Tensor, Tensor)> {
            let state = (tape.constant(q), tape.constant(v));
            let (q, v) = rollout_from(&self.system, state, from, &(), n, Record::Last)?.last();
            Ok((q.value(), v.value()))
        };
        if self.pinned.is_empty() {
            return run(q, v, first, steps);
        }
        for s in first..first + steps {
            let held: Vec<[f64; 2]> = self
                .pinned
                .iter()
                .map(|&i| [q.data[2 * i], q.data[2 * i + 1]])
                .collect();
            (q, v) = run(q, v, s, 1)?;
            for (&i, p) in self.pinned.iter().zip(&held) {
                q.data[2 * i..2 * i + 2].copy_from_slice(p);
                v.data[2 * i..2 * i + 2].fill(0.0);
            }
        }
        Ok((q, v))
    }
}
