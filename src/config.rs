//! One typed configuration: `DATABASE_URL` and `SIGAP_*` environment variables over defaults.
//!
//! Every field is a clap argument with an `env` name, so `sigap serve --help` documents each
//! setting, and the README lists the same table.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

/// Where the database is. Shared by every subcommand.
#[derive(Debug, Clone, Args)]
pub struct DbConfig {
    /// PostgreSQL connection string (URL or `key=value` form). A missing host means the local
    /// server through its socket (/var/run/postgresql); a missing user means the OS user.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "dbname=sigap",
        global = true
    )]
    pub database_url: String,

    /// Maximum connections in the pool.
    #[arg(long, env = "SIGAP_POOL_SIZE", default_value_t = 16, global = true)]
    pub pool_size: usize,
}

impl DbConfig {
    /// Parses the connection string and fills the local-socket and OS-user defaults.
    pub fn pg_config(&self) -> Result<tokio_postgres::Config, tokio_postgres::Error> {
        let mut cfg: tokio_postgres::Config = self.database_url.parse()?;
        if cfg.get_hosts().is_empty() {
            cfg.host_path("/var/run/postgresql");
        }
        if cfg.get_user().is_none() {
            cfg.user(os_user());
        }
        if cfg.get_application_name().is_none() {
            cfg.application_name("sigap");
        }
        Ok(cfg)
    }
}

/// The name of the user running this process, as PostgreSQL's peer authentication sees it.
pub fn os_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "postgres".to_owned())
}

/// Settings of the HTTP service.
#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    /// Address and port to listen on.
    #[arg(long, env = "SIGAP_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,

    /// Public base URL used in absolute links (e.g. `https://sigap.bandung.go.id`). When unset,
    /// links are built from the request's Host header over http.
    #[arg(long, env = "SIGAP_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Directory of the built map (map-ui/dist), served at `/`.
    #[arg(long, env = "SIGAP_STATIC_DIR", default_value = "map-ui/dist")]
    pub static_dir: PathBuf,

    /// Largest request body accepted, in bytes (photos included).
    #[arg(long, env = "SIGAP_BODY_LIMIT_BYTES", default_value_t = 6 * 1024 * 1024)]
    pub body_limit_bytes: usize,

    /// Size bound of the in-memory tile cache, in MiB (0 turns the cache off).
    #[arg(long, env = "SIGAP_TILE_CACHE_MB", default_value_t = 128)]
    pub tile_cache_mb: u64,

    /// Household counts below this, in hexagon cells (areas smaller than a kelurahan), are
    /// withheld from public layers, tiles and exports, with everything computed from them
    /// (docs/privacy.md); 0 turns it off. Staff read exact figures through the API.
    #[arg(long, env = "SIGAP_SUPPRESS_BELOW", default_value_t = 10)]
    pub suppress_below: u32,

    /// Keep the public gap analysis live: recompute it when its inputs change (and when the date
    /// does). One process of a fleet does it, chosen by an advisory lock.
    #[arg(long, env = "SIGAP_LIVE_GAP", default_value_t = true, action = clap::ArgAction::Set)]
    pub live_gap: bool,

    /// How long the live gap waits for more changes before recomputing, in milliseconds.
    #[arg(long, env = "SIGAP_LIVE_GAP_DEBOUNCE_MS", default_value_t = 300)]
    pub live_gap_debounce_ms: u64,

    /// Anonymous proposal submissions accepted per client IP per minute (also the burst);
    /// 0 turns the limit off (benchmarks only).
    #[arg(long, env = "SIGAP_ANON_POSTS_PER_MINUTE", default_value_t = 10)]
    pub anon_posts_per_minute: u32,

    /// Login attempts accepted per account per minute (also the burst).
    #[arg(long, env = "SIGAP_LOGIN_PER_ACCOUNT_PER_MINUTE", default_value_t = 5)]
    pub login_per_account_per_minute: u32,

    /// Login and registration attempts accepted per client IP per minute (also the burst).
    #[arg(long, env = "SIGAP_LOGIN_PER_IP_PER_MINUTE", default_value_t = 20)]
    pub login_per_ip_per_minute: u32,

    /// Take the client IP from the last `X-Forwarded-For` entry (set this only behind a reverse
    /// proxy that writes that header); otherwise the TCP peer address is the client.
    #[arg(long, env = "SIGAP_TRUST_PROXY", default_value_t = false)]
    pub trust_proxy: bool,

    /// The basemap drawn under SIGAP's layers: a raster XYZ tile URL template (`{z}/{x}/{y}`),
    /// `pmtiles://NAME` for the archive SIGAP serves from `SIGAP_BASEMAP_DIR/NAME.pmtiles`, or
    /// `none`. Ignored when `SIGAP_BASEMAP_STYLE` is set. See docs/basemap.md.
    #[arg(long, env = "SIGAP_BASEMAP_TILES", default_value = DEFAULT_BASEMAP_TILES)]
    pub basemap_tiles: String,

    /// A MapLibre style URL used as the basemap instead of `SIGAP_BASEMAP_TILES`.
    #[arg(long, env = "SIGAP_BASEMAP_STYLE")]
    pub basemap_style: Option<String>,

    /// The basemap's attribution (HTML allowed), shown in the map's attribution control.
    /// Empty shows none (a style's sources carry their own).
    #[arg(long, env = "SIGAP_BASEMAP_ATTRIBUTION", default_value = DEFAULT_BASEMAP_ATTRIBUTION)]
    pub basemap_attribution: String,

    /// Directory of PMTiles archives served at `/basemap/{name}.pmtiles` (unset: none served).
    #[arg(long, env = "SIGAP_BASEMAP_DIR")]
    pub basemap_dir: Option<PathBuf>,

    /// The Chromium (or Chrome) binary that renders the printable profiles to PDF
    /// (`/profil/kelurahan/{code}.pdf`, docs/partners.md).
    #[arg(long, env = "SIGAP_CHROMIUM", default_value = "chromium")]
    pub chromium: PathBuf,
    /// Streaming read replicas of `DATABASE_URL`, comma-separated connection strings. Tiles, OGC
    /// items, exports and analysis reads go to a healthy replica that has replayed what they
    /// must see; writes, and reads that follow a client's own write, to the primary. Unset: all
    /// on the primary. See docs/operations.md "Fleet".
    #[arg(long, env = "SIGAP_READ_DATABASE_URL", value_delimiter = ',')]
    pub read_database_urls: Vec<String>,

    /// The SMTP server that sends the mails to a proposal's followers (docs/operations.md
    /// "Mail"): `smtp://host:25` (plain), `smtp://user:pass@host:587?tls=required` (STARTTLS),
    /// `smtps://user:pass@host:465` (TLS). Unset: nothing is sent and the outbox holds the mails.
    #[arg(long, env = "SIGAP_SMTP_URL")]
    pub smtp_url: Option<String>,

    /// The sender of those mails, e.g. `SIGAP Kota Bandung <sigap@bandung.go.id>`; needed with
    /// `SIGAP_SMTP_URL`.
    #[arg(long, env = "SIGAP_MAIL_FROM")]
    pub mail_from: Option<String>,

    /// How often the mail sender looks for due mails, in milliseconds.
    #[arg(long, env = "SIGAP_MAIL_POLL_MS", default_value_t = 2000)]
    pub mail_poll_ms: u64,

    /// The wait before the first retry of a mail the SMTP server did not take, in milliseconds;
    /// each further retry waits twice as long, up to an hour.
    #[arg(long, env = "SIGAP_MAIL_RETRY_MS", default_value_t = 30_000)]
    pub mail_retry_ms: u64,

    /// Follow requests (`POST /api/proposals/{code}/followers`) accepted per client IP per
    /// minute (also the burst); 0 turns the limit off.
    #[arg(long, env = "SIGAP_FOLLOW_PER_IP_PER_MINUTE", default_value_t = 5)]
    pub follow_per_ip_per_minute: u32,
}

