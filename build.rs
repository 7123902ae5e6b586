//! Rebuilds the crate when a migration is added or changed: refinery embeds sql/migrations at
//! compile time (src/store/migrate.rs), and cargo does not otherwise look at that directory, so a
//! new migration file would silently be left out of the binary.
fn main() {
    println!("cargo:rerun-if-changed=sql/migrations");
}
