//! The `sigap` command: serve, migrate, import, sample, user.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use sigap::config::{DbConfig, LogConfig, ServeConfig};
use sigap::import::{self, ImportOptions};
use sigap::{sample, store, AppState};

/// SIGAP: where the poverty-alleviation program reaches, and where it does not.
#[derive(Debug, Parser)]
#[command(name = "sigap", version, about)]
struct Cli {
    #[command(flatten)]
    db: DbConfig,
    #[command(flatten)]
    log: LogConfig,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API, the layers and the map over HTTP.
    Serve(ServeConfig),
    /// Apply the pending migrations of sql/migrations (a no-op when the schema is current).
    Migrate {
        /// Read migrations from this directory instead of the copies built into the binary.
        #[arg(long, env = "SIGAP_MIGRATIONS_DIR")]
        dir: Option<PathBuf>,
    },
    /// Import a vector file (GeoJSON, GeoPackage, Shapefile, KML, CSV ...) into a layer.
    Import {
        /// The file to read.
        file: PathBuf,
        /// Target layer: region, kecamatan, kelurahan, indicator, partner, program, coverage or proposal.
        #[arg(long)]
        layer: String,
        /// Source CRS (e.g. EPSG:32748), when the file declares none or declares it wrongly.
        #[arg(long)]
        srs: Option<String>,
        /// Field mapping target=source, repeatable (e.g. --map code=KODE_KEL).
        #[arg(long = "map", value_parser = import::parse_mapping)]
        map: Vec<(String, String)>,
        /// Which layer of a multi-layer source to read (default: the first).
        #[arg(long)]
        source_layer: Option<String>,
        /// Check everything and report, but write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Load the good features even when some are rejected.
        #[arg(long)]
        skip_invalid: bool,
    },
    /// Accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// The Bandung sample layers.
    Sample {
        #[command(subcommand)]
        command: SampleCommand,
    },
}

#[derive(Debug, Subcommand)]
enum SampleCommand {
    /// Load sample-layers/ through the import path.
    Load {
        /// Directory holding the sample files.
        #[arg(long, default_value = "sample-layers")]
        dir: PathBuf,
        /// Do nothing when kelurahan are already loaded.
        #[arg(long)]
        if_empty: bool,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create an account. Prints a one-time password, or with --password-stdin reads the
    /// password from the first line of standard input.
    Add {
        /// resident, moderator, planner, official or admin.
        #[arg(long)]
        role: String,
        /// Limit a moderator, planner or official to this kecamatan or kelurahan code.
        #[arg(long)]
        area: Option<String>,
        /// Display name (defaults to none).
        #[arg(long)]
        display_name: Option<String>,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
        /// The username.
        name: String,
    },
}

fn init_logging(cfg: &LogConfig) {
    let filter = EnvFilter::try_new(&cfg.log).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if cfg.log_format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli.log);
    match run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let pool = store::pool(&cli.db)?;
    match cli.command {
        Command::Serve(cfg) => {
            let addr = cfg.addr;
            let app = sigap::app(AppState::new(pool, &cli.db, cfg));
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on {addr}"))?;
            tracing::info!(%addr, "SIGAP is serving");
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .with_graceful_shutdown(shutdown_signal())
            .await?;
            tracing::info!("stopped");
        }
        Command::Migrate { dir } => {
            let mut client = pool.get().await.context("cannot connect to the database")?;
            let report = store::migrate::run(&mut client, dir.as_deref()).await?;
            if report.applied.is_empty() {
                println!(
                    "schema is current (version {}); nothing to apply",
                    store::migrate::latest_version()
                );
            } else {
                for file in &report.applied {
                    println!("applied {file}");
                }
            }
        }
        Command::Import {
            file,
            layer,
            srs,
            map,
            source_layer,
            dry_run,
            skip_invalid,
        } => {
            let opts = ImportOptions {
                srs,
                map,
                source_layer,
                dry_run,
                skip_invalid,
                progress: true,
            };
            let report = import::import_file(&pool, &file, &layer, &opts).await?;
            println!("{report}");
            if !report.committed && !report.dry_run {
                return Ok(ExitCode::from(2));
            }
        }
        Command::User {
            command:
                UserCommand::Add {
                    role,
                    area,
                    display_name,
                    password_stdin,
                    name,
                },
        } => {
            let password = if password_stdin {
                let mut line = String::new();
                std::io::stdin()
                    .read_line(&mut line)
                    .context("reading the password from stdin")?;
                Some(line.trim_end_matches(['\r', '\n']).to_owned())
            } else {
                None
            };
            let added = sigap::accounts::add_user(
                &pool,
                &name,
                &role,
                area.as_deref(),
                display_name,
                password,
            )
            .await?;
            println!(
                "created {} (id {}, role {}{})",
                added.user.username,
                added.user.id,
                added.user.role,
                added
                    .user
                    .area_code
                    .as_deref()
                    .map(|a| format!(", area {a}"))
                    .unwrap_or_default()
            );
            if let Some(pw) = added.generated_password {
                println!("one-time password: {pw}");
            }
        }
        Command::Sample {
            command: SampleCommand::Load { dir, if_empty },
        } => {
            if if_empty && !sample::is_empty(&pool).await? {
                println!(
                    "sample not loaded: kelurahan are already present (drop --if-empty to reload)"
                );
                return Ok(ExitCode::SUCCESS);
            }
            for report in sample::load(&pool, &dir, true).await? {
                println!("{report}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
