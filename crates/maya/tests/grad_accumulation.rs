//! The tensor tape adds up every path from the loss to a value: a value
//! used several times, feeding several branches, or appearing twice among
//! one kernel's inputs. Inputs are small integers so every expected
//! gradient is exact in f64.

use maya::{Tensor, TensorTape};

fn vector(data: &[f64]) -> Tensor {
    Tensor::from_data(data.to_vec(), vec![data.len()])
}

#[test]
fn x_times_x() {
    // L = Σ x², ∂L/∂x = 2x.
    let t = TensorTape::new();
    let x = t.var(vector(&[1.0, 2.0, -3.0]));
    let g = t.grad((x * x).sum());
    assert_eq!(g[x.idx()].data, vec![2.0, 4.0, -6.0]);
}

#[test]
fn x_plus_x() {
    // L = Σ wᵢ (xᵢ + xᵢ) = 2 Σ wᵢ xᵢ, ∂L/∂x = 2w.
    let t = TensorTape::new();
    let x = t.var(vector(&[1.0, 2.0, -3.0]));
    let w = t.constant(vector(&[1.0, 10.0, 100.0]));
    let g = t.grad((x + x).mul(&w).sum());
    assert_eq!(g[x.idx()].data, vec![2.0, 20.0, 200.0]);
}

#[test]
fn one_value_feeding_two_branches() {
    // y = 3x feeds L = Σ y + Σ y² = Σ (3x + 9x²), so ∂L/∂x = 3 + 18x and
    // ∂L/∂y = 1 + 2y = 1 + 6x.
    let t = TensorTape::new();
    let x = t.var(vector(&[1.0, 2.0]));
    let y = x.scalar_mul(3.0);
    let loss = y.sum() + y.square().sum();
    let g = t.grad(loss);
    assert_eq!(g[x.idx()].data, vec![21.0, 39.0]);
    assert_eq!(g[y.idx()].data, vec![7.0, 13.0]);
}

#[test]
fn a_value_used_by_many_later_nodes() {
    // L = Σ (x + x + … + x) with x appearing 10 times, so ∂L/∂x = 10.
    let t = TensorTape::new();
    let x = t.var(Tensor::ones(&[2, 2]));
    let mut acc = x;
    for _ in 0..9 {
        acc = acc + x;
    }
    assert_eq!(t.grad(acc.sum())[x.idx()].data, vec![10.0; 4]);
}

#[test]
fn a_broadcast_value_used_twice() {
    // b of shape [3] is added to each of 2 rows, then multiplied in again:
    // L = Σᵢⱼ (aᵢⱼ + bⱼ) bⱼ, so ∂L/∂bⱼ = Σᵢ (aᵢⱼ + 2bⱼ) = Σᵢ aᵢⱼ + 4bⱼ.
    let t = TensorTape::new();
    let a = t.var(Tensor::from_data(
        vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        vec![2, 3],
    ));
    let b = t.var(vector(&[1.0, -1.0, 2.0]));
    let g = t.grad((a + b).mul(&b).sum());
    // Column sums of a are 5, 7, 9.
    assert_eq!(g[b.idx()].data, vec![5.0 + 4.0, 7.0 - 4.0, 9.0 + 8.0]);
    // ∂L/∂aᵢⱼ = bⱼ in each row.
    assert_eq!(g[a.idx()].data, vec![1.0, -1.0, 2.0, 1.0, -1.0, 2.0]);
}

#[test]
fn the_same_input_twice_in_matmul() {
    // L = Σᵢⱼ (A A)ᵢⱼ = Σᵢⱼₖ Aᵢₖ Aₖⱼ. From the left factor ∂L/∂Aₚq = Σⱼ Aqⱼ
    // (row sum q); from the right factor Σᵢ Aᵢₚ (column sum p). For
    // A = [[1, 2], [3, 4]]: row sums [3, 7], column sums [4, 6], so
    // ∂L/∂A = [[3 + 4, 7 + 4], [3 + 6, 7 + 6]].
    let t = TensorTape::new();
    let a = t.var(Tensor::from_data(vec![1.0, 2.0, 3.0, 4.0], vec![2, 2]));
    let g = t.grad(a.matmul(&a).sum());
    assert_eq!(g[a.idx()].data, vec![7.0, 11.0, 9.0, 13.0]);
}

