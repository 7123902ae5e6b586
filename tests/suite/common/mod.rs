//! Test harness: every test gets its own database, cloned from a migrated template
//! (`CREATE DATABASE … TEMPLATE`), and its own running app on a free port. Tests never touch the
//! `sigap` database that the run command uses.
//!
//! Two templates exist per schema: `…_base` (migrated, empty) and `…_sample` (with the Bandung
//! sample loaded). Their names carry a hash of the migrations, the sample files and the import
//! queries, so a change to any of them builds fresh templates; the first test that needs one
//! builds it under an advisory lock while the others wait.

#![allow(dead_code)]

pub mod cluster;
pub mod mvt;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use sha2::{Digest, Sha256};
use sigap::config::{DbConfig, ServeConfig};
use sigap::AppState;
use tokio_postgres::NoTls;

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The admin connection string (a database other than the ones tests create).
fn admin_url() -> String {
    std::env::var("SIGAP_TEST_DATABASE_URL").unwrap_or_else(|_| "dbname=postgres".to_owned())
}

pub fn db_config(dbname: &str) -> DbConfig {
    let mut cfg: tokio_postgres::Config = admin_url().parse().expect("SIGAP_TEST_DATABASE_URL");
    cfg.dbname(dbname);
    // Rebuild as key=value so DbConfig fills the same socket/user defaults.
    let mut parts = vec![format!("dbname={dbname}")];
    if let Some(user) = cfg.get_user() {
        parts.push(format!("user={user}"));
    }
    for host in cfg.get_hosts() {
        match host {
            tokio_postgres::config::Host::Tcp(h) => parts.push(format!("host={h}")),
            tokio_postgres::config::Host::Unix(p) => parts.push(format!("host={}", p.display())),
        }
    }
    if let Some(port) = cfg.get_ports().first() {
        parts.push(format!("port={port}"));
    }
    DbConfig {
        database_url: parts.join(" "),
        pool_size: 8,
    }
}

async fn admin() -> tokio_postgres::Client {
    let cfg = db_config("postgres").pg_config().expect("admin config");
    let (client, conn) = cfg
        .connect(NoTls)
        .await
        .expect("connect to the admin database");
    tokio::spawn(conn);
    client
}

fn hash_files(hasher: &mut Sha256, dir: &Path) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    entries.sort();
    for path in entries {
        if path.is_file() {
            hasher.update(path.file_name().unwrap().to_string_lossy().as_bytes());
            hasher.update(std::fs::read(&path).unwrap_or_default());
        }
    }
}

fn template_prefix() -> String {
    let mut h = Sha256::new();
    let root = repo_root();
    hash_files(&mut h, &root.join("sql/migrations"));
    hash_files(&mut h, &root.join("sql/queries"));
    hash_files(&mut h, &root.join("sample-layers"));
    let digest = hex::encode(h.finalize());
    format!("sigap_tmpl_{}", &digest[..12])
}

async fn exists(client: &tokio_postgres::Client, db: &str) -> bool {
    client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)",
            &[&db],
        )
        .await
        .expect("pg_database")
        .get(0)
}

fn quote(db: &str) -> String {
    format!("\"{}\"", db.replace('"', "\"\""))
}

/// Makes sure the template exists, building it once under an advisory lock.
async fn ensure_template(with_sample: bool) -> String {
    let name = format!(
        "{}_{}",
        template_prefix(),
        if with_sample { "sample" } else { "base" }
    );
    let client = admin().await;
    if exists(&client, &name).await {
        return name;
    }
    client
        .execute("SELECT pg_advisory_lock(hashtext($1))", &[&name])
        .await
        .expect("advisory lock");
    if !exists(&client, &name).await {
        let building = format!("{name}_build");
        client
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                quote(&building)
            ))
            .await
            .expect("drop stale build");
        if with_sample {
            let base = Box::pin(ensure_template(false)).await;
            client
                .batch_execute(&format!(
                    "CREATE DATABASE {} TEMPLATE {}",
                    quote(&building),
                    quote(&base)
                ))
                .await
                .expect("clone base template");
            let pool = sigap::store::pool(&db_config(&building)).expect("pool");
            sigap::sample::load(&pool, &repo_root().join("sample-layers"), false)
                .await
                .expect("load the sample into the template");
            pool.close();
        } else {
            client
                .batch_execute(&format!("CREATE DATABASE {}", quote(&building)))
                .await
                .expect("create template");
            let cfg = db_config(&building).pg_config().expect("config");
            let (mut c, conn) = cfg.connect(NoTls).await.expect("connect template");
            let handle = tokio::spawn(conn);
            sigap::store::migrate::run(&mut c, None)
                .await
                .expect("migrate template");
            drop(c);
            let _ = handle.await;
        }
        client
            .batch_execute(&format!(
                "ALTER DATABASE {} RENAME TO {}",
                quote(&building),
                quote(&name)
            ))
            .await
            .expect("publish template");
    }
    client
        .execute("SELECT pg_advisory_unlock(hashtext($1))", &[&name])
        .await
        .expect("advisory unlock");
    name
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A database of this test's own, dropped when the value is dropped.
pub struct TestDb {
    pub name: String,
    pub config: DbConfig,
}

