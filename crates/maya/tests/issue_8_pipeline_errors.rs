//! Issue 8: bad input to the physics pipeline and the tape contract is a
//! clear error: a foreign handle in a gradient lookup, a force element
//! given the wrong number of parameters, a checkpoint whose replay
//! differs, an element whose endpoints coincide.

use maya::dynamics::{ParticleSystem, SpringNetwork};
use maya::physics::{Element, NodeGrads, Nodes};
use maya::{Error, Result, Tape, Tensor, TensorTape};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

#[test]
fn a_foreign_handle_in_a_gradient_lookup_is_an_error() {
    let (t, other) = (TensorTape::new(), TensorTape::new());
    let x = t.var(Tensor::from_data(vec![1.0, 2.0], vec![2]));
    let y = other.var(Tensor::from_data(vec![1.0, 2.0], vec![2]));
    let g = t.grad(x.square().sum());
    // y has the same index on its tape as x on t: before, `wrt` returned
    // x's gradient for it.
    assert_eq!(x.idx(), y.idx());
    assert_eq!(g.wrt(&x).data, vec![2.0, 4.0]);
    let e = g.try_wrt(&y).unwrap_err();
    assert!(matches!(e, Error::ForeignHandle { .. }), "{e}");
    assert!(e.to_string().contains("another tape"), "{e}");
    // The scalar tape's table too.
    let (s, s2) = (Tape::new(), Tape::new());
    let (a, b) = (s.var(3.0), s2.var(3.0));
    let gs = s.grad(a * a);
    assert_eq!(gs.wrt(a), 6.0);
    assert!(matches!(gs.try_wrt(b), Err(Error::ForeignHandle { .. })));
}

#[test]
#[should_panic(expected = "another tape")]
fn the_panicking_lookup_names_the_problem() {
    let (t, other) = (TensorTape::new(), TensorTape::new());
    let x = t.var(Tensor::ones(&[1]));
    let y = other.var(Tensor::ones(&[1]));
    let g = t.grad(x.sum());
    let _ = g.wrt(&y);
}

#[test]
fn a_force_with_the_wrong_number_of_parameters_is_an_error() {
    let t = TensorTape::new();
    let net = SpringNetwork::grid(2, 2);
    let k = t.constant(Tensor::ones(&[net.len()]));
    let sys = ParticleSystem::new(t.constant(Tensor::ones(&[4])), 0.01);
    // Springs take stiffness and rest length; one was given. Before, the
    // step panicked with "index out of bounds" inside a worker thread.
    let e = sys.clone().try_with_force(net.clone(), &[k]).err().unwrap();
    assert_eq!(
        e,
        Error::ParamCount {
            element: "springs",
            expected: 2,
            got: 1,
            names: "spring stiffness, spring rest length".into(),
        }
    );
    assert!(e.to_string().contains("takes 2 parameter(s)"), "{e}");
    assert!(sys.try_with_force(net, &[k, k, k]).is_err());
}

/// A user element whose forward panics if called with the wrong count is
/// never reached: the count is checked when it is added.
struct Tether;
impl Element for Tether {
    type Saved = ();
    fn name(&self) -> &'static str {
        "tether"
    }
    fn param_names(&self) -> &'static [&'static str] {
        &["kappa"]
    }
    fn param_shapes(&self, _n: usize, _d: usize) -> Vec<Vec<usize>> {
        vec![vec![]]
    }
    fn force(&self, s: &Nodes, params: &[&[f64]], f: &mut [f64]) -> Result<()> {
        for (f, q) in f.iter_mut().zip(s.q) {
            *f -= params[0][0] * q;
        }
        Ok(())
    }
    fn vjp(&self, _: &(), s: &Nodes, p: &[&[f64]], gf: &[f64], g: &mut NodeGrads) -> Result<()> {
        for ((gq, gf), q) in g.q.iter_mut().zip(gf).zip(s.q) {
            *gq -= p[0][0] * gf;
            g.params[0][0] -= gf * q;
        }
        Ok(())
    }
}

#[test]
fn a_user_element_is_checked_and_differentiated() {
    let t = TensorTape::new();
    let sys = ParticleSystem::new(t.constant(Tensor::ones(&[1])), 0.01);
    let e = sys.clone().try_with_force(Tether, &[]).err().unwrap();
    assert!(
        e.to_string()
            .contains("tether: takes 1 parameter(s) (kappa), got 0"),
        "{e}"
    );
    let r = maya::gradcheck(
        |t, x| {
            let sys = ParticleSystem::new(t.constant(Tensor::ones(&[1])), 0.05)
                .with_force(Tether, &[x[0]]);
            sys.rollout_final(&x[1], &t.constant(Tensor::zeros(&[1, 2])), 20)
                .unwrap()
                .0
        },
        &[
            Tensor::scalar(4.0),
            Tensor::from_data(vec![1.0, -0.5], vec![1, 2]),
        ],
    );
    assert!(r.passed, "{r}");
}

#[test]
fn a_checkpoint_that_replays_differently_is_an_error() {
    let t = TensorTape::new();
    let x = t.var(Tensor::from_data(vec![0.5, 1.0], vec![2]));
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    // Non-deterministic user code: the replay adds another amount.
    let y = t.checkpoint(&[x], move |tape, v| {
        let n = counter.fetch_add(1, Ordering::SeqCst) as f64;
        Ok(vec![v[0].add(&tape.constant(Tensor::full(&[2], n)))])
    })[0];
    let e = t.try_grad(y.sum()).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Replay {
                output: 0,
                index: 0,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("must be deterministic"), "{e}");
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[test]
fn coincident_spring_endpoints_are_named_or_harmless() {
    let t = TensorTape::new();
    let net = SpringNetwork::new(3, vec![(0, 1), (1, 2)]).unwrap();
    let p = t.var(Tensor::from_data(
        vec![0.0, 0.0, 0.0, 0.0, 1.0, 0.0],
        vec![3, 2],
    ));
    let v = t.constant(Tensor::zeros(&[3, 2]));
    // Rest length 0 between coincident particles 0 and 1: no force, no NaN
    // (before: NaN), and the gradient is finite.
    let k = t.var(Tensor::full(&[2], 10.0));
    let zero_rest = t.constant(Tensor::from_data(vec![0.0, 1.0], vec![2]));
    let sys = ParticleSystem::new(t.constant(Tensor::ones(&[3])), 0.01).with_springs(
        net.clone(),
        k,
        zero_rest,
        None,
    );
    let (p1, _) = sys.try_step(&p, &v).unwrap();
    assert!(p1.value().is_finite());
    let g = t.grad(p1.square().sum());
    assert!(g.wrt(&k).is_finite() && g.wrt(&p).is_finite());
    // A non-zero rest length has no direction to push along: an error
    // naming the spring and both particles.
    let rest = t.constant(Tensor::from_data(vec![0.5, 1.0], vec![2]));
    let sys =
        ParticleSystem::new(t.constant(Tensor::ones(&[3])), 0.01).with_springs(net, k, rest, None);
    let e = sys.try_step(&p, &v).unwrap_err();
    assert_eq!(
        e,
        Error::CoincidentParticles {
            spring: 0,
            a: 0,
            b: 1,
            rest: 0.5
        }
    );
    assert!(
        e.to_string().contains("spring 0 joins particles 0 and 1"),
        "{e}"
    );
}
