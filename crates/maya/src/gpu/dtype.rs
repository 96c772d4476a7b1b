//! `DType`: the precision of a device tensor, and how each is written for
//! the kernels (the WGSL alias, uniform fields, buffer bytes).

/// The float type of a [`DeviceTensor`](super::DeviceTensor)'s entries.
/// Host values stay f64 [`Tensor`](crate::Tensor)s: uploads convert to the
/// device's type and read-backs convert back. Every maya kernel is one
/// WGSL source per module, compiled for either type (its float type is
/// named `real`; the launcher prepends `alias real = f64;` or `f32`).
///
/// ```
/// use maya::gpu::DType;
/// assert_eq!(DType::F32.size_bytes(), 4);
/// assert_eq!("f32".parse::<DType>()?, DType::F32);
/// assert_eq!(DType::F64.to_string(), "f64");
/// # Ok::<(), String>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum DType {
    /// 64-bit floats: the host's precision; needs SHADER_F64.
    #[default]
    F64,
    /// 32-bit floats: every adapter has them.
    F32,
}

impl DType {
    /// Bytes per entry.
    pub fn size_bytes(self) -> usize {
        match self {
            DType::F64 => 8,
            DType::F32 => 4,
        }
    }

    /// The WGSL type name ("f64", "f32").
    pub fn name(self) -> &'static str {
        match self {
            DType::F64 => "f64",
            DType::F32 => "f32",
        }
    }

    /// Both types, f64 first.
    pub const ALL: [DType; 2] = [DType::F64, DType::F32];

    /// The line the launcher prepends to a module's source.
    pub(crate) fn alias(self) -> String {
        format!("alias real = {};\n", self.name())
    }

    /// `x` in this type's little-endian bytes (f32: rounded to nearest).
    pub(crate) fn bytes_of(self, x: f64) -> Vec<u8> {
        match self {
            DType::F64 => x.to_le_bytes().to_vec(),
            DType::F32 => (x as f32).to_le_bytes().to_vec(),
        }
    }
}

impl std::fmt::Display for DType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for DType {
    type Err = String;

    /// "f64" or "f32".
    fn from_str(s: &str) -> Result<DType, String> {
        match s {
            "f64" => Ok(DType::F64),
            "f32" => Ok(DType::F32),
            _ => Err(format!("unknown dtype `{s}`; valid dtypes: f64, f32")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_dtype_names_its_width_and_parses_back() {
        for d in DType::ALL {
            assert_eq!(d.name().parse::<DType>().unwrap(), d);
            assert_eq!(d.bytes_of(1.5).len(), d.size_bytes());
            assert_eq!(d.alias(), format!("alias real = {d};\n"));
        }
        assert_eq!(DType::F32.bytes_of(0.1), 0.1f32.to_le_bytes());
        assert!("f16".parse::<DType>().unwrap_err().contains("f64, f32"));
    }
}
