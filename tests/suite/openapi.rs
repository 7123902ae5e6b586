//! The OpenAPI 3.1 document of `/api` (`GET /api/openapi.json`, src/api/openapi.rs) against the
//! real router: it validates against the OpenAPI 3.1 JSON Schema and reads as a typed OpenAPI
//! model (oas3); every documented operation is served (never the "no such address" 404 nor 405)
//! and every other method on a documented path is 405; no `/api` route is registered outside the
//! annotated routers (a source scan of src/api); the request bodies document exactly the fields
//! the handlers accept; and real validation errors match the documented problem schema.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{self, repo_root, TestApp};
use crate::fixture::spawn;

/// The English detail of the catch-all 404 (`error::not_found_fallback`): an address the router
/// does not know.
const NO_SUCH_ADDRESS: &str = "There is nothing at this address in SIGAP.";

async fn document(app: &TestApp) -> (reqwest::header::HeaderMap, Value) {
    let res = app
        .http
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::OK);
    let headers = res.headers().clone();
    (headers, res.json().await.expect("JSON"))
}

/// Every (METHOD, path) the document lists.
fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in ["get", "put", "post", "delete", "patch", "head", "options"] {
            if item.get(method).is_some() {
                ops.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    ops
}

#[tokio::test]
async fn the_document_is_valid_openapi_3_1_and_revalidates() {
    let app = spawn(|_| {}).await;
    let (headers, doc) = document(&app).await;
    assert_eq!(
        headers["content-type"],
        "application/vnd.oai.openapi+json;version=3.1"
    );
    // The official JSON Schema of OpenAPI 3.1 documents (OAI, Apache-2.0; the 2022-10-07
    // edition, as openapi-spec-validator ships it).
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("tests/suite/fixture/oas-3.1-schema.json"))
            .expect("schema file"),
    )
    .expect("schema JSON");
    let validator = jsonschema::validator_for(&schema).expect("the OAS 3.1 schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "not OpenAPI 3.1: {errors:#?}");
    // A negative control: the schema does reject a broken document.
    let mut broken = doc.clone();
    broken["paths"]["/api/programs"]["post"]["responses"] = json!("none");
    assert!(!validator.is_valid(&broken));

    let spec = oas3::from_json(doc.to_string()).expect("reads as an OpenAPI model");
    assert!(spec.openapi.starts_with("3.1."), "{}", spec.openapi);
    let typed: BTreeSet<(String, String)> = spec
        .operations()
        .map(|(path, method, _)| (method.to_string(), path))
        .collect();
    assert_eq!(typed, operations(&doc));
    assert!(typed.len() >= 60, "{} operations", typed.len());
    // Operation ids are unique (OpenAPI requires it; no JSON Schema can say so).
    let mut ids = BTreeSet::new();
    for (path, method, op) in spec.operations() {
        assert!(!op.responses(&spec).is_empty(), "{method} {path}");
        let id = op.operation_id.clone().expect("an operationId");
        assert!(ids.insert(id.clone()), "{id} twice");
    }

    // The security schemes and the roles of a write.
    for scheme in ["session", "csrf", "bearer"] {
        assert!(
            doc["components"]["securitySchemes"][scheme].is_object(),
            "{scheme}"
        );
    }
    assert_eq!(
        doc["paths"]["/api/programs/{code}/approve"]["post"]["security"],
        json!([{"session": ["planner", "admin"], "csrf": []}, {"bearer": ["planner", "admin"]}])
    );

    // Served from memory with a strong ETag: 304 when unchanged.
    let etag = headers["etag"].to_str().expect("etag").to_owned();
    let res = app
        .http
        .get(app.url("/api/openapi.json"))
        .header("If-None-Match", &etag)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    assert!(res.bytes().await.expect("body").is_empty());

    // Linked from the OGC landing page, as JSON and as HTML.
    let landing = app.get_json("/ogc?f=json").await;
    let linked = landing["links"]
        .as_array()
        .expect("links")
        .iter()
        .find(|l| l["rel"] == "related")
        .expect("a related link");
    assert!(linked["href"]
        .as_str()
        .is_some_and(|h| h.ends_with("/api/openapi.json")));
    assert!(app
        .get_text("/ogc?f=html")
        .await
        .contains("/api/openapi.json"));
}

/// A value for a path parameter: ids are numbers, codes are slugs.
fn fill(path: &str) -> String {
    path.replace("{id}", "1")
        .replace("{code}", "tidak-ada")
        .replace("{tracking_code}", "x")
}

#[tokio::test]
async fn every_documented_route_is_served_and_no_other_method_is() {
    let app = spawn(|_| {}).await;
    let (_, doc) = document(&app).await;
    let ops = operations(&doc);
    let http = reqwest::Client::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        let url = app.url(&fill(path));
        for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
            let documented = ops.contains(&(method.to_owned(), path.clone()));
            let res = http
                .request(Method::from_bytes(method.as_bytes()).expect("method"), &url)
                .header("Accept-Language", "en")
                .send()
                .await
                .expect("request");
            let status = res.status();
            // Not read: the live events route streams for as long as the client listens.
            let fallback = status == StatusCode::NOT_FOUND
                && res
                    .headers()
                    .get("content-type")
                    .is_some_and(|t| t == "application/problem+json")
                && res.text().await.expect("body").contains(NO_SUCH_ADDRESS);
            if documented {
                assert!(
                    status != StatusCode::METHOD_NOT_ALLOWED && !fallback,
                    "{method} {path} is documented but not served: {status}"
                );
            } else {
                assert_eq!(
                    status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {path} is served but not documented ({})",
                    item
                );
            }
        }
    }
    // The detector works: an unknown address is the fallback's 404.
    let res = http
        .get(app.url("/api/tidak-ada"))
        .header("Accept-Language", "en")
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(res.text().await.expect("body").contains(NO_SUCH_ADDRESS));
}

