//! Initial states of a [`World`]: from arrays of rows, or from per-body
//! tape values so that only some entries are parameters; and the check
//! that no two bodies start overlapping.

use super::body::RigidState;
use super::world::World;
use crate::error::OrPanic;
use crate::error::{Error, Result};
use crate::tape::{TVar, TensorTape};
use crate::tensor::Tensor;

impl World {
    /// A state of differentiable inputs from poses (x, y, θ) and velocities
    /// (vx, vy, ω), one per body. Panics on a count that is not B or on
    /// bodies that overlap; see [`World::try_state`].
    ///
    /// ```
    /// use maya::rigid::{Shape, World};
    /// use maya::TensorTape;
    /// let mut w = World::new(1e-3);
    /// w.add_body(Shape::circle(0.1), 1.0);
    /// let t = TensorTape::new();
    /// let s = w.state(&t, &[[0.0, 1.0, 0.0]], &[[2.0, 0.0, 0.0]]);
    /// assert_eq!(s.pose.shape(), vec![1, 3]);
    /// ```
    #[track_caller]
    pub fn state<'t>(
        &self,
        tape: &'t TensorTape,
        pose: &[[f64; 3]],
        velocity: &[[f64; 3]],
    ) -> RigidState<'t> {
        self.try_state(tape, pose, velocity).or_panic()
    }

    /// [`World::state`], returning [`Error::BodyCount`] for a count of rows
    /// that is not the number of bodies and [`Error::InitialOverlap`] for
    /// bodies that overlap (unless [`World::allow_initial_overlap`]).
    pub fn try_state<'t>(
        &self,
        tape: &'t TensorTape,
        pose: &[[f64; 3]],
        velocity: &[[f64; 3]],
    ) -> Result<RigidState<'t>> {
        let b = self.len();
        self.check_rows("World::state", "pose", pose.len())?;
        self.check_rows("World::state", "velocity", velocity.len())?;
        let flat = |rows: &[[f64; 3]]| Tensor::from_data(rows.concat(), vec![b, 3]);
        let pose = flat(pose);
        self.check_initial_overlap(&pose.data)?;
        Ok(RigidState {
            pose: tape.var(pose),
            velocity: tape.var(flat(velocity)),
            step: 0,
        })
    }

    /// A state from one `[3]` tape value per body for its pose and for its
    /// velocity, stacked into `[B, 3]`: make the rows you differentiate
    /// with [`TensorTape::var`] and the rest with
    /// [`TensorTape::constant`]. Panics on bad input; see
    /// [`World::try_state_from_parts`].
    ///
    /// ```
    /// use maya::rigid::{Material, Shape, World};
    /// use maya::{Tensor, TensorTape};
    /// let mut w = World::new(1e-3);
    /// w.gravity = [0.0, 0.0];
    /// w.add_body(Shape::circle(0.1), 1.0); // the cue ball
    /// w.add_body(Shape::circle(0.1), 1.0);
    /// let t = TensorTape::new();
    /// let row = |v: [f64; 3]| Tensor::from_data(v.to_vec(), vec![3]);
    /// let cue_velocity = t.var(row([2.0, 0.0, 0.0]));
    /// let s = w.state_from_parts(
    ///     &[t.constant(row([0.0, 0.0, 0.0])), t.constant(row([0.5, 0.0, 0.0]))],
    ///     &[cue_velocity, t.constant(row([0.0; 3]))],
    /// );
    /// let p = w.params(&t, Material { stiffness: 1e4, damping: 0.0, friction: 0.0, restitution: 0.0 });
    /// let end = w.rollout(&s, &p, 400).unwrap();
    /// let g = t.grad(end.pose.at(&[1, 0]));
    /// assert!(g.wrt(&cue_velocity).data[0] > 0.0); // only the cue ball's velocity is a parameter
    /// ```
    #[track_caller]
    pub fn state_from_parts<'t>(&self, pose: &[TVar<'t>], velocity: &[TVar<'t>]) -> RigidState<'t> {
        self.try_state_from_parts(pose, velocity).or_panic()
    }

    /// [`World::state_from_parts`], returning [`Error::BodyCount`] for a
    /// count that is not B, [`Error::Shape`] for a part that is not `[3]`,
    /// [`Error::ForeignHandle`] for parts of different tapes and
    /// [`Error::InitialOverlap`] for overlapping bodies.
    pub fn try_state_from_parts<'t>(
        &self,
        pose: &[TVar<'t>],
        velocity: &[TVar<'t>],
    ) -> Result<RigidState<'t>> {
        let op = "World::state_from_parts";
        self.check_rows(op, "pose", pose.len())?;
        self.check_rows(op, "velocity", velocity.len())?;
        let Some(first) = pose.first() else {
            return Err(Error::Empty { op });
        };
        let tape = first.tape();
        for part in pose.iter().chain(velocity) {
            if !std::ptr::eq(part.tape(), tape) {
                return Err(Error::ForeignHandle { op });
            }
            if part.shape() != [3] {
                return Err(Error::Shape {
                    op,
                    lhs: part.shape(),
                    rhs: vec![3],
                    hint: "each part is one body's (x, y, θ) or (vx, vy, ω), shape [3]",
                });
            }
        }
        let pose = tape.try_stack(pose, 0)?;
        self.check_initial_overlap(&pose.value().data)?;
        Ok(RigidState {
            pose,
            velocity: tape.try_stack(velocity, 0)?,
            step: 0,
        })
    }

    /// [`Error::InitialOverlap`] for the deepest overlap in the poses
    /// `pose` (`[B, 3]`, row-major) beyond [`World::overlap_tolerance`] of
    /// the smaller body's bounding radius; `Ok` when none is, or when
    /// [`World::allow_initial_overlap`] is set.
    ///
    /// ```
    /// use maya::rigid::{Shape, World};
    /// use maya::contact::Ground;
    /// let mut w = World::new(1e-3);
    /// w.set_ground(Ground::horizontal(0.0));
    /// w.add_body(Shape::circle(0.5), 1.0);
    /// let sunk = [0.0, 0.2, 0.0]; // 0.3 m under the floor
    /// let err = w.check_initial_overlap(&sunk).unwrap_err().to_string();
    /// assert!(err.contains("body 0 overlaps the ground by 3.000e-1 m"), "{err}");
    /// w.allow_initial_overlap = true;
    /// assert!(w.check_initial_overlap(&sunk).is_ok());
    /// ```
    pub fn check_initial_overlap(&self, pose: &[f64]) -> Result<()> {
        if self.allow_initial_overlap || pose.len() != 3 * self.len() {
            return Ok(());
        }
        let radius = |b: usize| self.shapes[b].bounding_radius();
        let mut worst: Option<(f64, Error)> = None;
        for c in self.contacts(pose) {
            let r = c
                .other
                .map_or(radius(c.body), |o| radius(c.body).min(radius(o)));
            let tolerance = self.overlap_tolerance * r;
            let excess = c.depth / tolerance;
            if c.depth > tolerance && worst.as_ref().is_none_or(|(e, _)| excess > *e) {
                let err = Error::InitialOverlap {
                    body: c.body,
                    other: c.other,
                    depth: c.depth,
                    tolerance,
                };
                worst = Some((excess, err));
            }
        }
        worst.map_or(Ok(()), |(_, e)| Err(e))
    }

    /// [`Error::BodyCount`] unless `got` rows is one per body.
    fn check_rows(&self, op: &'static str, what: &'static str, got: usize) -> Result<()> {
        if got == self.len() {
            Ok(())
        } else {
            Err(Error::BodyCount {
                op,
                what,
                bodies: self.len(),
                got,
            })
        }
    }
}