#[test]
fn the_same_input_twice_in_concat() {
    // c = [x, x], L = Σ wₖ cₖ, so ∂L/∂xᵢ = wᵢ + w₃₊ᵢ = 1 + 4, 2 + 5, 3 + 6.
    let t = TensorTape::new();
    let x = t.var(vector(&[1.0, 2.0, 3.0]));
    let w = t.constant(vector(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]));
    let g = t.grad(t.concat(&[x, x], 0).mul(&w).sum());
    assert_eq!(g[x.idx()].data, vec![5.0, 7.0, 9.0]);
}

#[test]
fn the_same_input_as_target_and_source_of_index_add() {
    // y = x + scatter(x at [0, 0, 2]): y₀ = x₀ + x₀ + x₁, y₁ = x₁,
    // y₂ = x₂ + x₂. With L = Σ wᵢ yᵢ and w = [1, 10, 100]:
    // ∂L/∂x₀ = w₀ + w₀ = 2, ∂L/∂x₁ = w₁ + w₀ = 11, ∂L/∂x₂ = w₂ + w₂ = 200.
    let t = TensorTape::new();
    let x = t.var(vector(&[1.0, 2.0, 3.0]));
    let w = t.constant(vector(&[1.0, 10.0, 100.0]));
    let g = t.grad(x.index_add(0, &[0, 0, 2], &x).mul(&w).sum());
    assert_eq!(g[x.idx()].data, vec![2.0, 11.0, 200.0]);
}

#[test]
fn the_same_input_three_times_in_stack() {
    // s = [x; x; x] (shape [3, 2]), L = Σ s², so ∂L/∂x = 3 · 2x.
    let t = TensorTape::new();
    let x = t.var(vector(&[1.0, -2.0]));
    let g = t.grad(t.stack(&[x, x, x], 0).square().sum());
    assert_eq!(g[x.idx()].data, vec![6.0, -12.0]);
}

#[test]
fn repeated_grad_calls_do_not_accumulate_across_calls() {
    let t = TensorTape::new();
    let x = t.var(vector(&[1.0, 2.0, -3.0]));
    let loss = (x * x).sum();
    let first = t.grad(loss)[x.idx()].clone();
    let second = t.grad(loss)[x.idx()].clone();
    assert_eq!(first, second);
    // ∂Σx²/∂x = 2x.
    assert_eq!(second.data, vec![2.0, 4.0, -6.0]);
}

#[test]
fn nodes_recorded_after_the_loss_do_not_contribute() {
    // L₁ = Σ x², then more ops use x; ∂L₁/∂x stays 2x.
    let t = TensorTape::new();
    let x = t.var(vector(&[1.0, 2.0]));
    let loss = (x * x).sum();
    let _later = (x * x * x).sum() + loss;
    assert_eq!(t.grad(loss)[x.idx()].data, vec![2.0, 4.0]);
}

#[test]
fn constants_and_unrelated_values_get_zero_gradients() {
    // L = Σ c x: ∂L/∂x = c; c is a constant and u is not used by L.
    let t = TensorTape::new();
    let x = t.var(vector(&[1.0, 2.0]));
    let c = t.constant(vector(&[3.0, 4.0]));
    let u = t.var(vector(&[5.0, 6.0]));
    let _ = u.exp();
    let g = t.grad((c * x).sum());
    assert_eq!(g[x.idx()].data, vec![3.0, 4.0]);
    assert_eq!(g[c.idx()].data, vec![0.0, 0.0]);
    assert_eq!(g[u.idx()].data, vec![0.0, 0.0]);
}

#[test]
fn an_unused_branch_with_an_infinite_partial_does_not_poison_gradients() {
    // √x is recorded at x = 0 (∂/∂x = inf) but L = Σ 2x does not use it, so
    // ∂L/∂x = 2 everywhere.
    let t = TensorTape::new();
    let x = t.var(vector(&[0.0, 1.0]));
    let _unused = x.sqrt();
    let g = t.grad(x.scalar_mul(2.0).sum());
    assert_eq!(g[x.idx()].data, vec![2.0, 2.0]);
}
