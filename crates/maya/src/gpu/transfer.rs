//! The transfers between host and device as tape ops: `to_device` and
//! `to_host`, whose adjoints are the reverse copies (converting between
//! the host's f64 and the device value's dtype).

use super::device::Device;
use super::dtype::DType;
use crate::error::{DeviceError, Error, OrPanic, Result};
use crate::tape::{RecordedKernel, Value};
use crate::TVar;

struct ToDevice;

impl RecordedKernel for ToDevice {
    fn name(&self) -> &'static str {
        "to_device"
    }

    /// ḡx (host) += the device gradient, copied back (as f64).
    fn vjp(
        &self,
        _inputs: &[&Value],
        _outputs: &[&Value],
        grad_outputs: &[&Value],
        grad_inputs: &mut [&mut Value],
        _needs: &[bool],
        _fresh: &[bool],
    ) -> Result<()> {
        let back = Value::Host(grad_outputs[0].to_host()?);
        grad_inputs[0].add_assign(&back)
    }
}

struct ToHost;

impl RecordedKernel for ToHost {
    fn name(&self) -> &'static str {
        "to_host"
    }

    /// ḡx (device) += the host gradient, uploaded in ḡx's dtype.
    fn vjp(
        &self,
        inputs: &[&Value],
        _outputs: &[&Value],
        grad_outputs: &[&Value],
        grad_inputs: &mut [&mut Value],
        _needs: &[bool],
        _fresh: &[bool],
    ) -> Result<()> {
        let g = grad_outputs[0].host("to_host", 0)?;
        let up = inputs[0].alike(g.clone())?;
        grad_inputs[0].add_assign(&up)
    }
}

impl<'t> TVar<'t> {
    /// This value copied to `device`, in the device's dtype
    /// ([`Device::dtype`]): a tape op whose adjoint copies the gradient
    /// back. Panics on an error; see [`TVar::try_to_device`].
    ///
    /// ```no_run
    /// use maya::gpu::{self, Device};
    /// use maya::{Tensor, TensorTape};
    /// let device = Device::new()?;
    /// let t = TensorTape::new();
    /// let x = t.var(Tensor::from_data(vec![1.0, 2.0], vec![2]));
    /// let y = gpu::mul(&x.to_device(&device), &x.to_device(&device))?;
    /// let loss = gpu::sum(&y)?.to_host(); // Σ x², on the device
    /// assert_eq!(t.grad(loss)[x.idx()].data, vec![2.0, 4.0]);
    /// # Ok::<(), maya::Error>(())
    /// ```
    #[track_caller]
    pub fn to_device(&self, device: &Device) -> TVar<'t> {
        self.try_to_device(device).or_panic()
    }

    /// [`TVar::to_device`], returning the error instead (a value already
    /// on a device, no f64, over the binding limit, out of memory).
    pub fn try_to_device(&self, device: &Device) -> Result<TVar<'t>> {
        self.try_to_device_as(device, device.dtype())
    }

    /// This value copied to `device` as `dtype` (f32: rounded to nearest),
    /// whatever the device's own dtype: a tape op whose adjoint copies the
    /// gradient back as f64. Panics on an error; see
    /// [`TVar::try_to_device_as`].
    ///
    /// ```no_run
    /// use maya::gpu::{self, DType, Device};
    /// use maya::{Tensor, TensorTape};
    /// let device = Device::new()?;
    /// let t = TensorTape::new();
    /// let x = t.var(Tensor::from_data(vec![1.0, 2.0], vec![2]));
    /// let x32 = x.to_device_as(&device, DType::F32);
    /// let loss = gpu::sum(&gpu::mul(&x32, &x32)?)?.to_host(); // Σ x² in f32
    /// assert_eq!(t.grad(loss)[x.idx()].data, vec![2.0, 4.0]);
    /// # Ok::<(), maya::Error>(())
    /// ```
    #[track_caller]
    pub fn to_device_as(&self, device: &Device, dtype: DType) -> TVar<'t> {
        self.try_to_device_as(device, dtype).or_panic()
    }

    /// [`TVar::to_device_as`], returning the error instead (as
    /// [`TVar::try_to_device`]'s, and a finite value beyond f32's range).
    pub fn try_to_device_as(&self, device: &Device, dtype: DType) -> Result<TVar<'t>> {
        let op = "to_device";
        let d = TVar::with_raw_values(&[*self], op, |v, _| match v[0] {
            Value::Host(t) => device.upload_as(t, dtype),
            device_value => Err(Error::Device(DeviceError::Mismatch {
                op,
                first_input: 0,
                first: device_value.place(),
                second_input: 0,
                second: "the host (to_device copies from the host)".to_string(),
            })),
        })??;
        Ok(self.tape().push_node(
            Box::new(ToDevice),
            op,
            vec![self.idx()],
            vec![Value::Device(d)],
        )[0])
    }

    /// This device value copied to the host: a tape op whose adjoint
    /// uploads the gradient. Panics on an error; see [`TVar::try_to_host`].
    #[track_caller]
    pub fn to_host(&self) -> TVar<'t> {
        self.try_to_host().or_panic()
    }

    /// [`TVar::to_host`], returning the error instead.
    pub fn try_to_host(&self) -> Result<TVar<'t>> {
        let op = "to_host";
        let h = TVar::with_raw_values(&[*self], op, |v, _| match v[0] {
            Value::Device(d) => d.to_host(),
            Value::Host(_) => Err(Error::Device(DeviceError::OnHost { op, input: 0 })),
        })??;
        Ok(self
            .tape()
            .push_node(Box::new(ToHost), op, vec![self.idx()], vec![Value::Host(h)])[0])
    }
}
