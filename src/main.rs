//! The `sigap` command: serve, migrate, import, sample, user, gap, budget.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use axum::serve::ListenerExt as _;
use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use sigap::analysis::{gap, run as gap_run};
use sigap::config::{DbConfig, LogConfig, ServeConfig};
use sigap::domain::{PartnerType, ProgramType};
use sigap::import::{self, export, ImportOptions};
use sigap::store::gap::ExportTable;
use sigap::{sample, store, AppState};

/// mimalloc: every request allocates a little on several threads, where glibc's allocator spent
/// about a tenth of the warm tile path (docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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

/// Thresholds of the boundary quality report.
#[derive(Debug, clap::Args)]
struct QualityArgs {
    /// Holes between boundaries up to this size (m²) are reported as slivers.
    #[arg(long, default_value_t = 10_000.0)]
    sliver_max_m2: f64,
    /// Parts outside the parent smaller than this (m²) are counted, not listed.
    #[arg(long, default_value_t = 1.0)]
    outside_min_m2: f64,
}

impl QualityArgs {
    fn options(&self) -> store::quality::QualityOptions {
        store::quality::QualityOptions {
            sliver_max_m2: self.sliver_max_m2,
            outside_min_m2: self.outside_min_m2,
        }
    }
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
        /// Target layer: region, kecamatan, kelurahan, indicator, partner, program, coverage,
        /// proposal or population (weights for the gap analysis).
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
        #[command(flatten)]
        quality: QualityArgs,
        /// Who to credit for this data, shown wherever the layer is served or exported
        /// (e.g. "© OpenStreetMap contributors"). Needs --license.
        #[arg(long, requires = "license")]
        attribution: Option<String>,
        /// The data's licence (e.g. ODbL-1.0, MIT, CC-BY-4.0). Needs --attribution.
        #[arg(long, requires = "attribution")]
        license: Option<String>,
        /// A link to the licence text.
        #[arg(long, requires = "license")]
        license_url: Option<String>,
        /// Most vertices one feature may have (default 1,000,000); larger ones are rejected.
        #[arg(long)]
        max_vertices: Option<usize>,
    },
    /// Report what is wrong with the loaded boundaries (region, kecamatan, kelurahan): overlaps
    /// between neighbours, slivers and holes, parts outside the parent. Exit 0 either way.
    Check {
        /// One boundary layer (default: all three).
        #[arg(long)]
        layer: Option<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        quality: QualityArgs,
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
    /// The gap analysis: where the program does not reach the people who need it.
    Gap {
        #[command(subcommand)]
        command: GapCommand,
    },
    /// Budget prioritisation: which verified proposals to fund.
    Budget {
        #[command(subcommand)]
        command: BudgetCommand,
    },
    /// Write the whole database to FILE (pg_dump custom format); see docs/operations.md.
    Backup {
        /// The backup file to write.
        file: PathBuf,
    },
    /// Load a backup made by `sigap backup` into an empty database, in one transaction.
    Restore {
        /// The backup file to read.
        file: PathBuf,
    },
    /// Print the OpenAPI 3.1 document of /api (the one `sigap serve` answers at
    /// /api/openapi.json) to standard output; needs no database.
    Openapi,
}

