//! The printable profile page: one self-contained HTML document (inline CSS and SVG, no scripts,
//! no fonts or images to fetch) so the browser's print and the server's PDF renderer see the same
//! thing. Charts are drawn for black and white: outlines, hatching and printed values, never
//! colour alone. Every value from the database is escaped.

use std::fmt::Write;

use serde_json::Value;

use super::ogc_html::esc;
use super::profile::Profile;
use crate::domain::ProposalStatus;
use crate::store::profile::Level;

const STYLE: &str = r#"
@page { size: A4; margin: 14mm 14mm 16mm 14mm; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; font-size: 10pt;
       color: #000; margin: 0 auto; max-width: 182mm; line-height: 1.35; }
h1 { font-size: 17pt; margin: 0 0 2mm; }
h2 { font-size: 12pt; margin: 6mm 0 2mm; border-bottom: 0.4mm solid #000; padding-bottom: 1mm; }
.meta { margin: 0 0 3mm; }
section { break-inside: avoid; page-break-inside: avoid; }
table { border-collapse: collapse; width: 100%; font-size: 9pt; }
th, td { border: 0.2mm solid #555; padding: 1mm 1.5mm; text-align: left; vertical-align: top; }
th { background: #eee; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
.grid { display: flex; gap: 5mm; align-items: flex-start; }
.grid > * { flex: 1; }
.legend { font-size: 8.5pt; }
.legend span { display: inline-block; margin-right: 4mm; }
.empty { font-style: italic; }
.note { font-size: 8.5pt; }
.bar { display: inline-block; height: 2.5mm; border: 0.2mm solid #000;
       background: repeating-linear-gradient(45deg, #000 0 0.4mm, #fff 0.4mm 1.2mm); }
footer { margin-top: 6mm; font-size: 8pt; border-top: 0.2mm solid #555; padding-top: 1mm; }
@media screen { body { padding: 8mm; } .printhint { display: block; } }
@media print { .printhint { display: none; } a { color: #000; text-decoration: none; } }
"#;

/// Whole numbers the Indonesian way: 12.345.
pub fn int_id(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push('.');
        }
        out.push(ch);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// A fraction as a percentage with one decimal and a decimal comma: 0.1234 → "12,3%".
pub fn pct_id(f: f64) -> String {
    format!("{:.1}%", f * 100.0).replace('.', ",")
}

fn num_id(f: f64, decimals: usize) -> String {
    format!("{f:.decimals$}").replace('.', ",")
}

fn text(v: &Value) -> String {
    esc(v.as_str().unwrap_or(""))
}

fn words(code: &str) -> String {
    esc(&code.replace('_', " "))
}

fn date_id(v: &Value) -> String {
    v.as_str()
        .and_then(|s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
        .map(|d| d.format("%d-%m-%Y").to_string())
        .unwrap_or_else(|| "–".to_owned())
}

const HATCH: &str = r##"<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff"/><line x1="0" y1="0" x2="0" y2="6" stroke="#000" stroke-width="1.6"/></pattern></defs>"##;

/// The map: outline, kelurahan (for a kecamatan), hatched coverage, proposals as ringed dots.
fn map_svg(map: &Value) -> String {
    let f = |k: &str| map[k].as_f64().unwrap_or(0.0);
    let (xmin, ymax, w, h) = (
        f("xmin"),
        f("ymax"),
        f("width").max(1.0),
        f("height").max(1.0),
    );
    let stroke = w.max(h) / 400.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Peta wilayah" viewBox="{xmin:.1} {:.1} {w:.1} {h:.1}" width="100%" style="max-height:120mm"><defs><pattern id="maphatch" width="{hatch:.1}" height="{hatch:.1}" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="{hatch:.1}" stroke="#000" stroke-width="{:.1}"/></pattern></defs>"##,
        -ymax,
        stroke * 1.2,
        // Hatching in map units (metres): about 90 lines across the map, whatever its size.
        hatch = w.max(h) / 90.0,
    );
    if let Some(cov) = map["coverage"].as_str().filter(|c| !c.is_empty()) {
        let _ = write!(
            s,
            r##"<path d="{}" fill="url(#maphatch)" stroke="#000" stroke-width="{:.1}" stroke-dasharray="{:.1} {:.1}"/>"##,
            esc(cov),
            stroke,
            stroke * 4.0,
            stroke * 2.0
        );
    }
    for inner in map["inner"].as_array().into_iter().flatten() {
        let _ = write!(
            s,
            r##"<path d="{}" fill="none" stroke="#444" stroke-width="{:.1}"/>"##,
            text(inner),
            stroke * 0.8
        );
    }
    let _ = write!(
        s,
        r##"<path d="{}" fill="none" stroke="#000" stroke-width="{:.1}"/>"##,
        text(&map["outline"]),
        stroke * 2.5
    );
    let r = w.max(h) / 90.0;
    for p in map["proposals"].as_array().into_iter().flatten() {
        // ST_AsSVG writes a point as `cx="…" cy="…"`; only digits, signs and dots reach here.
        let attrs: String = p
            .as_str()
            .unwrap_or("")
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || " =\".-".contains(*c))
            .collect();
        let _ = write!(
            s,
            r##"<circle {attrs} r="{r:.1}" fill="#000" stroke="#fff" stroke-width="{:.1}"/>"##,
            r / 3.0
        );
    }
    s.push_str("</svg>");
    s
}

/// A horizontal bar chart: one row per item, hatched bars with the value printed beside them.
fn bar_chart(label: &str, items: &[(String, f64, String)], max: f64) -> String {
    let row = 26.0;
    let (left, bar_w, width) = (110.0, 230.0, 500.0);
    let height = row * items.len() as f64 + 8.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{}" viewBox="0 0 {width} {height}" width="100%" font-size="15" font-family="DejaVu Sans, Arial, sans-serif">{HATCH}"##,
        esc(label)
    );
    for (i, (name, value, shown)) in items.iter().enumerate() {
        let y = 4.0 + row * i as f64;
        let len = if max > 0.0 {
            (value / max).clamp(0.0, 1.0) * bar_w
        } else {
            0.0
        };
        let _ = write!(
            s,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text><rect x="{left}" y="{:.1}" width="{len:.1}" height="{:.1}" fill="url(#hatch)" stroke="#000"/><text x="{:.1}" y="{:.1}">{}</text>"##,
            left - 6.0,
            y + 16.0,
            esc(name),
            y + 2.0,
            row - 6.0,
            left + len + 6.0,
            y + 16.0,
            esc(shown)
        );
    }
    let _ = write!(
        s,
        r##"<line x1="{left}" y1="0" x2="{left}" y2="{height}" stroke="#000"/></svg>"##
    );
    s
}

fn gap_section(p: &Profile) -> String {
    let Some(g) = &p.gap else {
        return r#"<p class="empty">Analisis kesenjangan belum dijalankan untuk wilayah ini.</p>"#
            .to_owned();
    };
    let f = |k: &str| g[k].as_f64().unwrap_or(0.0);
    let i = |k: &str| g[k].as_i64().map(int_id).unwrap_or_else(|| "–".to_owned());
    let level = match p.level {
        Level::Kelurahan => "kelurahan",
        Level::Kecamatan => "kecamatan",
    };
    format!(
        r#"<table><tbody>
<tr><th>Skor kesenjangan</th><td class="n"><strong>{score}</strong></td><td>peringkat {rank} dari {of} {level}; kelas {class} dari 5 (5 = kesenjangan terbesar)</td></tr>
<tr><th>Kebutuhan (need)</th><td class="n">{need}</td><td>rumah tangga berpenghasilan rendah: {lih}; penduduk: {pop}</td></tr>
<tr><th>Bagian wilayah tercakup</th><td class="n">{cov}</td><td>bagian penduduk tercakup: {people}</td></tr>
<tr><th>Belum tercakup</th><td class="n">{unc}</td><td>penduduk; rumah tangga berpenghasilan rendah belum tercakup: {liu}</td></tr>
<tr><th>Permintaan warga (demand)</th><td class="n">{demand}</td><td>{proposals} usulan publik, {supports} dukungan</td></tr>
<tr><th>Program / mitra aktif</th><td class="n">{programs} / {partners}</td><td>menurut analisis per {as_of}</td></tr>
</tbody></table>
<p class="note">Skor = kebutuhan × (1 − bagian penduduk tercakup) × (1 + bobot permintaan × permintaan warga); peringkat 1 = kesenjangan terbesar (docs/gap-analysis.md).</p>"#,
        score = num_id(f("gap_score"), 3),
        rank = i("rank"),
        of = i("of"),
        class = i("class"),
        need = num_id(f("need"), 3),
        lih = i("low_income_households"),
        pop = i("population"),
        cov = pct_id(f("covered_fraction")),
        people = pct_id(f("people_fraction")),
        unc = int_id(f("people_uncovered").round() as i64),
        liu = int_id(f("low_income_uncovered").round() as i64),
        demand = num_id(f("demand"), 3),
        proposals = i("proposals"),
        supports = i("supports"),
        programs = i("programs"),
        partners = i("partners"),
        as_of = date_id(&g["as_of"]),
    )
}

fn programs_section(p: &Profile) -> String {
    if p.programs.is_empty() {
        return r#"<p class="empty">Belum ada program yang disetujui di wilayah ini.</p>"#
            .to_owned();
    }
    let mut s = String::from(
        r#"<table><thead><tr><th>Mitra</th><th>Program</th><th>Jenis</th><th>Periode</th><th class="n">Rencana</th><th class="n">Peserta (semua)</th><th class="n">Capaian</th><th class="n">Peserta di wilayah ini</th><th class="n">Perempuan</th><th class="n">UKM</th><th class="n">Sesi pendampingan</th></tr></thead><tbody>"#,
    );
    for r in &p.programs {
        let ratio = r["reach_ratio"].as_f64();
        let reach = match ratio {
            Some(x) => format!(
                r#"{} <span class="bar" style="width:{:.1}mm"></span>"#,
                pct_id(x),
                (x.min(1.5) * 12.0).max(0.3)
            ),
            None => "tanpa rencana".to_owned(),
        };
        let a = &r["in_area"];
        let n = |v: &Value| v.as_i64().map(int_id).unwrap_or_else(|| "–".to_owned());
        let _ = write!(
            s,
            r#"<tr><td>{}</td><td>{}</td><td>{}</td><td>{} – {}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td></tr>"#,
            text(&r["partner_name"]),
            text(&r["program_name"]),
            words(r["program_type"].as_str().unwrap_or("")),
            date_id(&r["start_date"]),
            date_id(&r["end_date"]),
            n(&r["planned_beneficiaries"]),
            n(&r["participants"]),
            reach,
            n(&a["participants"]),
            n(&a["participants_women"]),
            n(&a["ukm_assisted"]),
            n(&a["mentoring_sessions"]),
        );
    }
    s.push_str("</tbody></table><p class=\"note\">Capaian = peserta yang dilaporkan ÷ rencana penerima manfaat program (seluruh wilayah program).</p>");
    s
}

fn followup_section(p: &Profile) -> String {
    if p.followup.is_empty() {
        return r#"<p class="empty">Tidak ada pelatihan yang menunggu pendampingan di wilayah ini.</p>"#
            .to_owned();
    }
    let mut s = String::from(
        r#"<table><thead><tr><th>Program pelatihan</th><th>Mitra</th><th>Kelurahan</th><th>Selesai</th><th>Batas pendampingan</th><th>Status</th></tr></thead><tbody>"#,
    );
    for r in &p.followup {
        for k in r["kelurahan"].as_array().into_iter().flatten() {
            let status = if k["overdue"].as_bool() == Some(true) {
                "<strong>terlambat</strong>"
            } else {
                "masih bisa ditindaklanjuti"
            };
            let _ = write!(
                s,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{status}</td></tr>",
                text(&r["program_name"]),
                text(&r["partner_name"]),
                text(&k["kelurahan_name"]),
                date_id(&k["ended"]),
                date_id(&k["window_closes"]),
            );
        }
    }
    s.push_str("</tbody></table>");
    s
}

fn proposals_top(p: &Profile) -> String {
    let top = p.proposals["top"].as_array().cloned().unwrap_or_default();
    if top.is_empty() {
        return r#"<p class="empty">Belum ada usulan publik di wilayah ini.</p>"#.to_owned();
    }
    let mut s = String::from(
        r#"<table><thead><tr><th>#</th><th>Kode</th><th>Usulan</th><th>Kategori</th><th>Kelurahan</th><th>Tahap</th><th class="n">Dukungan</th><th class="n">Perkiraan biaya (Rp)</th></tr></thead><tbody>"#,
    );
    for (i, r) in top.iter().enumerate() {
        let _ = write!(
            s,
            r#"<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class="n">{}</td><td class="n">{}</td></tr>"#,
            i + 1,
            text(&r["tracking_code"]),
            text(&r["title"]),
            words(r["category"].as_str().unwrap_or("")),
            text(&r["kelurahan_name"]),
            text(&r["status"]),
            r["support_count"].as_i64().map(int_id).unwrap_or_default(),
            r["estimated_cost_idr"]
                .as_i64()
                .map(int_id)
                .unwrap_or_else(|| "–".to_owned()),
        );
    }
    s.push_str("</tbody></table>");
    s
}

/// The whole page.
pub fn render(p: &Profile) -> String {
    let level = match p.level {
        Level::Kelurahan => "Kelurahan",
        Level::Kecamatan => "Kecamatan",
    };
    let parent = match p.level {
        Level::Kelurahan => "Kecamatan",
        Level::Kecamatan => "Kota/Kabupaten",
    };
    let a = &p.area;
    let years: Vec<(String, f64, String)> = p
        .years
        .iter()
        .map(|y| {
            (
                y.year.to_string(),
                y.share,
                format!("{} ({} program)", pct_id(y.share), y.programs),
            )
        })
        .collect();
    let by_stage = &p.proposals["by_stage"];
    let stages: Vec<(String, f64, String)> = ProposalStatus::PUBLIC
        .iter()
        .map(|s| {
            let n = by_stage[*s].as_i64().unwrap_or(0);
            ((*s).to_owned(), n as f64, int_id(n))
        })
        .collect();
    let stage_max = stages.iter().map(|s| s.1).fold(0.0, f64::max);
    let proposals_total: i64 = stages.iter().map(|s| s.1 as i64).sum();
    format!(
        r#"<!doctype html>
<html lang="id"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Profil {level} {name} ({code}) — SIGAP</title>
<style>{STYLE}</style></head>
<body>
<header>
<h1>Profil {level} {name}</h1>
<p class="meta">Kode {code} · {parent} {parent_name} ({parent_code}) · luas {area} km² · data per {as_of}</p>
<p class="note printhint">Untuk Musrenbang: cetak halaman ini (A4) atau unduh <a href="{pdf}">PDF</a>.</p>
</header>
<section><h2>Peta wilayah</h2>
{map}
<p class="legend"><span>━ batas {level_lower}</span><span>▨ cakupan program yang disetujui ({first_year}–{last_year})</span><span>● usulan warga (publik)</span></p>
</section>
<section><h2>Skor kesenjangan dan komponennya</h2>{gap}</section>
<div class="grid">
<section><h2>Cakupan dari tahun ke tahun</h2>{years_chart}<p class="note">Bagian luas wilayah yang tercakup program yang disetujui pada tahun itu.</p></section>
<section><h2>Usulan menurut tahap</h2>{stages_chart}<p class="note">{proposals_total} usulan publik.</p></section>
</div>
<section><h2>Program dan mitra di wilayah ini</h2>{programs}</section>
<section><h2>Tindak lanjut: pelatihan tanpa pendampingan</h2>{followup}<p class="note">Pelatihan yang selesai tanpa laporan atau cakupan pendampingan dalam {months} bulan sesudahnya.</p></section>
<section><h2>Usulan prioritas teratas</h2>{top}<p class="note">Urut menurut jumlah dukungan warga, lalu yang terlama.</p></section>
<footer>SIGAP — Sistem Informasi Geospasial Pengentasan Kemiskinan. Dicetak dari data publik per {as_of}; usulan dan program yang belum disetujui tidak ditampilkan.</footer>
</body></html>"#,
        name = esc(&a.name),
        code = esc(&a.code),
        parent_name = esc(a.parent_name.as_deref().unwrap_or("")),
        parent_code = esc(&a.parent_code),
        area = num_id(a.area_km2, 2),
        as_of = p.as_of.format("%d-%m-%Y"),
        pdf = esc(&format!("{}.pdf", a.code)),
        map = map_svg(&p.map),
        level_lower = level.to_lowercase(),
        first_year = p.first_year,
        last_year = p.as_of.format("%Y"),
        gap = gap_section(p),
        years_chart = bar_chart("Cakupan per tahun", &years, 1.0),
        stages_chart = bar_chart("Usulan per tahap", &stages, stage_max),
        programs = programs_section(p),
        followup = followup_section(p),
        months = 6,
        top = proposals_top(p),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_the_indonesian_way() {
        assert_eq!(int_id(0), "0");
        assert_eq!(int_id(1234567), "1.234.567");
        assert_eq!(int_id(-1000), "-1.000");
        assert_eq!(pct_id(0.1234), "12,3%");
    }
}
