//! Tests of the mesh through its public interface: structured rectangles,
//! polygon meshing, the topology tables, mesh files, and every error of the
//! mesh checks. (Unit tests rather than an integration test: each test
//! binary costs a link of the whole crate in CI.)

use crate::fem::{polygon, rectangle, Diagonal, TriMesh};
use crate::Error;

/// Twice the signed area of (a, b, c), from the positions alone.
fn cross(a: [f64; 2], b: [f64; 2], c: [f64; 2]) -> f64 {
    (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
}

fn mesh_reason(e: Error) -> String {
    match e {
        Error::Mesh { reason } => reason,
        other => panic!("expected Error::Mesh, got {other:?}"),
    }
}

const PATTERNS: [Diagonal; 4] = [
    Diagonal::Right,
    Diagonal::Left,
    Diagonal::Alternating,
    Diagonal::Cross,
];

#[test]
fn rectangle_numbering_matches_the_documented_layout() {
    // nx = 3, ny = 2: vertex (i, j) is 3i + j; origin (1, -2), 3 × 1.
    let (nx, ny) = (3, 2);
    let right = rectangle([1.0, -2.0], 3.0, 1.0, nx, ny, Diagonal::Right).unwrap();
    assert_eq!((right.n_vertices(), right.n_triangles()), (12, 12));
    assert_eq!(right.vertices()[7], [3.0, -1.5]); // (i, j) = (2, 1)
    assert_eq!(right.vertices()[11], [4.0, -1.0]); // (3, 2)
                                                   // Cell (1, 1): a = 4, b = 7, c = 8, d = 5 owns triangles 6 and 7.
    assert_eq!(right.triangles()[6], [4, 7, 8]);
    assert_eq!(right.triangles()[7], [4, 8, 5]);
    // Cell (2, 0): a = 6, b = 9, c = 10, d = 7 owns triangles 8 and 9.
    assert_eq!(right.triangles()[8], [6, 9, 10]);
    assert_eq!(right.triangles()[9], [6, 10, 7]);

    let left = rectangle([1.0, -2.0], 3.0, 1.0, nx, ny, Diagonal::Left).unwrap();
    assert_eq!(left.triangles()[6], [4, 7, 5]);
    assert_eq!(left.triangles()[7], [7, 8, 5]);
    assert_eq!(left.vertices(), right.vertices());

    let alt = rectangle([1.0, -2.0], 3.0, 1.0, nx, ny, Diagonal::Alternating).unwrap();
    assert_eq!(alt.triangles()[0..2], [[0, 3, 4], [0, 4, 1]]); // (0, 0): even
    assert_eq!(alt.triangles()[4..6], [[3, 6, 4], [6, 7, 4]]); // (1, 0): odd
    assert_eq!(alt.triangles()[6..8], [[4, 7, 8], [4, 8, 5]]); // (1, 1): even

    let cross = rectangle([1.0, -2.0], 3.0, 1.0, nx, ny, Diagonal::Cross).unwrap();
    assert_eq!((cross.n_vertices(), cross.n_triangles()), (12 + 6, 24));
    // Cell (1, 1): triangles 12..16 around centre 12 + 1·2 + 1 = 15.
    assert_eq!(
        cross.triangles()[12..16],
        [[4, 7, 15], [7, 8, 15], [8, 5, 15], [5, 4, 15]]
    );
    assert_eq!(cross.vertices()[15], [2.5, -1.25]);
}

#[test]
fn the_benchmark_right_diagonal_numbering_holds_on_a_larger_grid() {
    let (nx, ny) = (8, 2);
    let mesh = rectangle([0.0, 0.0], 4.0, 1.0, nx, ny, Diagonal::Right).unwrap();
    for i in 0..nx {
        for j in 0..ny {
            let v = |i: usize, j: usize| i * (ny + 1) + j;
            let e = 2 * (i * ny + j);
            let (a, b, c, d) = (v(i, j), v(i + 1, j), v(i + 1, j + 1), v(i, j + 1));
            assert_eq!(mesh.triangles()[e], [a, b, c]);
            assert_eq!(mesh.triangles()[e + 1], [a, c, d]);
        }
    }
    for i in 0..=nx {
        for j in 0..=ny {
            let x = [4.0 * i as f64 / nx as f64, j as f64 / ny as f64];
            assert_eq!(mesh.vertices()[i * (ny + 1) + j], x);
        }
    }
}

#[test]
fn rectangles_are_counter_clockwise_and_cover_their_area() {
    for diagonal in PATTERNS {
        let mesh = rectangle([-0.3, 0.7], 2.5, 0.4, 5, 3, diagonal).unwrap();
        let p = mesh.vertices();
        let mut total = 0.0;
        for &[a, b, c] in mesh.triangles() {
            let twice = cross(p[a], p[b], p[c]);
            assert!(
                twice > 0.0,
                "{diagonal:?}: ({a}, {b}, {c}) is not counter-clockwise"
            );
            total += twice / 2.0;
        }
        assert!((total - 1.0).abs() < 1e-12, "{diagonal:?}: area {total}");
        assert!((mesh.total_area() - 1.0).abs() < 1e-12);
    }
}

/// Each interior edge of a structured rectangle is one pair of adjacent
/// triangles: as many pairs as (3T − boundary edges)/2, each pair sharing
/// exactly two vertices, no pair listed twice.
#[test]
fn adjacent_triangles_are_the_interior_edges() {
    for diagonal in PATTERNS {
        let (nx, ny) = (5, 3);
        let mesh = rectangle([0.0, 0.0], 2.0, 1.0, nx, ny, diagonal).unwrap();
        let pairs = mesh.adjacent_triangles();
        assert_eq!(
            pairs.len(),
            (3 * mesh.n_triangles() - 2 * (nx + ny)) / 2,
            "{diagonal:?}"
        );
        let tris = mesh.triangles();
        for w in pairs.windows(2) {
            assert!(w[0] < w[1], "{diagonal:?}: sorted and distinct");
        }
        for [a, b] in pairs {
            assert!(a < b);
            let shared = tris[a].iter().filter(|v| tris[b].contains(v)).count();
            assert_eq!(shared, 2, "{diagonal:?}: triangles {a} and {b}");
        }
    }
}

#[test]
fn boundary_edges_circle_the_rectangle_with_the_inside_on_the_left() {
    let (x0, y0, w, h, nx, ny) = (0.5, -1.0, 2.0, 3.0, 4, 3);
    let on_border = |p: [f64; 2]| {
        let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
        close(p[0], x0) || close(p[0], x0 + w) || close(p[1], y0) || close(p[1], y0 + h)
    };
    let inside = |p: [f64; 2]| p[0] > x0 && p[0] < x0 + w && p[1] > y0 && p[1] < y0 + h;
    for diagonal in PATTERNS {
        let mesh = rectangle([x0, y0], w, h, nx, ny, diagonal).unwrap();
        let edges = mesh.boundary_edges();
        assert_eq!(edges.len(), 2 * (nx + ny), "{diagonal:?}");
        let p = mesh.vertices();
        let (mut outs, mut ins) = (vec![0; p.len()], vec![0; p.len()]);
        for &[a, b] in &edges {
            assert!(
                on_border(p[a]) && on_border(p[b]),
                "{diagonal:?}: [{a}, {b}]"
            );
            // A point just left of the edge's midpoint is inside, just right
            // is outside.
            let mid = [(p[a][0] + p[b][0]) / 2.0, (p[a][1] + p[b][1]) / 2.0];
            let left = [-(p[b][1] - p[a][1]) * 1e-3, (p[b][0] - p[a][0]) * 1e-3];
            assert!(inside([mid[0] + left[0], mid[1] + left[1]]));
            assert!(!inside([mid[0] - left[0], mid[1] - left[1]]));
            outs[a] += 1;
            ins[b] += 1;
        }
        let border: Vec<usize> = (0..p.len()).filter(|&v| on_border(p[v])).collect();
        assert_eq!(mesh.boundary_vertices(), border, "{diagonal:?}");
        for v in border {
            assert_eq!((outs[v], ins[v]), (1, 1), "{diagonal:?}: vertex {v}");
        }
    }
}

#[test]
fn incidence_lists_each_corner_once_sorted_by_triangle() {
    for diagonal in PATTERNS {
        let mesh = rectangle([0.0, 0.0], 1.0, 1.0, 4, 3, diagonal).unwrap();
        let inc = mesh.incidence();
        assert_eq!(inc.n_vertices(), mesh.n_vertices());
        assert_eq!(inc.offsets[0], 0);
        assert_eq!(inc.entries.len(), 3 * mesh.n_triangles());
        let mut seen = vec![[false; 3]; mesh.n_triangles()];
        for v in 0..mesh.n_vertices() {
            let list = inc.of(v);
            assert!(!list.is_empty());
            assert!(
                list.windows(2).all(|w| w[0].0 < w[1].0),
                "{diagonal:?}: {v}"
            );
            for &(t, k) in list {
                assert_eq!(mesh.triangles()[t][k as usize], v);
                assert!(!seen[t][k as usize]);
                seen[t][k as usize] = true;
            }
        }
        assert!(seen.iter().flatten().all(|&s| s));
    }
    // Right diagonals: an interior vertex touches 6 triangles, the corner
    // (0, 0) two, the corner (nx, 0) one.
    let mesh = rectangle([0.0, 0.0], 1.0, 1.0, 4, 3, Diagonal::Right).unwrap();
    let inc = mesh.incidence();
    assert_eq!(inc.of(4 + 1).len(), 6);
    assert_eq!(inc.of(0).len(), 2);
    assert_eq!(inc.of(4 * 4).len(), 1);
}

#[test]
fn measures_match_closed_forms() {
    let mesh = rectangle([0.0, 0.0], 2.0, 1.0, 4, 4, Diagonal::Right).unwrap();
    let (hx, hy) = (0.5f64, 0.25f64);
    assert_eq!(mesh.min_edge_length(), hy);
    let altitude = hx * hy / hx.hypot(hy);
    assert!((mesh.min_altitude() - altitude).abs() < 1e-15);
    for area in mesh.signed_areas() {
        assert!((area - hx * hy / 2.0).abs() < 1e-15);
    }
    let q = 4.0 * 3f64.sqrt() * (hx * hy / 2.0) / (2.0 * (hx * hx + hy * hy));
    assert!((mesh.min_quality() - q).abs() < 1e-14);
    let tensor = mesh.rest_tensor();
    assert_eq!(tensor.shape, vec![25, 2]);
    assert_eq!(&tensor.data[2 * 7..2 * 7 + 2], &[0.5, 0.5]); // (i, j) = (1, 2)
    assert_eq!(
        mesh.vertices_where(|[x, _]| x > 1.9),
        (20..25).collect::<Vec<_>>()
    );
}

/// Whether p is inside the closed polygon, or within 1e-12 of its outline.
fn inside_or_on(outline: &[[f64; 2]], p: [f64; 2]) -> bool {
    let n = outline.len();
    let mut inside = false;
    for k in 0..n {
        let (a, b) = (outline[k], outline[(k + 1) % n]);
        let len = (b[0] - a[0]).hypot(b[1] - a[1]);
        let t = ((p[0] - a[0]) * (b[0] - a[0]) + (p[1] - a[1]) * (b[1] - a[1])) / (len * len);
        let distance = cross(a, b, p).abs() / len;
        if (0.0..=1.0).contains(&t) && distance < 1e-12 {
            return true;
        }
        if (a[1] > p[1]) != (b[1] > p[1])
            && p[0] < a[0] + (p[1] - a[1]) * (b[0] - a[0]) / (b[1] - a[1])
        {
            inside = !inside;
        }
    }
    inside
}

/// Checks a polygon mesh against its outline, area (given) and max_edge.
fn check_polygon_mesh(outline: &[[f64; 2]], area: f64, max_edge: f64) -> TriMesh {
    let mesh = polygon(outline, max_edge).unwrap();
    let p = mesh.vertices();
    let mut total = 0.0;
    for &[a, b, c] in mesh.triangles() {
        let twice = cross(p[a], p[b], p[c]);
        assert!(twice > 0.0);
        total += twice / 2.0;
        for (u, v) in [(a, b), (b, c), (c, a)] {
            let len = (p[v][0] - p[u][0]).hypot(p[v][1] - p[u][1]);
            assert!(len <= max_edge * (1.0 + 1e-12), "edge {len} > {max_edge}");
        }
    }
    assert!((total - area).abs() <= 1e-12 * area, "{total} vs {area}");
    for (v, &q) in p.iter().enumerate() {
        assert!(inside_or_on(outline, q), "vertex {v} at {q:?} is outside");
    }
    // Every outline vertex is a mesh vertex, and the boundary runs along the
    // outline.
    for q in outline {
        assert!(p.contains(q), "outline vertex {q:?} missing");
    }
    let perimeter: f64 = (0..outline.len())
        .map(|k| {
            let (a, b) = (outline[k], outline[(k + 1) % outline.len()]);
            (b[0] - a[0]).hypot(b[1] - a[1])
        })
        .sum();
    let boundary: f64 = mesh
        .boundary_edges()
        .iter()
        .map(|&[a, b]| (p[b][0] - p[a][0]).hypot(p[b][1] - p[a][1]))
        .sum();
    assert!((boundary - perimeter).abs() < 1e-12 * perimeter);
    assert!(mesh.min_quality() > 0.55, "quality {}", mesh.min_quality());
    mesh
}

#[test]
fn an_l_shape_is_meshed_within_its_outline() {
    let l_shape = [
        [0.0, 0.0],
        [2.0, 0.0],
        [2.0, 1.0],
        [1.0, 1.0],
        [1.0, 2.0],
        [0.0, 2.0],
    ];
    for max_edge in [0.5, 0.13] {
        let mesh = check_polygon_mesh(&l_shape, 3.0, max_edge);
        // About 6·area/max_edge² triangles.
        let expected = 6.0 * 3.0 / (max_edge * max_edge);
        let ratio = mesh.n_triangles() as f64 / expected;
        assert!(
            (0.5..2.0).contains(&ratio),
            "{} triangles",
            mesh.n_triangles()
        );
        // The reentrant corner (1, 1) is a vertex, and nothing lies in the
        // cut-out square.
        assert!(mesh.vertices().iter().all(|q| !(q[0] > 1.0 && q[1] > 1.0)));
    }
}

#[test]
fn a_convex_polygon_given_clockwise_is_meshed_counter_clockwise() {
    // A regular hexagon of circumradius 1.3, clockwise, ring closed.
    let r = 1.3;
    let mut hexagon: Vec<[f64; 2]> = (0..6)
        .map(|k| {
            let a = -(k as f64) * std::f64::consts::PI / 3.0 + 0.1;
            [r * a.cos() + 5.0, r * a.sin() - 2.0]
        })
        .collect();
    hexagon.push(hexagon[0]);
    let area = 1.5 * 3f64.sqrt() * r * r;
    let mesh = check_polygon_mesh(&hexagon[..6], area, 0.21);
    // The mesh starts with the outline's first vertex, then goes
    // counter-clockwise: towards the outline's last vertex.
    assert_eq!(mesh.vertices()[0], hexagon[0]);
    let (a, b) = (mesh.vertices()[0], mesh.vertices()[1]);
    let towards_last = [hexagon[5][0] - a[0], hexagon[5][1] - a[1]];
    let step = [b[0] - a[0], b[1] - a[1]];
    assert!(cross([0.0, 0.0], towards_last, step).abs() < 1e-12);
    assert_eq!(polygon(&hexagon, 0.21).unwrap(), mesh);
}

#[test]
fn a_narrow_slit_stays_open() {
    // A unit square with a slit 1e-10 wide from the top down to y = 0.1:
    // the mesh grades down to the slit and puts nothing inside it.
    let w = 1e-10;
    let slit = [
        [0.0, 0.0],
        [1.0, 0.0],
        [1.0, 1.0],
        [0.5, 1.0],
        [0.5, 0.1],
        [0.5 - w, 0.1],
        [0.5 - w, 1.0],
        [0.0, 1.0],
    ];
    let mesh = check_polygon_mesh(&slit, 1.0 - 0.9 * w, 0.3);
    assert!(mesh.min_edge_length() <= w * (1.0 + 1e-6));
}

#[test]
fn meshes_round_trip_through_files_exactly() {
    let outline = [
        [0.1, 0.2],
        [1.0 / 3.0, -0.7],
        [2.0f64.sqrt(), 0.3],
        [0.5, 1e-3],
    ];
    let meshes = [
        polygon(&outline, 0.2).unwrap(),
        rectangle([1e-7, -3.3], 0.7, 1.1, 3, 2, Diagonal::Cross).unwrap(),
    ];
    for mesh in meshes {
        assert_eq!(TriMesh::from_json(&mesh.to_json()).unwrap(), mesh);
        let path = std::env::temp_dir().join(format!(
            "maya_fem_mesh_round_trip_{}_{}.json",
            std::process::id(),
            mesh.n_vertices()
        ));
        mesh.save(&path).unwrap();
        let back = TriMesh::load(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(back, mesh);
    }
}

#[test]
fn each_bad_mesh_is_refused_with_its_index() {
    let square = || vec![[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]];
    let reason = mesh_reason(TriMesh::new(square(), vec![[0, 1, 2], [0, 2, 4]]).unwrap_err());
    assert!(
        reason.contains("triangle 1") && reason.contains("= 4"),
        "{reason}"
    );

    let reason =
        mesh_reason(TriMesh::new(square(), vec![[0, 1, 2], [0, 2, 2], [0, 2, 3]]).unwrap_err());
    assert!(
        reason.contains("triangle 1") && reason.contains("repeats"),
        "{reason}"
    );

    // Clockwise: (0, 3, 2).
    match TriMesh::new(square(), vec![[0, 1, 2], [0, 3, 2]]).unwrap_err() {
        Error::DegenerateElement {
            element,
            area,
            corners,
            ..
        } => {
            assert_eq!((element, corners), (1, [0, 3, 2]));
            assert_eq!(area, -0.5);
        }
        other => panic!("{other:?}"),
    }

    // Zero area: three collinear corners.
    let line = vec![[0.0, 0.0], [1.0, 1.0], [3.0, 3.0], [0.0, 1.0]];
    match TriMesh::new(line, vec![[0, 1, 3], [0, 2, 1]]).unwrap_err() {
        Error::DegenerateElement {
            element: 1,
            area: 0.0,
            min_area,
            ..
        } => {
            assert!((min_area - 1e-12 * 18.0).abs() < 1e-24);
        }
        other => panic!("{other:?}"),
    }

    let mut bad = square();
    bad[2][1] = f64::NAN;
    let reason = mesh_reason(TriMesh::new(bad, vec![[0, 1, 2], [0, 2, 3]]).unwrap_err());
    assert!(reason.contains("vertex 2"), "{reason}");

    let mut extra = square();
    extra.push([5.0, 5.0]);
    let reason = mesh_reason(TriMesh::new(extra, vec![[0, 1, 2], [0, 2, 3]]).unwrap_err());
    assert!(
        reason.contains("[4]") && reason.contains("no triangle"),
        "{reason}"
    );

    let reason = mesh_reason(TriMesh::new(square(), vec![]).unwrap_err());
    assert!(reason.contains("no triangles"), "{reason}");

    // Two triangles on the same side of edge 0 → 2 overlap.
    let reason =
        mesh_reason(TriMesh::new(square(), vec![[0, 1, 2], [0, 2, 3], [3, 0, 2]]).unwrap_err());
    assert!(
        reason.contains("triangles 1") && reason.contains("and 2"),
        "{reason}"
    );
}

#[test]
fn the_degenerate_threshold_is_relative_to_the_longest_edge() {
    // Longest edge 1 (from (0, 0) to (1, 0)): the threshold is 1e-12.
    let sliver =
        |height: f64| TriMesh::new(vec![[0.0, 0.0], [1.0, 0.0], [0.5, height]], vec![[0, 1, 2]]);
    assert!(sliver(3e-12).is_ok());
    assert!(matches!(
        sliver(1e-12).unwrap_err(),
        Error::DegenerateElement { .. }
    ));
    // Scaled by 1e-9, the same shape is still fine.
    let tiny = [[0.0, 0.0], [1e-9, 0.0], [0.5e-9, 3e-21]];
    assert!(TriMesh::new(tiny.to_vec(), vec![[0, 1, 2]]).is_ok());
}

#[test]
fn malformed_files_are_refused_with_line_and_column() {
    let text = "{\n  \"vertices\": [[0, 0], [1, 0], [0, 1]],\n  \"triangles\": [[0, 1, 2],]\n}";
    let reason = mesh_reason(TriMesh::from_json(text).unwrap_err());
    assert!(reason.contains("line 3, column"), "{reason}");

    let text = "{\"vertices\": [[0, 0], [1, 0], [0, 1]], \"triangle\": [[0, 1, 2]]}";
    let reason = mesh_reason(TriMesh::from_json(text).unwrap_err());
    assert!(
        reason.contains("line 1") && reason.contains("triangle"),
        "{reason}"
    );

    // A well-formed file with a clockwise triangle fails the mesh checks.
    let text = r#"{"vertices": [[0, 0], [1, 0], [0, 1]], "triangles": [[0, 2, 1]]}"#;
    assert!(matches!(
        TriMesh::from_json(text).unwrap_err(),
        Error::DegenerateElement { element: 0, .. }
    ));

    let missing = std::env::temp_dir().join("maya_fem_mesh_no_such_file.json");
    let reason = mesh_reason(TriMesh::load(&missing).unwrap_err());
    assert!(reason.contains("maya_fem_mesh_no_such_file"), "{reason}");
}

#[test]
fn bad_outlines_and_sizes_are_refused() {
    // A bow tie: edge 0 ((0,0) → (1,1)) crosses edge 2 ((1,0) → (0,1)).
    let bow = [[0.0, 0.0], [1.0, 1.0], [1.0, 0.0], [0.0, 1.0]];
    let reason = mesh_reason(polygon(&bow, 0.1).unwrap_err());
    assert!(
        reason.contains("edge 0 ") && reason.contains("edge 2 "),
        "{reason}"
    );
    // Vertex 3 touches edge 0.
    let touch = [[0.0, 0.0], [2.0, 0.0], [2.0, 1.0], [1.0, 0.0], [0.0, 1.0]];
    assert!(mesh_reason(polygon(&touch, 0.1).unwrap_err()).contains("intersects itself"));
    let reason = mesh_reason(polygon(&[[0.0, 0.0], [1.0, 0.0]], 0.1).unwrap_err());
    assert!(reason.contains("at least 3"), "{reason}");
    let repeated = [[0.0, 0.0], [1.0, 0.0], [1.0, 0.0], [0.0, 1.0]];
    let reason = mesh_reason(polygon(&repeated, 0.1).unwrap_err());
    assert!(
        reason.contains("edge 1 ") && reason.contains("zero length"),
        "{reason}"
    );
    let square = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]];
    for h in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(matches!(
            polygon(&square, h),
            Err(Error::Parameter {
                name: "max_edge",
                ..
            })
        ));
    }
    assert!(mesh_reason(polygon(&square, 1e-5).unwrap_err()).contains("too small"));
    assert!(matches!(
        rectangle([0.0, 0.0], 1.0, 1.0, 0, 2, Diagonal::Right),
        Err(Error::Parameter { name: "nx", .. })
    ));
    assert!(matches!(
        rectangle([0.0, 0.0], -1.0, 1.0, 2, 2, Diagonal::Right),
        Err(Error::Parameter { name: "width", .. })
    ));
    assert!(matches!(
        rectangle([f64::NAN, 0.0], 1.0, 1.0, 2, 2, Diagonal::Right),
        Err(Error::Parameter {
            name: "origin x",
            ..
        })
    ));
}
