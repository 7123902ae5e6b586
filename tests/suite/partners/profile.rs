//! Printable profiles (`/profil/kelurahan/{code}`, `/profil/kecamatan/{code}` and the `.pdf` of
//! each): the page shows the area's approved programs with reach against plan, the follow-up gap,
//! public proposals by stage and priority, the gap score, and an SVG map; pending entries, hidden
//! proposals and partner contacts stay off it; an unknown code is a 404 problem+json; the PDF is
//! a real PDF (Chromium) whose text (pdftotext) says the same.

use super::*;

async fn world_with_data() -> World {
    let w = World::new().await;
    // Partner A: an approved training with coverage in the west kelurahan and a progress report.
    w.program(PLANNER, "latih-kerja-a", "mitra-a", "pelatihan_kerja")
        .await;
    w.coverage(PLANNER, "latih-kerja-barat", "latih-kerja-a", WEST)
        .await;
    let (s, v) = w
        .report(
            PLANNER,
            json!({"program_code": "latih-kerja-a", "kelurahan_code": "32.73.01.1001",
                   "period": "quarter", "period_start": "2025-04-01", "participants": 40,
                   "participants_women": 25, "ukm_assisted": 6, "ukm_women_led": 4}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    // Partner B: pending, never on a public profile.
    w.program(MITRA_B, "rahasia-b", "mitra-b", "ukm").await;
    w.coverage(MITRA_B, "rahasia-b-barat", "rahasia-b", WEST)
        .await;
    // Proposals: two public, one still hidden (diajukan).
    for (status, title) in [
        ("diverifikasi", "Perbaikan drainase gang"),
        ("dianggarkan", "Lampu jalan RW 03"),
        ("diajukan", "Usulan belum diverifikasi"),
    ] {
        let id = fixture::proposal(&w.app, WEST, status, "drainase").await;
        let client = w.app.pool.get().await.expect("client");
        client
            .execute(
                "UPDATE proposal SET title = $2 WHERE id = $1",
                &[&id, &title],
            )
            .await
            .expect("title");
    }
    let params = GapParams::defaults(chrono::Local::now().date_naive(), 2000.0);
    let id = run::run(&w.app.pool, &params, &|_, _| {})
        .await
        .expect("gap run")
        .id;
    // What the live refresher publishes is a run with the default cell size; a coarser one is
    // quicker here and is published the same way.
    let client = w.app.pool.get().await.expect("client");
    client
        .execute("UPDATE gap_run SET live = true WHERE id = $1", &[&id])
        .await
        .expect("publish run");
    w
}

async fn page(w: &World, path: &str) -> (u16, String, String) {
    let res = w.app.http.get(w.app.url(path)).send().await.expect("get");
    let status = res.status().as_u16();
    let ctype = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, ctype, res.text().await.expect("body"))
}

#[tokio::test]
async fn kelurahan_and_kecamatan_profiles_show_public_data_only() {
    let w = world_with_data().await;
    let (s, ctype, html) = page(&w, "/profil/kelurahan/32.73.01.1001").await;
    assert_eq!(s, 200, "{html}");
    assert!(ctype.starts_with("text/html"), "{ctype}");
    for expected in [
        "Profil Kelurahan Barat Satu",
        "Kecamatan Barat",
        "Program latih-kerja-a",
        "Yayasan A",
        "40,0%", // 40 participants of 100 planned
        "Perbaikan drainase gang",
        "Lampu jalan RW 03",
        "terlambat", // the training ended in 2025 without mentoring
        "Skor kesenjangan",
        "peringkat 1 dari 2 kelurahan",
        "<svg",
        "@page { size: A4",
    ] {
        assert!(html.contains(expected), "missing {expected}");
    }
    for hidden in [
        "rahasia-b",
        "PT B",
        "Usulan belum diverifikasi",
        "kontak@example.org",
        "0812-0000",
    ] {
        assert!(
            !html.contains(hidden),
            "{hidden} must not be on a public profile"
        );
    }
    // The map: the outline, hatched coverage, and two public proposals as dots.
    assert_eq!(html.matches("<circle ").count(), 2);
    assert!(html.contains("fill=\"url(#maphatch)\""));

    let (s, _, html) = page(&w, "/profil/kecamatan/32.73.01").await;
    assert_eq!(s, 200, "{html}");
    assert!(html.contains("Profil Kecamatan Barat"), "{html}");
    assert!(html.contains("Program latih-kerja-a"));

    for path in [
        "/profil/kelurahan/32.73.09.9999",
        "/profil/kecamatan/32.73.01.1001",
        "/profil/kelurahan/bukan-kode.pdf",
    ] {
        let (s, v) = w.get(path, ANON).await;
        assert_eq!(s, 404, "{path}: {v}");
        assert_eq!(v["status"], 404, "{v}");
        assert!(
            v["detail"]
                .as_str()
                .is_some_and(|d| d.contains("Tidak ada")),
            "{v}"
        );
    }
}

#[tokio::test]
async fn the_pdf_is_rendered_by_chromium_and_says_the_same() {
    let w = world_with_data().await;
    let res = w
        .app
        .http
        .get(w.app.url("/profil/kelurahan/32.73.01.1001.pdf"))
        .send()
        .await
        .expect("pdf");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/pdf")
    );
    let bytes = res.bytes().await.expect("bytes");
    assert!(bytes.starts_with(b"%PDF"), "not a PDF");
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("profil.pdf");
    std::fs::write(&file, &bytes).expect("write");
    let out = tokio::process::Command::new("pdftotext")
        .args([file.to_str().expect("path"), "-"])
        .output()
        .await
        .expect("pdftotext (apt-get install poppler-utils)");
    assert!(out.status.success(), "{out:?}");
    // Table cells wrap: compare with runs of whitespace made one space.
    let text = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    for expected in [
        "Profil Kelurahan Barat Satu",
        "Program latih-kerja-a",
        "Yayasan A",
        "Perbaikan drainase gang",
        "Tindak lanjut",
    ] {
        assert!(text.contains(expected), "missing {expected} in:\n{text}");
    }
    assert!(!text.contains("rahasia-b"));
    // A4 portrait: 595 × 842 points.
    let info = tokio::process::Command::new("pdfinfo")
        .arg(&file)
        .output()
        .await
        .expect("pdfinfo");
    let info = String::from_utf8_lossy(&info.stdout);
    assert!(info.contains("(A4)"), "{info}");
}