impl TestDb {
    pub async fn new(with_sample: bool) -> TestDb {
        let template = ensure_template(with_sample).await;
        Self::create(&format!("TEMPLATE {}", quote(&template))).await
    }

    /// A database with nothing in it, not even the schema.
    pub async fn blank() -> TestDb {
        Self::create("").await
    }

    async fn create(template_clause: &str) -> TestDb {
        let name = format!(
            "sigap_test_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        let client = admin().await;
        client
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                quote(&name)
            ))
            .await
            .expect("drop leftover");
        client
            .batch_execute(&format!(
                "CREATE DATABASE {} {template_clause}",
                quote(&name)
            ))
            .await
            .expect("create test database");
        TestDb {
            config: db_config(&name),
            name,
        }
    }

    /// `DATABASE_URL` for a `sigap` child process.
    pub fn url(&self) -> String {
        self.config.database_url.clone()
    }

    pub fn pool(&self) -> deadpool_postgres::Pool {
        sigap::store::pool(&self.config).expect("pool")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Dropping needs async I/O; do it on a thread of its own so it works from any runtime.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(rt) = rt {
                rt.block_on(async {
                    let client = admin().await;
                    let _ = client
                        .batch_execute(&format!(
                            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                            quote(&name)
                        ))
                        .await;
                });
            }
        })
        .join();
    }
}

/// The app running on its own database and port.
pub struct TestApp {
    pub addr: SocketAddr,
    pub base: String,
    pub pool: deadpool_postgres::Pool,
    pub db: TestDb,
    pub http: reqwest::Client,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// GETs `path` anonymously and reads the body as JSON.
    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        self.http
            .get(self.url(path))
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("a JSON body")
    }

    /// GETs `path` anonymously and reads the body as text.
    pub async fn get_text(&self, path: &str) -> String {
        self.http
            .get(self.url(path))
            .send()
            .await
            .expect("request")
            .text()
            .await
            .expect("a text body")
    }

    /// GETs `path` anonymously and reads the body as bytes.
    pub async fn get_bytes(&self, path: &str) -> Vec<u8> {
        self.http
            .get(self.url(path))
            .send()
            .await
            .expect("request")
            .bytes()
            .await
            .expect("a body")
            .to_vec()
    }
}

pub async fn spawn_app(with_sample: bool) -> TestApp {
    serve(TestDb::new(with_sample).await).await
}

/// Runs the app on the given database.
pub async fn serve(db: TestDb) -> TestApp {
    serve_with(db, |_| {}).await
}

/// Runs the app on the given database, with `tune` applied to the default test config.
pub async fn serve_with(db: TestDb, tune: impl FnOnce(&mut ServeConfig)) -> TestApp {
    let pool = db.pool();
    let mut config = ServeConfig {
        static_dir: repo_root().join("map-ui/dist"),
        // Off unless a test asks: a background run would race tests that count or pick runs.
        live_gap: false,
        ..ServeConfig::default()
    };
    tune(&mut config);
    let app = sigap::app(AppState::new(pool.clone(), &db.config, config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .expect("serve");
    });
    TestApp {
        addr,
        base: format!("http://{addr}"),
        pool,
        db,
        http: reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .expect("client"),
    }
}

/// Runs the real `sigap` binary against `db`.
pub async fn sigap_cli(db: &TestDb, args: &[&str]) -> std::process::Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_sigap"))
        .args(args)
        .env("DATABASE_URL", db.url())
        .env("SIGAP_LOG", "warn")
        .current_dir(repo_root())
        .output()
        .await
        .expect("run sigap")
}

/// Runs a GDAL command-line tool (ogrinfo, ogr2ogr) as a user would.
pub async fn gdal_tool(tool: &str, args: &[&str]) -> std::process::Output {
    tokio::process::Command::new(tool)
        .args(args)
        .output()
        .await
        .unwrap_or_else(|e| panic!("run {tool}: {e}"))
}

pub async fn count(pool: &deadpool_postgres::Pool, sql: &str) -> i64 {
    let client = pool.get().await.expect("client");
    client.query_one(sql, &[]).await.expect("count").get(0)
}

/// The password of every account the tests make in SQL.
pub const PASSWORD: &str = "rahasia-uji-123";

/// The argon2id hash of [`PASSWORD`], computed once per test binary.
pub fn password_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| sigap::domain::credentials::hash_password(PASSWORD).expect("hash"))
}

/// Creates an account in SQL and returns (id, bearer token).
pub async fn user(app: &TestApp, username: &str, role: &str, area: Option<&str>) -> (i64, String) {
    let client = app.pool.get().await.expect("client");
    let id: i64 = client
        .query_one(
            "INSERT INTO app_user (username, password_hash, role, area_code, display_name)
             VALUES ($1, $2, $3, $4, $1) RETURNING id",
            &[&username, &password_hash(), &role, &area],
        )
        .await
        .expect("insert user")
        .get(0);
    let token = format!("tok-{username}-{id}");
    client
        .execute(
            "INSERT INTO api_token (user_id, name, token_hash) VALUES ($1, 'test', sha256(convert_to($2, 'UTF8')))",
            &[&id, &token],
        )
        .await
        .expect("insert token");
    (id, token)
}
