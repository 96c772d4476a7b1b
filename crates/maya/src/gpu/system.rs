//! [`ParticleSystem::on`]: a particle system whose steps are device
//! kernels, on the same tape as the rest of the computation. The device
//! twin covers what the device kernels compute: semi-implicit Euler with
//! gravity and either an undamped spring network (W3) or drag with the
//! floor z = 0 in 3D (W2); anything else is an error saying what.

use super::device::Device;
use super::rollout::{Forces, Recipe};
use super::springs::DeviceSprings;
use crate::dynamics::{Ground, Integrator, ParticleSystem, Parts};
use crate::error::{Error, Result};
use crate::tape::Value;
use crate::TVar;

/// A [`ParticleSystem`] on a device (from [`ParticleSystem::on`]): each
/// step one device kernel recorded on the system's tape, so gradients
/// reach the host parameters (stiffness, rest lengths, drag, floor
/// stiffness) and initial state through the transfers.
#[derive(Clone)]
pub struct DeviceParticleSystem<'t> {
    device: Device,
    masses: TVar<'t>,
    /// The forces' parameters on the device: spring stiffness and rest
    /// lengths `[S]`, or drag and floor stiffness `[]`.
    params: [TVar<'t>; 2],
    recipe: Recipe,
}

const ON: &str = "ParticleSystem::on";

fn unsupported(reason: &'static str) -> Error {
    Error::Unsupported { what: ON, reason }
}

/// `x` on `device`: copied there from the host, or as it is.
fn onto<'t>(x: &TVar<'t>, device: &Device) -> Result<TVar<'t>> {
    let on_host = TVar::with_raw_values(&[*x], ON, |v, _| matches!(v[0], Value::Host(_)))?;
    if on_host {
        x.try_to_device(device)
    } else {
        Ok(*x)
    }
}

impl<'t> ParticleSystem<'t> {
    /// This system on `device`: the same forces, parameters and time step,
    /// each step a device kernel. Supported: semi-implicit Euler, constant
    /// masses and gravity, and either one undamped spring network (2D or
    /// 3D) or drag with `Ground::floor(3)` (3D); parameter values are
    /// checked as a host step checks them.
    ///
    /// Errors: [`Error::Unsupported`] naming what has no device kernel
    /// yet, a parameter error as the host step's, or the device's.
    ///
    /// ```no_run
    /// use maya::dynamics::{ParticleSystem, SpringNetwork};
    /// use maya::gpu::Device;
    /// use maya::{Tensor, TensorTape};
    /// let device = Device::new()?;
    /// let t = TensorTape::new();
    /// let net = SpringNetwork::grid(3, 3);
    /// let r = SpringNetwork::grid_positions(3, 3, 0.1, [0.0, 1.0]);
    /// let k = t.var(Tensor::full(&[net.len()], 1000.0));
    /// let rest = t.constant(net.lengths(&r));
    /// let system = ParticleSystem::new(t.constant(Tensor::ones(&[9])), 1e-3)
    ///     .with_springs(net, k, rest, None)
    ///     .with_gravity(t.constant(Tensor::from_data(vec![0.0, -9.81], vec![2])));
    /// let (p0, v0) = (t.constant(r.clone()), t.var(Tensor::zeros(&[9, 2])));
    /// let (p, _v) = system.on(&device)?.rollout_final(&p0, &v0, 100)?;
    /// // The loss on the host, after one transfer back.
    /// let loss = p.to_host().sub(&t.constant(r)).square().sum();
    /// let g = t.grad_wrt(loss, &[k, v0]);
    /// assert_eq!(g[0].shape, vec![20]);
    /// # Ok::<(), maya::Error>(())
    /// ```
    pub fn on(&self, device: &Device) -> Result<DeviceParticleSystem<'t>> {
        let parts: Parts<'t> = self.parts()?;
        if parts.integrator != Integrator::SemiImplicitEuler {
            return Err(unsupported(
                "only semi-implicit Euler has device kernels; drop with_integrator",
            ));
        }
        if parts.fixed || parts.other_elements > 0 {
            return Err(unsupported(
                "fixed particles and elements other than springs have no device kernels yet",
            ));
        }
        if parts.masses.requires_grad() {
            return Err(unsupported(
                "the mass gradient is not on the device yet; make the masses a constant",
            ));
        }
        let mut gravity = [0.0; 3];
        if let Some(g) = parts.gravity {
            if g.requires_grad() {
                return Err(unsupported(
                    "the gravity gradient is not on the device yet; make gravity a constant",
                ));
            }
            let g = g.value();
            for (to, from) in gravity.iter_mut().zip(&g.data) {
                *to = *from;
            }
        }
        let (forces, params) =
            match (&parts.springs[..], parts.drag, parts.ground) {
                ([(net, params)], None, None) => {
                    if params.len() > 2 {
                        return Err(unsupported(
                            "damped springs have no device kernel yet; pass damping None",
                        ));
                    }
                    (
                        Forces::Springs(DeviceSprings::new(device, net)?),
                        [onto(&params[0], device)?, onto(&params[1], device)?],
                    )
                }
                ([], Some(c), Some((ground, k))) if ground == Ground::floor(3) => {
                    (Forces::DragAndFloor, [onto(&c, device)?, onto(&k, device)?])
                }
                _ => return Err(unsupported(
                    "the device runs one undamped spring network, or drag with Ground::floor(3) \
                     in 3D, with optional gravity",
                )),
            };
        Ok(DeviceParticleSystem {
            device: device.clone(),
            masses: onto(&parts.masses, device)?,
            params,
            recipe: Recipe {
                forces,
                dt: parts.dt,
                gravity,
            },
        })
    }
}