#[derive(Debug, Subcommand)]
enum BudgetCommand {
    /// Solve a scenario file against the database (nothing is stored) and print the funded
    /// list and the reason for every unfunded proposal. The file holds the scenario parameters
    /// (docs/budget.md), or `{name, area_code, params}`.
    Solve {
        /// The scenario JSON file.
        scenario: PathBuf,
        /// Only candidates inside this kecamatan or kelurahan (overrides the file's area_code).
        #[arg(long)]
        area: Option<String>,
        /// Also write the result to a file: .csv or .xlsx.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum GapCommand {
    /// Run the analysis, store it, print its id and summary.
    Run {
        /// Programs and coverage active on this date (default: today).
        #[arg(long)]
        as_of: Option<chrono::NaiveDate>,
        /// Only programs of this type (e.g. pendampingan).
        #[arg(long, value_parser = parse_program_type)]
        program_type: Option<ProgramType>,
        /// Only programs of partners of this type (e.g. lsm).
        #[arg(long, value_parser = parse_partner_type)]
        partner_type: Option<PartnerType>,
        /// Hexagon edge length in metres (equal-area ESRI:54034); default: the deployment's
        /// (`sigap gap cell-size`).
        #[arg(long)]
        cell_m: Option<f64>,
        /// Months after a training within which pendampingan should follow.
        #[arg(long, default_value_t = gap::DEFAULT_FOLLOWUP_MONTHS)]
        followup_months: u32,
        /// Also write the results to a file: .csv or .geojson (per kelurahan) or .gpkg (layers
        /// gap_kelurahan, gap_kecamatan, gap_cells).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Show or set the hexagon edge of the default (public, live) analysis: a size in metres,
    /// or `auto` for the one the region calls for (500 m for a city, 2 km for the country).
    CellSize {
        /// Metres (50 to 50000) or `auto`; without it, prints the current size.
        size: Option<String>,
    },
    /// List the kelurahan that gained or lost coverage between run A and run B.
    Compare {
        a: i64,
        b: i64,
        /// Smallest change of the covered fraction to list (0.001 = 0.1 percentage point).
        #[arg(long, default_value_t = 0.001)]
        min_delta: f64,
    },
}

fn parse_program_type(s: &str) -> Result<ProgramType, String> {
    ProgramType::parse(s).ok_or_else(|| format!("one of {}", ProgramType::ALL.join(", ")))
}

fn parse_partner_type(s: &str) -> Result<PartnerType, String> {
    PartnerType::parse(s).ok_or_else(|| format!("one of {}", PartnerType::ALL.join(", ")))
}

#[derive(Debug, Subcommand)]
enum SampleCommand {
    /// Load sample-layers/ through the import path, then run the default gap analysis (as of
    /// today) so the gap map is never empty.
    Load {
        /// Directory holding the sample files.
        #[arg(long, default_value = "sample-layers")]
        dir: PathBuf,
        /// Do nothing when kelurahan are already loaded.
        #[arg(long)]
        if_empty: bool,
        /// Skip the default gap analysis run.
        #[arg(long)]
        no_gap: bool,
    },
    /// Generate a synthetic city of any size (benchmarks, gap analysis at scale).
    Scale {
        /// Number of kelurahan (villages), tiling the region.
        #[arg(long, default_value_t = 10_000)]
        villages: i32,
        /// Number of proposals, clustered; about 60% in public statuses.
        #[arg(long, default_value_t = 100_000)]
        proposals: i32,
        /// Number of coverage areas (sites with a radius, or villages).
        #[arg(long, default_value_t = 2_000)]
        coverage: i32,
        /// Seed of the generator: the same seed gives the same city.
        #[arg(long, default_value_t = 1)]
        seed: i64,
        /// Delete existing areas, indicators, programs, coverage and proposals first.
        #[arg(long)]
        replace: bool,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create an account. Prints a one-time password, or with --password-stdin reads the
    /// password from the first line of standard input.
    Add {
        /// resident, moderator, planner, official, admin or mitra (partner staff).
        #[arg(long)]
        role: String,
        /// Limit a moderator, planner or official to this kecamatan or kelurahan code.
        #[arg(long)]
        area: Option<String>,
        /// The partner (code) a mitra account works for; required with --role mitra.
        #[arg(long)]
        partner: Option<String>,
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
    // The only command without a database.
    if let Command::Openapi = cli.command {
        println!("{}", sigap::api::openapi::document_json());
        return Ok(ExitCode::SUCCESS);
    }
    let pool = store::pool(&cli.db)?;
    match cli.command {
        Command::Serve(cfg) => {
            let addr = cfg.addr;
            let state = AppState::new(pool.clone(), &cli.db, cfg);
            let gap_events = state.gap_events.clone();
            let app = sigap::app(state);
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on {addr}"))?
                // Answers go out at once, not held back by Nagle's algorithm behind the client's
                // delayed ACK (a tile or a small JSON answer is one write).
                .tap_io(|tcp| {
                    if let Err(e) = tcp.set_nodelay(true) {
                        tracing::debug!(error = %e, "TCP_NODELAY not set");
                    }
                });
            tracing::info!(%addr, "SIGAP is serving");
            // On SIGTERM/SIGINT: stop accepting, let requests in flight finish for at most
            // SHUTDOWN_GRACE, then close the pool and exit.
            let (stopping_tx, mut stopping) = tokio::sync::watch::channel(false);
            let server = axum::serve(
                listener,
                app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .with_graceful_shutdown(async move {
                shutdown_signal().await;
                // Event streams never end by themselves: end them so shutdown need not wait.
                gap_events.close();
                let _ = stopping_tx.send(true);
            });
            let grace = async {
                let _ = stopping.wait_for(|s| *s).await;
                tokio::time::sleep(SHUTDOWN_GRACE).await;
            };
            tokio::select! {
                served = server => served?,
                () = grace => tracing::warn!(
                    grace_s = SHUTDOWN_GRACE.as_secs(),
                    "requests still in flight after the grace period; stopping anyway"
                ),
            }
            pool.close();
            tracing::info!("stopped");
        }
        Command::Openapi => unreachable!("answered above"),
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
            quality,
            attribution,
            license,
            license_url,
            max_vertices,
        } => {
            let source = match (attribution, license) {
                (Some(attribution), Some(license)) => Some(import::Source {
                    attribution,
                    license,
                    license_url,
                }),
                _ => None,
            };
            let opts = ImportOptions {
                source,
                srs,
                map,
                source_layer,
                dry_run,
                skip_invalid,
                progress: true,
                quality: quality.options(),
                max_vertices,
            };
            let report = import::import_file(&pool, &file, &layer, &opts).await?;
            println!("{report}");
            if !report.committed && !report.dry_run {
                return Ok(ExitCode::from(2));
            }
        }
        Command::Check {
            layer,
            json,
            quality,
        } => {
            let layers: Vec<store::quality::BoundaryLayer> = match layer.as_deref() {
                None => store::quality::BOUNDARY_LAYERS.to_vec(),
                Some(name) => vec![store::quality::boundary_layer(name).with_context(|| {
                    format!(
                        "'{name}' is not a boundary layer: choose region, kecamatan or kelurahan"
                    )
                })?],
            };
            let client = pool.get().await.context("connecting to the database")?;
            let mut reports = Vec::new();
            for l in layers {
                reports.push(store::quality::check(&**client, l, None, quality.options()).await?);
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&reports)?);
            } else {
                for r in &reports {
                    print!("{r}");
                }
            }
        }
        Command::User {
            command:
                UserCommand::Add {
                    role,
                    area,
                    partner,
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
                partner.as_deref(),
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
                    + &added
                        .user
                        .partner_code
                        .as_deref()
                        .map(|p| format!(", partner {p}"))
                        .unwrap_or_default()
            );
            if let Some(pw) = added.generated_password {
                println!("one-time password: {pw}");
            }
        }
        Command::Sample {
            command:
                SampleCommand::Scale {
                    villages,
                    proposals,
                    coverage,
                    seed,
                    replace,
                },
        } => {
            let started = std::time::Instant::now();
            let opts = store::scale::ScaleOptions {
                villages,
                proposals,
                coverage,
                seed,
                replace,
            };
            let r = store::scale::generate(&pool, opts).await?;
            println!(
                "generated {} kecamatan, {} kelurahan, {} coverage areas, {} proposals ({} public) in {:.1} s",
                r.kecamatan,
                r.kelurahan,
                r.coverage,
                r.proposals,
                r.public_proposals,
                started.elapsed().as_secs_f64()
            );
        }
        Command::Sample {
            command:
                SampleCommand::Load {
                    dir,
                    if_empty,
                    no_gap,
                },
        } => {
            let loaded = if if_empty && !sample::is_empty(&pool).await? {
                println!(
                    "sample not loaded: kelurahan are already present (drop --if-empty to reload)"
                );
                false
            } else {
                for report in sample::load(&pool, &dir, true).await? {
                    println!("{}", report.summary());
                    if let Some(q) = &report.quality {
                        println!("  {} (details: sigap check)", q.headline());
                    }
                }
                true
            };
            // A fresh load gets today's analysis; an existing database only when it has none,
            // so the gap map is never empty.
            let wanted = loaded || store::gap::latest_default_run(&pool).await?.is_none();
            if !no_gap && wanted {
                let params = gap::GapParams::defaults(
                    chrono::Local::now().date_naive(),
                    store::gap::default_cell_m(&pool).await?,
                );
                let outcome = gap_run::run(&pool, &params, &|_, _| {}).await?;
                println!(
                    "default gap analysis: run {} as of {}",
                    outcome.id, params.as_of
                );
            }
        }
        Command::Gap { command } => return run_gap(&pool, command).await,
        Command::Backup { file } => {
            store::backup::backup(&cli.db, &file).await?;
            println!("backup written to {}", file.display());
        }
        Command::Restore { file } => {
            let client = pool.get().await.context("cannot connect to the database")?;
            store::backup::restore(&cli.db, &client, &file).await?;
            println!("restored {}", file.display());
        }
        Command::Budget {
            command:
                BudgetCommand::Solve {
                    scenario,
                    area,
                    out,
                },
        } => return budget_solve(&pool, &scenario, area, out.as_deref()).await,
    }
    Ok(ExitCode::SUCCESS)
}

async fn budget_solve(
    pool: &deadpool_postgres::Pool,
    file: &std::path::Path,
    area: Option<String>,
    out: Option<&std::path::Path>,
) -> anyhow::Result<ExitCode> {
    use sigap::analysis::budget::plan::{self, PlanError, ScenarioParams};
    use sigap::analysis::budget::{export, SolveOptions};

    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", file.display()))?;
    let (name, file_area, params) = match value.get("params") {
        Some(p) => (
            value
                .get("name")
                .and_then(|v| v.as_str())
                .map(str::to_owned),
            value
                .get("area_code")
                .and_then(|v| v.as_str())
                .map(str::to_owned),
            p.clone(),
        ),
        None => (None, None, value),
    };
    let params: ScenarioParams = serde_json::from_value(params)
        .with_context(|| format!("{}: the scenario parameters do not fit", file.display()))?;
    let name = name.unwrap_or_else(|| file.display().to_string());
    let area = area.or(file_area);
    let client = pool.get().await.context("cannot connect to the database")?;
    let e = match plan::evaluate(&client, area.as_deref(), &params, &SolveOptions::default()).await
    {
        Ok(e) => e,
        Err(PlanError::Store(s)) => return Err(s.into()),
        Err(other) => {
            eprintln!("scenario cannot be solved: {other}");
            return Ok(ExitCode::from(2));
        }
    };
    let a = &e.allocation;
    println!(
        "scenario {name}: method {}, budget {} IDR, spent {} IDR, total priority {:.2}, {} funded, {} unfunded, equity distance {:.3}",
        serde_json::to_value(a.method)?.as_str().unwrap_or_default(),
        a.budget_idr,
        a.spent_idr,
        a.objective,
        a.funded.len(),
        a.unfunded.len(),
        e.equity.distance
    );
    println!("funded:");
    for p in e.proposals.iter().filter(|p| p.funded == Some(true)) {
        println!(
            "  {:>6} {:<12} {} {:<16} {:>15} IDR  score {:>6.2}  {}",
            p.id,
            p.tracking_code,
            p.kecamatan_code,
            p.category,
            p.estimated_cost_idr.unwrap_or(0),
            p.score.score,
            p.title
        );
    }
    println!("unfunded:");
    for p in e.proposals.iter().filter(|p| p.funded == Some(false)) {
        let reason = p
            .reason
            .and_then(|r| serde_json::to_value(r).ok())
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        println!(
            "  {:>6} {:<12} {} {:<16} score {:>6.2}  {reason}",
            p.id, p.tracking_code, p.kecamatan_code, p.category, p.score.score
        );
    }
    if let Some(out) = out {
        let ext = out
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        let bytes = match ext.as_deref() {
            Some("csv") => export::to_csv(&e).into_bytes(),
            Some("xlsx") => export::to_xlsx(&e, &name)?,
            _ => anyhow::bail!("--out must end in .csv or .xlsx"),
        };
        std::fs::write(out, bytes).with_context(|| format!("cannot write {}", out.display()))?;
        println!("wrote {}", out.display());
    }
    Ok(ExitCode::SUCCESS)
}

async fn run_gap(pool: &deadpool_postgres::Pool, command: GapCommand) -> anyhow::Result<ExitCode> {
    match command {
        GapCommand::Run {
            as_of,
            program_type,
            partner_type,
            cell_m,
            followup_months,
            out,
        } => {
            let format = match &out {
                Some(path) => Some(export::Format::from_path(path).with_context(|| {
                    format!("{}: use a .csv, .geojson or .gpkg name", path.display())
                })?),
                None => None,
            };
            let cell_m = match cell_m {
                Some(m) => m,
                None => store::gap::default_cell_m(pool).await?,
            };
            let params = gap::GapParams {
                as_of: as_of.unwrap_or_else(|| chrono::Local::now().date_naive()),
                program_type,
                partner_type,
                cell_m,
                followup_months,
                weights: gap::Weights::default(),
            };
            if let Err(why) = params.check() {
                anyhow::bail!("{why}");
            }
            let bar = indicatif::ProgressBar::new(0).with_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} gap analysis {bar:30} {percent:>3}% {elapsed}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            let started = std::time::Instant::now();
            let outcome = gap_run::run(pool, &params, &|done, total| {
                bar.set_length(total);
                bar.set_position(done);
            })
            .await?;
            bar.finish_and_clear();
            println!(
                "gap run {} saved in {:.2} s",
                outcome.id,
                started.elapsed().as_secs_f64()
            );
            println!("{}", serde_json::to_string_pretty(&outcome.summary)?);
            if let Some(failures) = outcome.summary["failures"].as_array() {
                for f in failures {
                    eprintln!(
                        "warning: kelurahan {} left out of run {}: {}",
                        f["kelurahan_code"].as_str().unwrap_or("?"),
                        outcome.id,
                        f["message"].as_str().unwrap_or("?")
                    );
                }
            }
            if let (Some(path), Some(format)) = (out, format) {
                let tables: &[ExportTable] = if format.multi_layer() {
                    &[
                        ExportTable::Kelurahan,
                        ExportTable::Kecamatan,
                        ExportTable::Cells,
                    ]
                } else {
                    &[ExportTable::Kelurahan]
                };
                let mut layers = Vec::new();
                for table in tables {
                    let rows = store::gap::export_rows(pool, outcome.id, *table).await?;
                    layers.push((table.layer_name(), rows));
                }
                let target = path.clone();
                tokio::task::spawn_blocking(move || export::write(&target, &layers)).await??;
                println!("wrote {}", path.display());
            }
        }
        GapCommand::CellSize { size } => {
            if let Some(size) = size {
                let cell_m = match size.trim() {
                    "auto" => None,
                    m => match m.parse::<f64>() {
                        Ok(m) if (50.0..=50_000.0).contains(&m) => Some(m),
                        _ => anyhow::bail!("the size must be from 50 to 50000 metres, or auto"),
                    },
                };
                store::gap::set_default_cell_m(pool, cell_m).await?;
            }
            println!(
                "default hexagon edge: {} m",
                store::gap::default_cell_m(pool).await?
            );
        }
        GapCommand::Compare { a, b, min_delta } => {
            for id in [a, b] {
                if store::gap::get_run(pool, id).await?.is_none() {
                    anyhow::bail!("there is no gap run {id}");
                }
            }
            let changes = store::gap::compare(pool, a, b, min_delta).await?;
            println!("kelurahan_code,covered_pct_a,covered_pct_b,change_pct_points");
            for c in &changes {
                println!(
                    "{},{:.2},{:.2},{:+.2}",
                    c.kelurahan_code,
                    c.covered_fraction_a * 100.0,
                    c.covered_fraction_b * 100.0,
                    c.delta * 100.0
                );
            }
            eprintln!(
                "{} kelurahan gained, {} lost coverage",
                changes.iter().filter(|c| c.delta > 0.0).count(),
                changes.iter().filter(|c| c.delta < 0.0).count()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// How long requests in flight may take to finish after SIGTERM.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(20);

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
