//! Budget prioritisation against a real PostGIS: the ranking and its components, scenarios
//! (422 for impossible constraints, nothing written), solve, compare, exports, adoption through
//! the audited proposal lifecycle, read-only adopted scenarios, area scoping, and the CLI.

use crate::common;
use crate::fixture;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use common::{sigap_cli, TestApp};
use fixture::{proposal, scalar, spawn, user, IN_SCOPE, OUT_SCOPE};

/// The test region with indicators, a default gap run, five proposals and four accounts.
struct World {
    app: TestApp,
    official: String,
    scoped: String,
    resident: String,
    /// p1 jalan 100M (01, diverifikasi), p2 drainase 300M (01, diprioritaskan), p3 sanitasi 50M
    /// (02, diverifikasi), p4 (01, diajukan: not a candidate), p5 lainnya without cost (02).
    p: [i64; 5],
}

async fn world() -> World {
    let app = spawn(|_| {}).await;
    let (_, official) = user(&app, "pejabat", "official", None).await;
    let (_, scoped) = user(&app, "camat", "official", Some("32.73.01")).await;
    let (resident_id, resident) = user(&app, "warga", "resident", None).await;
    let (other_id, _) = user(&app, "tetangga", "resident", None).await;
    let p1 = proposal(&app, IN_SCOPE, "diverifikasi", "jalan").await;
    let p2 = proposal(&app, IN_SCOPE, "diprioritaskan", "drainase").await;
    let p3 = proposal(&app, OUT_SCOPE, "diverifikasi", "sanitasi").await;
    let p4 = proposal(&app, IN_SCOPE, "diajukan", "jalan").await;
    let p5 = proposal(&app, OUT_SCOPE, "diverifikasi", "lainnya").await;
    let client = app.pool.get().await.expect("client");
    client
        .batch_execute(&format!(
            "UPDATE proposal SET estimated_cost_idr = 100000000 WHERE id = {p1};
             UPDATE proposal SET estimated_cost_idr = 300000000 WHERE id = {p2};
             UPDATE proposal SET estimated_cost_idr = 50000000 WHERE id = {p3};
             UPDATE proposal SET estimated_cost_idr = 10000000 WHERE id = {p4};
             INSERT INTO indicator (kelurahan_code, year, population, households, low_income_households) VALUES
               ('32.73.01.1001', 2024, 4000, 1000, 300), ('32.73.02.1001', 2024, 8000, 2000, 100);
             UPDATE app_user SET home_kelurahan_code = '32.73.01.1001' WHERE id = {resident_id};
             UPDATE app_user SET home_kelurahan_code = '32.73.02.1001' WHERE id = {other_id};
             INSERT INTO proposal_support (proposal_id, user_id) VALUES ({p1}, {resident_id}), ({p2}, {other_id});
             INSERT INTO gap_run (id, as_of, cell_m, followup_months, weights, is_default, population_weighted, summary)
               VALUES (1, '2026-01-01', 500, 6, '{{}}', true, false, '{{}}');
             INSERT INTO gap_kelurahan SELECT 1, k.code, k.kecamatan_code, 1, 0, 0, 0, NULL, NULL, NULL, 0, 0, 0, 0,
                 0, 0, 0, 0, 0, 0, CASE WHEN k.code = '32.73.01.1001' THEN 2.0 ELSE 1.0 END, 1, 1
               FROM kelurahan k;"
        ))
        .await
        .expect("world");
    World {
        app,
        official,
        scoped,
        resident,
        p: [p1, p2, p3, p4, p5],
    }
}

async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = app
        .http
        .request(method, app.url(path))
        .header("Accept-Language", "en");
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.expect("request");
    let status = res.status();
    let value = res.json().await.unwrap_or(Value::Null);
    (status, value)
}

fn ids(v: &Value) -> Vec<i64> {
    let mut out: Vec<i64> = v
        .as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_i64().expect("id"))
        .collect();
    out.sort_unstable();
    out
}