/// Route registrations under src/api that name an `/api` path. Every `/api` route is mounted
/// with `routes!(…)` from its annotation; a `.route("/api/…")` (or a nest) would be served
/// without being documented.
#[test]
fn no_api_route_is_registered_outside_the_annotations() {
    let dir = repo_root().join("src/api");
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("src/api") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("read");
        // Unit tests below `#[cfg(test)]` build routers of their own, never served.
        let text = text.split("#[cfg(test)]").next().unwrap_or_default();
        // Join the lines of each call so a call wrapped by rustfmt is seen whole.
        let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        for call in [".route(", ".route_service(", ".nest(", ".nest_service("] {
            for (at, _) in flat.match_indices(call) {
                let args = &flat[at + call.len()..];
                let first = args.split(',').next().unwrap_or("").trim();
                if first.starts_with("\"/api") {
                    found.push(format!(
                        "{}: {call}{first}",
                        path.file_name().unwrap().to_string_lossy()
                    ));
                }
            }
        }
    }
    // The catch-all that answers unknown /api addresses with a problem+json 404.
    found.retain(|f| !f.ends_with("\"/api/{*rest}\""));
    assert!(
        found.is_empty(),
        "/api routes outside the OpenAPI routers: {found:#?}"
    );
    // The control: the scan does see the catch-all.
    let mod_rs = std::fs::read_to_string(dir.join("mod.rs")).expect("mod.rs");
    assert!(mod_rs.contains(".route(\"/api/{*rest}\""));
}

/// Every `#[utoipa::path(…)]` under src/api is in the served document: an annotated handler
/// that no router mounts (and so is neither served nor documented) fails here.
#[tokio::test]
async fn every_annotated_handler_is_mounted() {
    let mut annotated = BTreeSet::new();
    for entry in std::fs::read_dir(repo_root().join("src/api")).expect("src/api") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("read");
        for (at, _) in text.match_indices("#[utoipa::path(") {
            let args = &text[at + "#[utoipa::path(".len()..];
            let args: String = args.split_whitespace().collect::<Vec<_>>().join(" ");
            let methods: Vec<String> = match args.strip_prefix("method(") {
                Some(list) => list
                    .split(')')
                    .next()
                    .unwrap_or("")
                    .split(',')
                    .map(|m| m.trim().to_uppercase())
                    .collect(),
                None => vec![args.split(',').next().unwrap_or("").trim().to_uppercase()],
            };
            let route = args
                .split("path = \"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .unwrap_or_else(|| panic!("no path in {}", &args[..80.min(args.len())]));
            for m in methods {
                annotated.insert((m, route.to_owned()));
            }
        }
    }
    assert!(annotated.len() >= 60, "{} annotations", annotated.len());
    let app = spawn(|_| {}).await;
    let (_, doc) = document(&app).await;
    let documented = operations(&doc);
    let unmounted: Vec<_> = annotated.difference(&documented).collect();
    assert!(
        unmounted.is_empty(),
        "annotated but not mounted: {unmounted:#?}"
    );
    let unannotated: Vec<_> = documented.difference(&annotated).collect();
    assert!(
        unannotated.is_empty(),
        "documented without an annotation: {unannotated:#?}"
    );
}

