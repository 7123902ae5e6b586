//! Prints the tile SQL SIGAP runs for one layer (`$1`, `$2`, `$3` = z, x, y), so bench/tiles can
//! time exactly the same query through pgbench. Usage: `tile_sql LAYER` (or `sigap` for the
//! combined tileset).

use sigap::store::collections::Catalog;
use sigap::store::tiles::{combined_sql, layer_sql};

fn main() {
    let layer = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "proposals".to_owned());
    let catalog = Catalog::default();
    let sql = if layer == "sigap" {
        combined_sql(&catalog)
    } else {
        match catalog.get(&layer) {
            Some(c) => layer_sql(c),
            None => {
                eprintln!("unknown layer {layer}");
                std::process::exit(2);
            }
        }
    };
    println!("{sql}");
}
