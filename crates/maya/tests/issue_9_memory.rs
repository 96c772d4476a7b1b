//! Issue 9, item 8: a long recorded rollout aborted the whole process with
//! "memory allocation of 24 bytes failed". A rollout now estimates its
//! recording before running and, over the tape's memory budget, returns
//! `Error::Memory` stating the estimate and suggesting checkpointing.
//!
//! This file counts the live heap bytes with its own global allocator, so
//! every test holds one lock: the measurements see one test at a time.

use maya::dynamics::{Ground, Integrator, ParticleSystem, SpringNetwork};
use maya::physics::{recording_bytes, rollout, Record};
use maya::{Error, TVar, Tensor, TensorTape};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Mutex;

/// The system allocator, counting live bytes and their peak.
struct Counting;

static LIVE: AtomicI64 = AtomicI64::new(0);
static PEAK: AtomicI64 = AtomicI64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now =
                LIVE.fetch_add(layout.size() as i64, Ordering::Relaxed) + layout.size() as i64;
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        unsafe { System.dealloc(p, layout) };
        LIVE.fetch_sub(layout.size() as i64, Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// One test at a time (the counts are process-wide).
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn lock() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

fn live() -> i64 {
    LIVE.load(Ordering::Relaxed)
}

/// W2's particles (gravity, drag, ground; 3D; semi-implicit Euler).
fn particles<'t>(
    t: &'t TensorTape,
    n: usize,
    mass_grad: bool,
) -> (ParticleSystem<'t>, TVar<'t>, TVar<'t>) {
    let m = Tensor::ones(&[n]);
    let m = if mass_grad { t.var(m) } else { t.constant(m) };
    let sys = ParticleSystem::new(m, 1e-3)
        .with_gravity(t.constant(Tensor::from_data(vec![0.0, 0.0, -9.81], vec![3])))
        .with_drag(t.scalar(0.1))
        .with_ground(Ground::floor(3), t.scalar(1e4));
    let p0 = t.constant(Tensor::from_fn(&[n, 3], |ix| {
        [0.01 * ix[0] as f64, 0.0, 0.5][ix[1]]
    }));
    let v0 = t.var(Tensor::from_fn(&[n, 3], |ix| [0.1, -0.05, 0.0][ix[1]]));
    (sys, p0, v0)
}

/// A falling `side × side` spring sheet (2D) with `integrator`.
fn sheet<'t>(
    t: &'t TensorTape,
    side: usize,
    k: f64,
    dt: f64,
    integrator: Integrator,
) -> (ParticleSystem<'t>, TVar<'t>, TVar<'t>) {
    let net = SpringNetwork::grid(side, side);
    let p0 = SpringNetwork::grid_positions(side, side, 0.1, [0.0, 0.0]);
    let rest = net.lengths(&p0);
    let s = net.len();
    let sys = ParticleSystem::new(t.constant(Tensor::ones(&[side * side])), dt)
        .with_gravity(t.constant(Tensor::from_data(vec![0.0, -9.81], vec![2])))
        .with_springs(net, t.var(Tensor::full(&[s], k)), t.constant(rest), None)
        .with_integrator(integrator);
    let p0 = t.constant(Tensor::from_fn(&[side * side, 2], |ix| {
        p0.data[ix[0] * 2 + ix[1]] + 0.01 * ((ix[0] * 2 + ix[1]) as f64).sin()
    }));
    let v0 = t.constant(Tensor::zeros(&[side * side, 2]));
    (sys, p0, v0)
}

/// (estimate, measured growth of live bytes) of a rollout recorded as
/// `record`, kept alive while measured.
fn measure(
    sys: &ParticleSystem<'_>,
    p0: TVar<'_>,
    v0: TVar<'_>,
    steps: usize,
    record: Record,
) -> (f64, f64) {
    let estimate = recording_bytes(sys, (p0, v0), &(), steps, record).unwrap() as f64;
    let before = live();
    let traj = rollout(sys, (p0, v0), &(), steps, record).unwrap();
    let grown = (live() - before) as f64;
    drop(traj);
    (estimate, grown)
}

#[test]
fn the_estimate_is_within_a_factor_of_two_of_the_bytes_a_recording_holds() {
    let _one = lock();
    let mut report = Vec::new();
    let mut check = |name: &str, (estimate, grown): (f64, f64)| {
        report.push(format!(
            "{name}: estimate {estimate:.0} B, measured {grown:.0} B, ratio {:.2}",
            estimate / grown
        ));
        (estimate, grown)
    };
    let cases: Vec<(String, (f64, f64))> = {
        let mut out = Vec::new();
        for (n, mass_grad) in [(200, false), (200, true), (3000, false)] {
            let t = TensorTape::new();
            let (sys, p0, v0) = particles(&t, n, mass_grad);
            for record in [Record::All, Record::Last] {
                let name = format!("particles n = {n}, mass grad {mass_grad}, {record:?}");
                out.push((
                    name.clone(),
                    check(&name, measure(&sys, p0, v0, 400, record)),
                ));
            }
            if !mass_grad {
                let t = TensorTape::new();
                let (sys, p0, _) = particles(&t, n, false);
                let v0 = t.constant(Tensor::zeros(&[n, 3]));
                let sys = sys
                    .with_drag(t.constant(Tensor::scalar(0.1)))
                    .with_ground(Ground::floor(3), t.constant(Tensor::scalar(1e4)));
                let name = format!("particles n = {n}, no gradient, All");
                out.push((
                    name.clone(),
                    check(&name, measure(&sys, p0, v0, 400, Record::All)),
                ));
            }
        }
        for integrator in [Integrator::SemiImplicitEuler, Integrator::Rk4] {
            let t = TensorTape::new();
            let (sys, p0, v0) = sheet(&t, 8, 300.0, 1e-3, integrator);
            let name = format!("sheet 8×8, {integrator:?}, All");
            out.push((
                name.clone(),
                check(&name, measure(&sys, p0, v0, 300, Record::All)),
            ));
        }
        for side in [8, 16, 32] {
            let t = TensorTape::new();
            let (sys, p0, v0) = sheet(&t, side, 3e4, 0.05, Integrator::BackwardEuler);
            let name = format!("stiff sheet {side}×{side}, BackwardEuler, Last");
            out.push((
                name.clone(),
                check(&name, measure(&sys, p0, v0, 5, Record::Last)),
            ));
        }
        out
    };
    println!("{}", report.join("\n"));
    for (name, (estimate, grown)) in cases {
        let ratio = estimate / grown;
        assert!(
            (0.5..=2.0).contains(&ratio),
            "{name}: estimate {estimate}, measured {grown}"
        );
    }
}