/// `#/components/…` references resolved inside the document.
fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => doc
            .pointer(r.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("dangling {r}")),
        None => v,
    }
}

/// A validator for the schema an operation documents for `status`'s problem+json body.
fn problem_validator(doc: &Value, method: &str, path: &str, status: u16) -> jsonschema::Validator {
    let answer = &doc["paths"][path][method]["responses"][status.to_string()];
    assert!(answer.is_object(), "{method} {path} documents no {status}");
    let answer = resolve(doc, answer);
    let schema = &answer["content"]["application/problem+json"]["schema"];
    assert!(schema.is_object(), "{method} {path} {status}: {answer}");
    // The document's components travel with the schema so its `$ref`s resolve.
    let mut root = schema.clone();
    root["components"] = doc["components"].clone();
    jsonschema::validator_for(&root).expect("the problem schema compiles")
}

#[tokio::test]
async fn real_errors_match_the_documented_problem_schema() {
    let app = spawn(|_| {}).await;
    let (_, doc) = document(&app).await;
    let (_, planner) = common::user(&app, "perencana", "planner", None).await;
    let (_, resident) = common::user(&app, "warga", "resident", None).await;

    let mut seen = 0;
    let call = |token: Option<&str>, body: Value, lang: &str| {
        let mut req = app
            .http
            .post(app.url("/api/programs"))
            .header("Accept-Language", lang)
            .json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
    };
    let good = json!({"code": "pelatihan-2025", "partner_code": "tidak-ada", "name": "Pelatihan",
                      "type": "ukm", "start_date": "2025-07-01", "end_date": "2025-12-31"});
    let mut bad_dates = good.clone();
    bad_dates["end_date"] = json!("2025-01-01");
    let mut bad_type = good.clone();
    bad_type["type"] = json!("bukan");
    for (token, body, status, field) in [
        (Some(planner.as_str()), bad_dates, 422, Some("end_date")),
        (Some(planner.as_str()), bad_type, 422, Some("type")),
        (
            Some(planner.as_str()),
            good.clone(),
            422,
            Some("partner_code"),
        ),
        (
            Some(planner.as_str()),
            json!({"kode": "x"}),
            422,
            Some("kode"),
        ),
        (Some(resident.as_str()), good.clone(), 403, None),
        (None, good.clone(), 401, None),
    ] {
        for lang in ["id", "en"] {
            let res = call(token, body.clone(), lang).await.expect("request");
            assert_eq!(res.status().as_u16(), status, "{body}");
            assert_eq!(res.headers()["content-type"], "application/problem+json");
            let problem: Value = res.json().await.expect("JSON");
            let validator = problem_validator(&doc, "post", "/api/programs", status);
            let errors: Vec<String> = validator
                .iter_errors(&problem)
                .map(|e| format!("{e} at {}", e.instance_path()))
                .collect();
            assert!(errors.is_empty(), "{problem} does not match: {errors:#?}");
            assert_eq!(problem["status"], status);
            if let Some(field) = field {
                assert_eq!(problem["errors"][0]["field"], field, "{problem}");
            }
            seen += 1;
        }
    }
    assert_eq!(seen, 12);
    // The control: a body of another shape does not match the schema.
    let validator = problem_validator(&doc, "post", "/api/programs", 422);
    assert!(!validator.is_valid(&json!({"error": "nope"})));
}

