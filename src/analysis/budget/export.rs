//! Exports of a solved scenario: CSV (one row per candidate) and XLSX for the official's
//! spreadsheet (sheets `usulan` = proposals, `kecamatan` = equity view, `ringkasan` = summary).

use rust_xlsxwriter::{Format, Workbook, XlsxError};

use super::plan::{Evaluation, Ranked};

/// Column headers of the proposal rows, in both exports.
const HEADERS: [&str; 19] = [
    "rank",
    "id",
    "tracking_code",
    "title",
    "category",
    "status",
    "kelurahan_code",
    "kecamatan_code",
    "estimated_cost_idr",
    "score",
    "gap",
    "support",
    "cost_effectiveness",
    "category_weight",
    "beneficiaries",
    "funded",
    "reason",
    "blocked_by",
    "shortfall_idr",
];

/// One proposal row as cells: text, or a number.
enum Cell {
    Text(String),
    Num(f64),
    Empty,
}

fn reason_id(r: &super::Reason) -> String {
    serde_json::to_value(r)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn row(rank: usize, r: &Ranked) -> Vec<Cell> {
    use Cell::*;
    let opt = |v: Option<f64>| v.map_or(Empty, Num);
    vec![
        Num(rank as f64),
        Num(r.id as f64),
        Text(r.tracking_code.clone()),
        Text(r.title.clone()),
        Text(r.category.clone()),
        Text(r.status.clone()),
        Text(r.kelurahan_code.clone()),
        Text(r.kecamatan_code.clone()),
        opt(r.estimated_cost_idr.map(|c| c as f64)),
        Num(r.score.score),
        Num(r.score.gap),
        Num(r.score.support),
        opt(r.score.cost_effectiveness),
        Num(r.score.category_weight),
        opt(r.score.beneficiaries),
        Text(match r.funded {
            Some(true) => "ya".into(),
            Some(false) => "tidak".into(),
            None => String::new(),
        }),
        Text(r.reason.as_ref().map(reason_id).unwrap_or_default()),
        Text(
            r.blocked_by
                .iter()
                .map(reason_id)
                .collect::<Vec<_>>()
                .join(" "),
        ),
        opt(r.shortfall_idr.map(|s| s as f64)),
    ]
}

/// A CSV field: quoted when needed; text a spreadsheet would read as a formula gets a leading
/// apostrophe, so a proposal title cannot run in the official's spreadsheet.
fn csv_field(cell: &Cell) -> String {
    match cell {
        Cell::Empty => String::new(),
        Cell::Num(n) => n.to_string(),
        Cell::Text(t) => {
            let t = if t.starts_with(['=', '+', '-', '@', '\t', '\r']) {
                format!("'{t}")
            } else {
                t.clone()
            };
            if t.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", t.replace('"', "\"\""))
            } else {
                t
            }
        }
    }
}

/// The proposals of an evaluation as CSV (UTF-8, comma-separated, header row).
pub fn to_csv(e: &Evaluation) -> String {
    let mut out = HEADERS.join(",");
    out.push('\n');
    for (i, r) in e.proposals.iter().enumerate() {
        let cells: Vec<String> = row(i + 1, r).iter().map(csv_field).collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

/// The evaluation as an XLSX workbook.
pub fn to_xlsx(e: &Evaluation, scenario_name: &str) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();

    let ws = wb.add_worksheet();
    ws.set_name("usulan")?;
    for (c, h) in HEADERS.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    for (i, r) in e.proposals.iter().enumerate() {
        let line = (i + 1) as u32;
        for (c, cell) in row(i + 1, r).iter().enumerate() {
            match cell {
                Cell::Text(t) => {
                    ws.write_string(line, c as u16, t)?;
                }
                Cell::Num(n) => {
                    ws.write_number(line, c as u16, *n)?;
                }
                Cell::Empty => {}
            }
        }
    }

    let ws = wb.add_worksheet();
    ws.set_name("kecamatan")?;
    let heads = [
        "kecamatan_code",
        "spent_idr",
        "spent_share",
        "need_share",
        "need_proportional_idr",
        "difference",
    ];
    for (c, h) in heads.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    for (i, r) in e.equity.rows.iter().enumerate() {
        let line = (i + 1) as u32;
        ws.write_string(line, 0, &r.code)?;
        ws.write_number(line, 1, r.spent_idr as f64)?;
        ws.write_number(line, 2, r.spent_share)?;
        ws.write_number(line, 3, r.need_share)?;
        ws.write_number(line, 4, r.need_proportional_idr as f64)?;
        ws.write_number(line, 5, r.difference)?;
    }

    let ws = wb.add_worksheet();
    ws.set_name("ringkasan")?;
    let a = &e.allocation;
    let method = serde_json::to_value(a.method)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let text_rows = [("scenario", scenario_name.to_owned()), ("method", method)];
    for (i, (k, v)) in text_rows.iter().enumerate() {
        ws.write_string_with_format(i as u32, 0, *k, &bold)?;
        ws.write_string(i as u32, 1, v)?;
    }
    let num_rows = [
        ("budget_idr", a.budget_idr as f64),
        ("spent_idr", a.spent_idr as f64),
        ("objective", a.objective),
        ("funded", a.funded.len() as f64),
        ("unfunded", a.unfunded.len() as f64),
        ("equity_distance", e.equity.distance),
    ];
    for (i, (k, v)) in num_rows.iter().enumerate() {
        let line = (i + text_rows.len()) as u32;
        ws.write_string_with_format(line, 0, *k, &bold)?;
        ws.write_number(line, 1, *v)?;
    }
    wb.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_never_formulas() {
        assert_eq!(csv_field(&Cell::Text("Jalan rusak".into())), "Jalan rusak");
        assert_eq!(
            csv_field(&Cell::Text("Jalan, \"gang\" 3".into())),
            "\"Jalan, \"\"gang\"\" 3\""
        );
        assert_eq!(
            csv_field(&Cell::Text("=HYPERLINK(\"x\")".into())),
            "\"'=HYPERLINK(\"\"x\"\")\""
        );
        assert_eq!(csv_field(&Cell::Text("-1".into())), "'-1");
        assert_eq!(csv_field(&Cell::Num(2.5)), "2.5");
        assert_eq!(csv_field(&Cell::Empty), "");
    }
}