/// 1000 particles with a gradient on v₀, on a tape with a 64 MiB budget.
fn budgeted(t: &TensorTape, n: usize) -> (ParticleSystem<'_>, TVar<'_>, TVar<'_>) {
    t.set_memory_budget(64 << 20);
    particles(t, n, false)
}

#[test]
fn a_recording_over_the_budget_is_refused_at_once_with_the_estimate_and_checkpointing() {
    let _one = lock();
    let t = TensorTape::new();
    let (sys, p0, v0) = budgeted(&t, 1000);
    // 10⁷ recorded steps of 2 × 24 kB: about 450 GiB. Before, this
    // allocated until the process aborted.
    let before = live();
    let e = sys.rollout(&p0, &v0, 10_000_000).unwrap_err();
    assert!(
        live() - before < 1 << 20,
        "the refusal allocated {} B",
        live() - before
    );
    let msg = e.to_string();
    assert!(format!("{e:?}").starts_with("Memory"), "{e:?}");
    for part in [
        "recording 10000000 steps of this rollout (Record::All) needs about 451.7 GiB, over the memory budget of 64.0 MiB",
        "use Record::Checkpointed { segment: Some(3163) } (about ",
        "also over the budget)",
        "TensorTape::set_memory_budget",
    ] {
        assert!(msg.contains(part), "missing `{part}` in: {msg}");
    }
    if let Error::Memory {
        estimate,
        budget,
        steps,
        segment,
        segment_estimate,
        ..
    } = e
    {
        assert_eq!((budget, steps, segment), (64 << 20, 10_000_000, Some(3163)));
        // ≈ 10⁷ × 48 kB; with checkpoints, 3163 segments' states (48 kB
        // each) and, while one segment is differentiated, its ⌈3163/32⌉
        // blocks of steps (one node and 48 kB of states each).
        assert!((estimate as f64 / 4.8e11 - 1.0).abs() < 0.05, "{estimate}");
        let checkpointed = (3163.0 + 99.0) * 4.8e4;
        assert!(
            (segment_estimate as f64 / checkpointed - 1.0).abs() < 0.05,
            "{segment_estimate}"
        );
    }
    // Record::Last with a gradient records a node per block of 32 steps:
    // ≈ 10⁷ / 32 × 48 kB, still over this budget.
    let e = sys.rollout_final(&p0, &v0, 10_000_000).unwrap_err();
    assert!(e.to_string().contains("(Record::Last) needs about"), "{e}");
    if let Error::Memory { estimate, .. } = e {
        assert!((estimate as f64 / 1.5e10 - 1.0).abs() < 0.05, "{estimate}");
    }
}

#[test]
fn the_checkpointed_rollout_fits_the_budget_and_runs() {
    let _one = lock();
    let t = TensorTape::new();
    let (sys, p0, v0) = budgeted(&t, 500);
    // 10⁴ steps of 2 × 12 kB, every state kept: about 230 MiB recorded;
    // checkpointed, 100 segments' states (24 kB each) and, while one is
    // differentiated, its 100 steps in 4 blocks: about 2.5 MB.
    let steps = 10_000;
    let e = sys.rollout(&p0, &v0, steps).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("over the memory budget of 64.0 MiB")
            && msg.contains("use Record::Checkpointed { segment: Some(100) } (about 2.4 MiB)"),
        "{msg}"
    );
    // Only the last state kept: a node per block of 32 steps, about 7.5 MB
    // (313 blocks × 24 kB), under the budget.
    let last = recording_bytes(&sys, (p0, v0), &(), steps, Record::Last).unwrap();
    assert!((last as f64 / 7.5e6 - 1.0).abs() < 0.05, "{last}");
    let before = live();
    let (p, _) = sys.rollout_checkpointed(&p0, &v0, steps, None).unwrap();
    let kept = live() - before;
    let g = t.grad_wrt(p.square().sum(), &[v0]);
    assert!(g[0].is_finite());
    let estimate = recording_bytes(
        &sys,
        (p0, v0),
        &(),
        steps,
        Record::Checkpointed { segment: None },
    )
    .unwrap();
    // The forward pass keeps the segments' states (the estimate adds one
    // segment's recording for the backward sweep).
    assert!((kept as f64) < estimate as f64, "{kept} vs {estimate}");
    // Without a gradient, Record::Last records nothing and runs.
    let sys = sys
        .with_drag(t.constant(Tensor::scalar(0.1)))
        .with_ground(Ground::floor(3), t.constant(Tensor::scalar(1e4)));
    let v0 = t.constant(v0.value());
    assert_eq!(
        recording_bytes(&sys, (p0, v0), &(), steps, Record::Last).unwrap(),
        0
    );
    assert!(sys.rollout_final(&p0, &v0, steps).is_ok());
}