/// A validator for the schema an operation documents for a JSON answer of `status`.
fn answer_validator(doc: &Value, method: &str, path: &str, status: u16) -> jsonschema::Validator {
    let answer = &doc["paths"][path][method]["responses"][status.to_string()];
    let answer = resolve(doc, answer);
    let schema = &answer["content"]["application/json"]["schema"];
    assert!(schema.is_object(), "{method} {path} {status}: {answer}");
    let mut root = schema.clone();
    root["components"] = doc["components"].clone();
    jsonschema::validator_for(&root).expect("the answer schema compiles")
}

/// Real answers of the partner and account routes match their documented schemas, which
/// refuse members they do not list (`additionalProperties: false`).
#[tokio::test]
async fn real_answers_match_the_documented_schemas() {
    let app = spawn(|_| {}).await;
    let (_, doc) = document(&app).await;
    let (_, planner) = common::user(&app, "perencana", "planner", None).await;
    let check = |method: &str, path: &str, status: u16, body: &Value| {
        let errors: Vec<String> = answer_validator(&doc, method, path, status)
            .iter_errors(body)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{method} {path}: {body} does not match: {errors:#?}"
        );
    };
    let send = |method: Method, path: &str, token: Option<&str>, body: Option<Value>| {
        let mut req = app.http.request(method, app.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        async move {
            let res = req.send().await.expect("request");
            let status = res.status().as_u16();
            (status, res.json::<Value>().await.expect("JSON"))
        }
    };
    let (s, v) = send(
        Method::POST,
        "/api/partners",
        Some(&planner),
        Some(
            json!({"code": "yayasan-a", "name": "Yayasan A", "type": "lsm",
                    "contact_email": "a@contoh.id"}),
        ),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    check("post", "/api/partners", 201, &v);
    for (token, path) in [
        (Some(planner.as_str()), "/api/partners"),
        (None, "/api/partners"),
    ] {
        let (s, v) = send(Method::GET, path, token, None).await;
        assert_eq!(s, 200);
        check("get", "/api/partners", 200, &v);
    }
    let (s, v) = send(Method::GET, "/api/partners/yayasan-a", Some(&planner), None).await;
    assert_eq!(s, 200);
    check("get", "/api/partners/{code}", 200, &v);
    let (s, v) = send(
        Method::POST,
        "/api/programs",
        Some(&planner),
        Some(
            json!({"code": "pelatihan-a", "partner_code": "yayasan-a", "name": "Pelatihan",
                    "type": "ukm", "start_date": "2025-07-01", "end_date": "2025-12-31",
                    "planned_beneficiaries": 40}),
        ),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    check("post", "/api/programs", 201, &v);
    let (s, v) = send(Method::GET, "/api/programs", None, None).await;
    assert_eq!(s, 200);
    assert_eq!(v["programs"].as_array().map(Vec::len), Some(1), "{v}");
    check("get", "/api/programs", 200, &v);
    let (s, v) = send(Method::GET, "/api/programs/pelatihan-a", None, None).await;
    assert_eq!(s, 200);
    check("get", "/api/programs/{code}", 200, &v);
    let (s, v) = send(
        Method::POST,
        "/api/progress",
        Some(&planner),
        Some(
            json!({"program_code": "pelatihan-a", "kelurahan_code": "32.73.01.1001",
                    "period": "month", "period_start": "2025-08-01", "participants": 12,
                    "participants_women": 7, "mentoring_sessions": 2, "note": "Kelas pagi"}),
        ),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    check("post", "/api/progress", 201, &v);
    let id = v["id"].as_i64().expect("id");
    // A site with a radius, inside kelurahan 32.73.01.1001 of the fixture.
    let (lon, lat) = crate::fixture::IN_SCOPE;
    let (s, v) = send(
        Method::POST,
        "/api/coverage",
        Some(&planner),
        Some(json!({"code": "cakupan-a", "program_code": "pelatihan-a",
                    "site": {"type": "Point", "coordinates": [lon, lat]}, "radius_m": 300})),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    check("post", "/api/coverage", 201, &v);
    for token in [Some(planner.as_str()), None] {
        let (s, v) = send(Method::GET, "/api/coverage", token, None).await;
        assert_eq!(s, 200);
        assert_eq!(v["features"].as_array().map(Vec::len), Some(1), "{v}");
        check("get", "/api/coverage", 200, &v);
        let (s, v) = send(Method::GET, "/api/coverage/cakupan-a", token, None).await;
        assert_eq!(s, 200);
        check("get", "/api/coverage/{code}", 200, &v);
    }
    for token in [Some(planner.as_str()), None] {
        let (s, v) = send(Method::GET, "/api/progress", token, None).await;
        assert_eq!(s, 200);
        check("get", "/api/progress", 200, &v);
        let (s, v) = send(Method::GET, &format!("/api/progress/{id}"), token, None).await;
        assert_eq!(s, 200);
        check("get", "/api/progress/{id}", 200, &v);
    }

    let (s, v) = send(Method::GET, "/api/auth/me", Some(&planner), None).await;
    assert_eq!(s, 200);
    check("get", "/api/auth/me", 200, &v);
    let (s, v) = send(
        Method::POST,
        "/api/auth/register",
        None,
        Some(json!({"username": "warga1", "password": "rahasia-sekali", "display_name": "Warga"})),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    check("post", "/api/auth/register", 201, &v);

    // The control: a member the schema does not list is refused.
    let mut extra = v.clone();
    extra["user"]["password_hash"] = json!("x");
    assert!(!answer_validator(&doc, "post", "/api/auth/register", 201).is_valid(&extra));
}

/// The documented request bodies of the routes that read their JSON field by field list exactly
/// the fields the handler accepts: every documented property passes the unknown-field check, and
/// a property the document does not list is refused by name.
#[tokio::test]
async fn documented_bodies_list_exactly_the_accepted_fields() {
    let app = spawn(|_| {}).await;
    let (_, doc) = document(&app).await;
    let (_, admin) = common::user(&app, "admin", "admin", None).await;
    let cases = [
        ("post", "/api/partners", "/api/partners"),
        ("patch", "/api/partners/{code}", "/api/partners/tidak-ada"),
        ("post", "/api/programs", "/api/programs"),
        ("patch", "/api/programs/{code}", "/api/programs/tidak-ada"),
        ("post", "/api/coverage", "/api/coverage"),
        ("patch", "/api/coverage/{code}", "/api/coverage/tidak-ada"),
        ("post", "/api/progress", "/api/progress"),
        ("patch", "/api/progress/{id}", "/api/progress/1"),
    ];
    for (method, path, url) in cases {
        let body = &doc["paths"][path][method]["requestBody"]["content"]["application/json"];
        let schema = resolve(&doc, &body["schema"]);
        let props: Vec<String> = schema["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("{method} {path}: {schema}"))
            .keys()
            .cloned()
            .collect();
        assert!(!props.is_empty());
        let send = |body: Value| {
            app.http
                .request(
                    Method::from_bytes(method.to_uppercase().as_bytes()).expect("method"),
                    app.url(url),
                )
                .bearer_auth(&admin)
                .header("Accept-Language", "en")
                .json(&body)
                .send()
        };
        for prop in &props {
            let res = send(json!({ prop: Value::Null })).await.expect("request");
            let text = res.text().await.expect("body");
            assert!(
                !text.contains(&format!("Unknown field {prop}")),
                "{method} {path} documents {prop}, which it refuses: {text}"
            );
        }
        let res = send(json!({"tidak_didokumentasikan": 1}))
            .await
            .expect("request");
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{path}");
        let v: Value = res.json().await.expect("JSON");
        assert_eq!(v["errors"][0]["field"], "tidak_didokumentasikan");
        // The accepted list the handler names is the documented one.
        let detail = v["detail"].as_str().expect("detail");
        let accepted: BTreeSet<&str> = detail
            .split("Accepted fields: ")
            .nth(1)
            .expect("the list of accepted fields")
            .trim_end_matches('.')
            .split(", ")
            .collect();
        let documented: BTreeSet<&str> = props.iter().map(String::as_str).collect();
        assert_eq!(accepted, documented, "{method} {path}");
    }
}