/// OpenStreetMap's standard raster tiles: free, no key, streets and local names, kept current;
/// fine for an office's light use under the OSMF tile usage policy (docs/basemap.md).
pub const DEFAULT_BASEMAP_TILES: &str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png";
/// The credit OpenStreetMap's licence (ODbL) asks for, also right for archives made from OSM.
pub const DEFAULT_BASEMAP_ATTRIBUTION: &str =
    "<a href=\"https://www.openstreetmap.org/copyright\">© OpenStreetMap contributors</a>";

impl ServeConfig {
    /// True when the public URL is https: session cookies are then marked `Secure`.
    pub fn is_https(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|u| u.to_ascii_lowercase().starts_with("https://"))
    }
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            addr: ([127, 0, 0, 1], 8080).into(),
            public_url: None,
            static_dir: PathBuf::from("map-ui/dist"),
            body_limit_bytes: 6 * 1024 * 1024,
            tile_cache_mb: 128,
            suppress_below: 10,
            live_gap: true,
            live_gap_debounce_ms: 300,
            anon_posts_per_minute: 10,
            login_per_account_per_minute: 5,
            login_per_ip_per_minute: 20,
            trust_proxy: false,
            basemap_tiles: DEFAULT_BASEMAP_TILES.to_owned(),
            basemap_style: None,
            basemap_attribution: DEFAULT_BASEMAP_ATTRIBUTION.to_owned(),
            basemap_dir: None,
            chromium: PathBuf::from("chromium"),
            read_database_urls: Vec::new(),
            smtp_url: None,
            mail_from: None,
            mail_poll_ms: 2000,
            mail_retry_ms: 30_000,
            follow_per_ip_per_minute: 5,
        }
    }
}

/// Log settings, read before anything else starts.
#[derive(Debug, Clone, Args)]
pub struct LogConfig {
    /// Log filter in `tracing` syntax, e.g. `info` or `sigap=debug,tower_http=info`.
    #[arg(long, env = "SIGAP_LOG", default_value = "info", global = true)]
    pub log: String,

    /// `text` for people, `json` for log collectors.
    #[arg(long, env = "SIGAP_LOG_FORMAT", default_value = "text", global = true)]
    pub log_format: String,
}