impl<'t> DeviceParticleSystem<'t> {
    /// The device the steps run on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// One step from `(p, v)` (host values are copied to the device
    /// first); returns (p', v') on the device: one tape node.
    pub fn step(&self, p: &TVar<'t>, v: &TVar<'t>) -> Result<(TVar<'t>, TVar<'t>)> {
        let (p, v) = (onto(p, &self.device)?, onto(v, &self.device)?);
        self.recipe.step(&p, &v, &self.masses, &self.params)
    }

    /// Runs `steps` steps from `(p0, v0)` and returns the final state on
    /// the device (`.to_host()` brings it back as a tape op). As on the
    /// host, the state is checked every 32 steps (a sum on the device, one
    /// value read back) and after the last: the first state with a
    /// non-finite entry is [`Error::NonFinite`] naming its step.
    pub fn rollout_final(
        &self,
        p0: &TVar<'t>,
        v0: &TVar<'t>,
        steps: usize,
    ) -> Result<(TVar<'t>, TVar<'t>)> {
        let state = (onto(p0, &self.device)?, onto(v0, &self.device)?);
        self.recipe.run(state, &self.masses, &self.params, 0, steps)
    }

    /// [`DeviceParticleSystem::rollout_final`] in checkpointed segments of
    /// `segment` steps (default ⌈√steps⌉), as
    /// [`ParticleSystem::rollout_checkpointed`] on the host: the tape keeps
    /// the segment boundaries (on the device) and the backward sweep
    /// records each segment's dispatches again. Loss and gradients are the
    /// plain device rollout's, bit for bit.
    ///
    /// ```no_run
    /// use maya::dynamics::{Ground, ParticleSystem};
    /// use maya::gpu::Device;
    /// use maya::{Tensor, TensorTape};
    /// let device = Device::new()?;
    /// let t = TensorTape::new();
    /// let c = t.scalar(0.1);
    /// let system = ParticleSystem::new(t.constant(Tensor::ones(&[4])), 1e-3)
    ///     .with_drag(c)
    ///     .with_ground(Ground::floor(3), t.scalar(1e4))
    ///     .with_gravity(t.constant(Tensor::from_data(vec![0.0, 0.0, -9.81], vec![3])));
    /// let (p0, v0) = (t.constant(Tensor::full(&[4, 3], 0.5)), t.var(Tensor::zeros(&[4, 3])));
    /// // 0.2 s of falling from 0.5 m, above the floor; 15-step segments.
    /// let (p, _v) = system.on(&device)?.rollout_checkpointed(&p0, &v0, 200, None)?;
    /// let g = t.grad_wrt(p.to_host().sum(), &[c, v0]);
    /// assert!(g[0].item() > 0.0); // more drag, a shorter fall
    /// # Ok::<(), maya::Error>(())
    /// ```
    pub fn rollout_checkpointed(
        &self,
        p0: &TVar<'t>,
        v0: &TVar<'t>,
        steps: usize,
        segment: Option<usize>,
    ) -> Result<(TVar<'t>, TVar<'t>)> {
        let seg = segment
            .unwrap_or_else(|| (steps as f64).sqrt().ceil() as usize)
            .max(1);
        let (mut p, mut v) = (onto(p0, &self.device)?, onto(v0, &self.device)?);
        let tape = p.tape();
        let mut start = 0;
        while start < steps {
            let len = seg.min(steps - start);
            let recipe = self.recipe.clone();
            let inputs = [p, v, self.masses, self.params[0], self.params[1]];
            let out = tape.try_checkpoint(&inputs, move |_inner, x| {
                let (p, v) = recipe.run((x[0], x[1]), &x[2], &x[3..], start, len)?;
                Ok(vec![p, v])
            })?;
            (p, v) = (out[0], out[1]);
            start += len;
        }
        Ok((p, v))
    }
}
