//! Throwaway PostgreSQL clusters for the fault and fleet tests (`pg_createcluster` from Debian's
//! postgresql-common), and what those tests share around them: running a command, a free port,
//! an HTTP client that never hangs, the sigap database with the two-kelurahan fixture.
//! The main cluster is never touched.

use std::time::Duration;

use tokio_postgres::NoTls;

/// The PostgreSQL major version whose tools make the clusters.
pub const VERSION: &str = "15";

/// Runs `args[0]` with the rest as arguments and waits for it.
pub fn run(args: &[&str]) -> std::process::Output {
    std::process::Command::new(args[0])
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", args[0]))
}

/// [`run`], failing the test with the command's output unless it succeeded.
pub fn run_ok(args: &[&str]) {
    let out = run(args);
    assert!(
        out.status.success(),
        "{args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One throwaway cluster; dropped (stopped and deleted) when this goes out of scope.
pub struct Cluster {
    pub name: &'static str,
    pub port: u16,
}

impl Cluster {
    /// A new empty cluster, not started. A leftover of an interrupted run goes first.
    pub fn create(name: &'static str, port: u16) -> Cluster {
        let _ = run(&["pg_dropcluster", "--stop", VERSION, name]);
        let port_arg = port.to_string();
        run_ok(&[
            "pg_createcluster",
            VERSION,
            name,
            "--port",
            &port_arg,
            "--",
            "--auth=trust",
        ]);
        Cluster { name, port }
    }

    /// A new cluster, started.
    pub fn started(name: &'static str, port: u16) -> Cluster {
        let cluster = Cluster::create(name, port);
        cluster.start();
        cluster
    }

    pub fn data_dir(&self) -> String {
        format!("/var/lib/postgresql/{VERSION}/{}", self.name)
    }

    pub fn start(&self) {
        run_ok(&["pg_ctlcluster", VERSION, self.name, "start"]);
    }

    /// Stops with `mode` (`fast`: clients disconnected, a clean shutdown; `immediate`: as a crash).
    pub fn stop(&self, mode: &str) {
        run_ok(&["pg_ctlcluster", VERSION, self.name, "stop", "-m", mode]);
    }

    pub async fn connect(&self, dbname: &str) -> tokio_postgres::Client {
        connect(self.port, dbname).await
    }

    /// The database `sigap`: PostGIS, every migration and the two-kelurahan fixture region
    /// ([`crate::fixture::AREAS`]). Returns a connection to it.
    pub async fn sigap_database(&self) -> tokio_postgres::Client {
        self.connect("postgres")
            .await
            .batch_execute("CREATE DATABASE sigap")
            .await
            .expect("create database");
        let mut client = self.connect("sigap").await;
        client
            .batch_execute("CREATE EXTENSION postgis")
            .await
            .expect("postgis");
        sigap::store::migrate::run(&mut client, None)
            .await
            .expect("migrate");
        client
            .batch_execute(crate::fixture::AREAS)
            .await
            .expect("areas");
        client
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = run(&["pg_dropcluster", "--stop", VERSION, self.name]);
    }
}

/// A connection string for `dbname` on the test cluster at `port`, as `application_name` `app`.
pub fn url(port: u16, dbname: &str, app: &str) -> String {
    format!(
        "host=/var/run/postgresql port={port} user=postgres dbname={dbname} application_name={app}"
    )
}

pub async fn connect(port: u16, dbname: &str) -> tokio_postgres::Client {
    let cfg: tokio_postgres::Config = url(port, dbname, "sigap-test").parse().expect("config");
    let (client, conn) = cfg.connect(NoTls).await.expect("connect to a test cluster");
    tokio::spawn(conn);
    client
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// An HTTP client that gives up after 30 s, so a hang fails the test instead of stalling it.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

/// The path of the `layer` tile holding `at` at zoom `z`.
pub fn tile_path(layer: &str, z: u32, at: (f64, f64)) -> String {
    let (z, x, y) = super::mvt::tile_of(at.0, at.1, z);
    format!("/tiles/{layer}/{z}/{x}/{y}.mvt")
}
