//! Tables of results and grouped bar charts, for demos that compare
//! settings rather than optimise one trajectory.

/// A table of text cells, printed by `maya demo` and written as CSV.
///
/// ```
/// use maya::demos::Table;
/// let t = Table { stem: "errors".into(), title: "Errors".into(),
///     columns: vec!["model".into(), "error".into()],
///     rows: vec![vec!["penalty".into(), "1e-3".into()]] };
/// assert!(t.render().contains("penalty"));
/// ```
#[derive(Clone, Debug)]
pub struct Table {
    /// File stem for its CSV (e.g. `errors`).
    pub stem: String,
    /// Title, printed above it.
    pub title: String,
    /// Column headers.
    pub columns: Vec<String>,
    /// Rows, each with one cell per column.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// The table as aligned text: the title, the header, a rule and one
    /// line per row.
    pub fn render(&self) -> String {
        let mut widths: Vec<usize> = self.columns.iter().map(|c| c.chars().count()).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let padded: Vec<String> = cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c}{}", " ".repeat(w - c.chars().count())))
                .collect();
            padded.join("  ").trim_end().to_string()
        };
        let mut out = vec![self.title.clone(), line(&self.columns)];
        out.push("-".repeat(widths.iter().sum::<usize>() + 2 * widths.len().saturating_sub(1)));
        out.extend(self.rows.iter().map(|r| line(r)));
        out.join("\n")
    }
}

/// One series of a [`BarChart`]: a value per group.
#[derive(Clone, Debug)]
pub struct BarSeries {
    /// Legend entry.
    pub label: String,
    /// One value per group of the chart.
    pub values: Vec<f64>,
}

/// Bars in groups (one bar per series in each group), for comparing
/// settings across cases.
#[derive(Clone, Debug)]
pub struct BarChart {
    /// File stem for its outputs (e.g. `gradient_error`).
    pub stem: String,
    /// Title.
    pub title: String,
    /// Vertical axis label, with units.
    pub y_label: String,
    /// Whether the vertical axis is logarithmic (values ≤ 0 are not drawn).
    pub log_scale: bool,
    /// The groups' names, along the horizontal axis.
    pub groups: Vec<String>,
    /// The series, each with one value per group.
    pub series: Vec<BarSeries>,
}