fn proposal_in(list: &Value, id: i64) -> &Value {
    list.as_array()
        .expect("list")
        .iter()
        .find(|p| p["id"] == json!(id))
        .unwrap_or_else(|| panic!("proposal {id} not listed"))
}

#[tokio::test]
async fn ranking_shows_every_component_and_respects_roles_and_scope() {
    let w = world().await;
    let [p1, p2, p3, p4, p5] = w.p;
    let (status, v) = call(
        &w.app,
        Method::GET,
        "/api/budget/ranking",
        Some(&w.official),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["gap_run_id"], json!(1));
    let list = &v["proposals"];
    let listed: Vec<i64> = ids(&json!(list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].clone())
        .collect::<Vec<_>>()));
    assert_eq!(
        listed,
        vec![p1, p2, p3, p5],
        "only verified proposals are candidates"
    );
    assert!(!listed.contains(&p4));
    // Gap: kelurahan 01 has the highest gap score of the run, 02 half of it.
    assert_eq!(proposal_in(list, p1)["score"]["gap"], json!(1.0));
    assert_eq!(proposal_in(list, p3)["score"]["gap"], json!(0.5));
    // Support: p1's supporter lives in its kelurahan (weight 2), p2's does not (weight 1).
    assert_eq!(
        proposal_in(list, p1)["score"]["weighted_supports"],
        json!(2.0)
    );
    assert_eq!(
        proposal_in(list, p2)["score"]["weighted_supports"],
        json!(1.0)
    );
    let s2 = proposal_in(list, p2)["score"]["support"].as_f64().unwrap();
    assert!((s2 - 2f64.ln() / 3f64.ln()).abs() < 1e-9);
    // Cost-effectiveness is unknown without a cost, and shown as such.
    assert_eq!(
        proposal_in(list, p5)["score"]["cost_effectiveness"],
        Value::Null
    );
    assert!(
        proposal_in(list, p3)["score"]["beneficiaries"]
            .as_f64()
            .unwrap()
            > 0.0
    );
    // Sorted by score.
    let scores: Vec<f64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["score"]["score"].as_f64().unwrap())
        .collect();
    assert!(scores.windows(2).all(|s| s[0] >= s[1]));

    // Category weights set by officials change the score.
    let (status, v) = call(
        &w.app,
        Method::POST,
        "/api/budget/ranking",
        Some(&w.official),
        Some(json!({"category_weights": {"sanitasi": 0.0}})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(
        proposal_in(&v["proposals"], p3)["score"]["score"],
        json!(0.0)
    );

    // A scoped official sees only their kecamatan.
    let (status, v) = call(
        &w.app,
        Method::GET,
        "/api/budget/ranking",
        Some(&w.scoped),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let mut scoped: Vec<i64> = v["proposals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect();
    scoped.sort_unstable();
    assert_eq!(scoped, vec![p1, p2]);

    let (status, _) = call(
        &w.app,
        Method::GET,
        "/api/budget/ranking",
        Some(&w.resident),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(&w.app, Method::GET, "/api/budget/ranking", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn impossible_scenarios_get_422_naming_the_constraint_and_write_nothing() {
    let w = world().await;
    let [p1, ..] = w.p;
    let cases = [
        (
            json!({"budget_idr": -1, "exclude_uncosted": true}),
            "budget",
            "negative",
        ),
        (
            json!({"budget_idr": 100_000_000, "exclude_uncosted": true, "kecamatan": {
                "32.73.01": {"floor": {"amount_idr": 60_000_000}},
                "32.73.02": {"floor": {"share": 0.5}}}}),
            "floors",
            "more than the budget",
        ),
        (
            json!({"budget_idr": 500_000_000, "exclude_uncosted": true, "kecamatan": {
                "32.73.01": {"floor": {"amount_idr": 100_000_000}, "cap": {"amount_idr": 50_000_000}}}}),
            "cap_below_floor",
            "32.73.01",
        ),
        (
            json!({"budget_idr": 500_000_000, "exclude_uncosted": true, "kecamatan": {
                "32.73.99": {"cap": {"amount_idr": 1}}}}),
            "kecamatan",
            "32.73.99",
        ),
        (
            json!({"budget_idr": 500_000_000}),
            "cost",
            "without a positive estimated cost",
        ),
        (
            json!({"budget_idr": 500_000_000, "exclude_uncosted": true, "kecamatan": {
                "32.73.02": {"floor": {"amount_idr": 100_000_000}}}}),
            "floor_unreachable",
            "32.73.02",
        ),
        (
            // 32.73.01's proposals cost 100M and 300M: no selection spends exactly 150M there.
            json!({"budget_idr": 500_000_000, "exclude_uncosted": true, "kecamatan": {
                "32.73.01": {"floor": {"amount_idr": 150_000_000}, "cap": {"amount_idr": 150_000_000}}}}),
            "infeasible",
            "no selection",
        ),
        (
            json!({"budget_idr": 50_000_000, "exclude_uncosted": true, "must_fund": [p1]}),
            "must_fund",
            "more than the budget",
        ),
    ];
    for (params, constraint, text) in cases {
        let (status, v) = call(
            &w.app,
            Method::POST,
            "/api/budget/scenarios",
            Some(&w.official),
            Some(json!({"name": "uji", "params": params})),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{params}: {v}");
        assert_eq!(v["constraint"], json!(constraint), "{v}");
        let detail = v["detail"].as_str().unwrap();
        assert!(detail.contains(text), "{detail}");
    }
    // The same in Indonesian by default.
    let res = w
        .app
        .http
        .post(w.app.url("/api/budget/scenarios"))
        .bearer_auth(&w.official)
        .json(&json!({"name": "uji", "params": {"budget_idr": -5}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let v: Value = res.json().await.unwrap();
    assert!(v["detail"]
        .as_str()
        .unwrap()
        .contains("Anggaran tidak boleh negatif"));
    assert_eq!(
        scalar(&w.app, "SELECT count(*) FROM budget_scenario").await,
        0
    );
    assert_eq!(
        scalar(&w.app, "SELECT count(*) FROM budget_funded").await,
        0
    );
}

#[tokio::test]
async fn scenarios_solve_compare_export_and_adopt_through_the_lifecycle() {
    let w = world().await;
    let [p1, p2, p3, _p4, p5] = w.p;
    let a_params = json!({"budget_idr": 200_000_000, "exclude_uncosted": true});
    let (status, a) = call(
        &w.app,
        Method::POST,
        "/api/budget/scenarios",
        Some(&w.official),
        Some(json!({"name": "A", "params": a_params})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{a}");
    let a_id = a["id"].as_i64().unwrap();
    let alloc = &a["result"]["allocation"];
    assert_eq!(alloc["method"], json!("exact"));
    assert_eq!(ids(&alloc["funded"]), vec![p1, p3]);
    assert_eq!(alloc["spent_idr"], json!(150_000_000));
    let props = &a["result"]["proposals"];
    assert_eq!(proposal_in(props, p2)["reason"], json!("budget_exhausted"));
    assert_eq!(proposal_in(props, p5)["reason"], json!("excluded"));
    // Equity: 32.73.01 holds 75% of the low-income households and got 2/3 of the money.
    let equity = &a["result"]["equity"];
    let row01 = equity["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == json!("32.73.01"))
        .unwrap();
    assert!((row01["need_share"].as_f64().unwrap() - 0.75).abs() < 1e-9);
    assert!((row01["spent_share"].as_f64().unwrap() - 2.0 / 3.0).abs() < 1e-9);
    assert!((equity["distance"].as_f64().unwrap() - (0.75 - 2.0 / 3.0)).abs() < 1e-9);
    // The map layer of a scenario.
    assert_eq!(
        scalar(
            &w.app,
            &format!("SELECT count(*) FROM budget_funded_scenario WHERE scenario_id = {a_id}")
        )
        .await,
        2
    );

    let b_params = json!({"budget_idr": 200_000_000, "exclude_uncosted": true,
        "must_not_fund": [p1], "kecamatan": {"32.73.01": {"cap": {"amount_idr": 50_000_000}}}});
    let (status, b) = call(
        &w.app,
        Method::POST,
        "/api/budget/scenarios",
        Some(&w.official),
        Some(json!({"name": "B", "params": b_params})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{b}");
    let b_id = b["id"].as_i64().unwrap();
    assert_eq!(ids(&b["result"]["allocation"]["funded"]), vec![p3]);
    let props = &b["result"]["proposals"];
    assert_eq!(proposal_in(props, p1)["reason"], json!("excluded"));
    assert_eq!(proposal_in(props, p2)["reason"], json!("kecamatan_cap"));
    assert_eq!(
        proposal_in(props, p2)["blocked_by"],
        json!(["kecamatan_cap", "budget_exhausted"])
    );

    let (status, cmp) = call(
        &w.app,
        Method::GET,
        &format!("/api/budget/compare?a={a_id}&b={b_id}"),
        Some(&w.official),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{cmp}");
    assert_eq!(cmp["only_in_a"][0]["id"], json!(p1));
    assert_eq!(cmp["only_in_b"], json!([]));
    assert_eq!(cmp["in_both"], json!(1));
    let changed: Vec<&str> = cmp["params_changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["param"].as_str().unwrap())
        .collect();
    assert_eq!(changed, vec!["kecamatan", "must_not_fund"]);
    assert_eq!(cmp["kecamatan_changed"][0]["code"], json!("32.73.01"));
    assert_eq!(
        cmp["kecamatan_changed"][0]["change_idr"],
        json!(-100_000_000)
    );

    // Exports.
    let res = w
        .app
        .http
        .get(w.app.url(&format!("/api/budget/scenarios/{a_id}?f=csv")))
        .bearer_auth(&w.official)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let csv = res.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("rank,id,tracking_code,title"));
    assert_eq!(lines.len(), 5, "header and four candidates");
    assert!(lines[1..3].iter().all(|l| l.contains(",ya,")));
    assert!(lines.iter().any(|l| l.contains(",tidak,budget_exhausted,")));
    let res = w
        .app
        .http
        .get(w.app.url(&format!("/api/budget/scenarios/{a_id}?f=xlsx")))
        .bearer_auth(&w.official)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let xlsx = res.bytes().await.unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(xlsx.to_vec())).expect("xlsx is a zip");
    let names: Vec<String> = zip.file_names().map(str::to_owned).collect();
    assert!(
        names.iter().any(|n| n == "xl/worksheets/sheet1.xml"),
        "{names:?}"
    );
    let mut strings = String::new();
    std::io::Read::read_to_string(
        &mut zip.by_name("xl/sharedStrings.xml").expect("strings"),
        &mut strings,
    )
    .unwrap();
    assert!(strings.contains("budget_exhausted") && strings.contains("tracking_code"));

    // Adopt A: p1 and p3 go diverifikasi -> diprioritaskan -> dianggarkan, audited.
    let (status, adopted) = call(
        &w.app,
        Method::POST,
        &format!("/api/budget/scenarios/{a_id}/adopt"),
        Some(&w.official),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{adopted}");
    assert_eq!(adopted["status"], json!("adopted"));
    for id in [p1, p3] {
        let (_, p) = call(
            &w.app,
            Method::GET,
            &format!("/api/proposals/{id}"),
            Some(&w.official),
            None,
        )
        .await;
        assert_eq!(p["status"], json!("dianggarkan"));
        let steps: Vec<(&str, &str)> = p["history"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|h| {
                h["note"]
                    .as_str()
                    .is_some_and(|n| n.contains("skenario anggaran"))
            })
            .map(|h| {
                (
                    h["from_status"].as_str().unwrap(),
                    h["to_status"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            steps,
            vec![
                ("diverifikasi", "diprioritaskan"),
                ("diprioritaskan", "dianggarkan")
            ]
        );
    }
    assert_eq!(
        scalar(&w.app, &format!(
            "SELECT count(*) FROM audit_log WHERE action = 'proposal.status' AND target_id IN ('{p1}', '{p3}')"
        ))
        .await,
        4
    );
    assert_eq!(
        scalar(
            &w.app,
            "SELECT count(*) FROM proposal WHERE status = 'dianggarkan'"
        )
        .await,
        2
    );
    assert_eq!(
        scalar(&w.app, "SELECT count(*) FROM budget_funded_latest").await,
        2
    );

    // Read-only once adopted.
    let (status, _) = call(
        &w.app,
        Method::PUT,
        &format!("/api/budget/scenarios/{a_id}"),
        Some(&w.official),
        Some(json!({"name": "A2", "params": a_params})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    for action in ["solve", "adopt"] {
        let (status, _) = call(
            &w.app,
            Method::POST,
            &format!("/api/budget/scenarios/{a_id}/{action}"),
            Some(&w.official),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT, "{action}");
    }
    let client = w.app.pool.get().await.unwrap();
    let err = client
        .execute(
            &format!("UPDATE budget_scenario SET name = 'x' WHERE id = {a_id}"),
            &[],
        )
        .await;
    assert!(
        err.is_err(),
        "the database refuses edits of an adopted scenario too"
    );

    // B also funds p3, which A's adoption budgeted: adopting B now is stale, 409, nothing moves.
    let events = format!("SELECT count(*) FROM proposal_event WHERE proposal_id = {p3}");
    let before = scalar(&w.app, &events).await;
    let (status, v) = call(
        &w.app,
        Method::POST,
        &format!("/api/budget/scenarios/{b_id}/adopt"),
        Some(&w.official),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{v}");
    assert!(v["detail"]
        .as_str()
        .unwrap()
        .contains("solve the scenario again"));
    assert_eq!(scalar(&w.app, &events).await, before);
    assert_eq!(
        scalar(
            &w.app,
            &format!("SELECT count(*) FROM budget_scenario WHERE id = {b_id} AND status = 'draft'")
        )
        .await,
        1
    );

    // B is still a draft: re-solving sees that p1 is no longer a candidate.
    let (status, b2) = call(
        &w.app,
        Method::POST,
        &format!("/api/budget/scenarios/{b_id}/solve"),
        Some(&w.official),
        None,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "p1 on must_not_fund is gone: {b2}"
    );
    assert_eq!(b2["constraint"], json!("lists"));
}

#[tokio::test]
async fn a_scoped_official_works_only_inside_their_area() {
    let w = world().await;
    let [p1, p2, ..] = w.p;
    let (status, s) = call(
        &w.app,
        Method::POST,
        "/api/budget/scenarios",
        Some(&w.scoped),
        Some(json!({"name": "Kecamatan 01", "params": {"budget_idr": 1_000_000_000}})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{s}");
    assert_eq!(s["area_code"], json!("32.73.01"));
    assert_eq!(ids(&s["result"]["allocation"]["funded"]), vec![p1, p2]);
    let rows = s["result"]["equity"]["rows"].as_array().unwrap();
    assert_eq!(
        rows.len(),
        1,
        "the equity view covers the official's kecamatan"
    );

    // Limits on another kecamatan: 403.
    let (status, _) = call(
        &w.app,
        Method::POST,
        "/api/budget/scenarios",
        Some(&w.scoped),
        Some(json!({"name": "x", "params": {"budget_idr": 1, "kecamatan": {"32.73.02": {"cap": {"share": 0.5}}}}})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // A region-wide scenario is outside their area.
    let (_, region) = call(
        &w.app,
        Method::POST,
        "/api/budget/scenarios",
        Some(&w.official),
        Some(json!({"name": "Kota", "params": {"budget_idr": 1_000_000_000, "exclude_uncosted": true}})),
    )
    .await;
    let rid = region["id"].as_i64().unwrap();
    let (status, _) = call(
        &w.app,
        Method::GET,
        &format!("/api/budget/scenarios/{rid}"),
        Some(&w.scoped),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(
        &w.app,
        Method::POST,
        &format!("/api/budget/scenarios/{rid}/adopt"),
        Some(&w.scoped),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, list) = call(
        &w.app,
        Method::GET,
        "/api/budget/scenarios",
        Some(&w.scoped),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["scenarios"].as_array().unwrap().len(), 1);
    let (_, list) = call(
        &w.app,
        Method::GET,
        "/api/budget/scenarios",
        Some(&w.official),
        None,
    )
    .await;
    assert_eq!(list["scenarios"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn cli_solves_a_scenario_file_and_writes_exports() {
    let w = world().await;
    let [p1, p2, p3, _, p5] = w.p;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("skenario.json");
    std::fs::write(
        &file,
        json!({"name": "CLI", "params": {"budget_idr": 200_000_000, "exclude_uncosted": true}})
            .to_string(),
    )
    .unwrap();
    let csv = dir.path().join("hasil.csv");
    let out = sigap_cli(
        &w.app.db,
        &[
            "budget",
            "solve",
            file.to_str().unwrap(),
            "--out",
            csv.to_str().unwrap(),
        ],
    )
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("method exact"), "{stdout}");
    let (funded, unfunded) = stdout.split_once("unfunded:").unwrap();
    for id in [p1, p3] {
        assert!(funded.contains(&format!(" {id} ")), "{stdout}");
    }
    assert!(unfunded.contains(&format!(" {p2} ")) && unfunded.contains("budget_exhausted"));
    assert!(unfunded.contains(&format!(" {p5} ")) && unfunded.contains("excluded"));
    let written = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(written.lines().count(), 5);
    // Nothing is stored by the CLI.
    assert_eq!(
        scalar(&w.app, "SELECT count(*) FROM budget_scenario").await,
        0
    );

    std::fs::write(&file, json!({"budget_idr": -1}).to_string()).unwrap();
    let out = sigap_cli(&w.app.db, &["budget", "solve", file.to_str().unwrap()]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("negative"));
}

#[tokio::test]
async fn the_bandung_sample_allocates_within_every_cap() {
    let app = common::spawn_app(true).await;
    let (_, official) = user(&app, "pejabat", "official", None).await;
    let gap = sigap_cli(&app.db, &["gap", "run"]).await;
    assert!(
        gap.status.success(),
        "{}",
        String::from_utf8_lossy(&gap.stderr)
    );
    let kecamatan: serde_json::Map<String, Value> = {
        let client = app.pool.get().await.unwrap();
        client
            .query("SELECT code FROM kecamatan", &[])
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get::<_, String>(0), json!({"cap": {"share": 0.08}})))
            .collect()
    };
    assert_eq!(kecamatan.len(), 30);
    let budget: i64 = 20_000_000_000;
    let (status, s) = call(
        &app,
        Method::POST,
        "/api/budget/scenarios",
        Some(&official),
        Some(json!({"name": "Bandung 2027", "params": {
            "budget_idr": budget, "exclude_uncosted": true, "kecamatan": kecamatan,
            "category_caps": {"jalan": {"share": 0.3}}}})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{s}");
    let result = &s["result"];
    assert!(
        result["gap_run_id"].is_i64(),
        "the latest gap run feeds the score"
    );
    let alloc = &result["allocation"];
    assert_eq!(alloc["method"], json!("exact"));
    assert!(!alloc["funded"].as_array().unwrap().is_empty());
    assert!(alloc["spent_idr"].as_i64().unwrap() <= budget);
    for k in alloc["kecamatan"].as_array().unwrap() {
        assert!(k["spent_idr"].as_i64().unwrap() <= budget * 8 / 100, "{k}");
    }
    let proposals = result["proposals"].as_array().unwrap();
    let candidates = scalar(
        &app,
        "SELECT count(*) FROM proposal WHERE status IN ('diverifikasi', 'diprioritaskan')",
    )
    .await;
    assert_eq!(proposals.len() as i64, candidates);
    assert!(proposals
        .iter()
        .any(|p| p["score"]["gap"].as_f64().unwrap() > 0.0));
    for p in proposals.iter().filter(|p| p["funded"] == json!(false)) {
        assert!(p["reason"].is_string(), "{p}");
    }
    assert_eq!(result["equity"]["rows"].as_array().unwrap().len(), 30);
}
