//! Reading the two facts CSVs (simple comma-separated files, no quoting needed).

use std::collections::HashMap;
use std::path::Path;

#[derive(Debug, Clone)]
pub struct Kelurahan {
    pub code: String,
    pub name: String,
    pub kecamatan_code: String,
    pub lon: f64,
    pub lat: f64,
    pub area_km2: f64,
}

#[derive(Debug, Clone)]
pub struct Kecamatan {
    pub code: String,
    #[allow(dead_code)]
    pub name: String,
    pub population_2022: u64,
    #[allow(dead_code)]
    pub area_ha_2022: f64,
    pub low_income_households_2017: u64,
    pub other_households_2017: u64,
}

pub struct Facts {
    pub kelurahan: Vec<Kelurahan>,
    pub kecamatan: Vec<Kecamatan>,
}

impl Facts {
    pub fn kecamatan_index(&self) -> HashMap<String, usize> {
        self.kecamatan
            .iter()
            .enumerate()
            .map(|(i, k)| (k.code.clone(), i))
            .collect()
    }
}

fn read_rows(path: &Path) -> Result<(Vec<String>, Vec<Vec<String>>), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<String> = lines
        .next()
        .ok_or_else(|| format!("{}: empty file", path.display()))?
        .trim_start_matches('\u{feff}')
        .split(',')
        .map(|s| s.trim().to_string())
        .collect();
    let mut rows = Vec::new();
    for (n, l) in lines.enumerate() {
        let cols: Vec<String> = l.split(',').map(|s| s.trim().to_string()).collect();
        if cols.len() != header.len() {
            return Err(format!(
                "{}: line {} has {} columns, expected {}",
                path.display(),
                n + 2,
                cols.len(),
                header.len()
            ));
        }
        rows.push(cols);
    }
    Ok((header, rows))
}

fn col(header: &[String], name: &str) -> Result<usize, String> {
    header
        .iter()
        .position(|h| h == name)
        .ok_or_else(|| format!("missing column {name}"))
}

fn num<T: std::str::FromStr>(s: &str, what: &str) -> Result<T, String> {
    s.parse::<T>()
        .map_err(|_| format!("bad number for {what}: {s:?}"))
}

pub fn load(dir: &Path) -> Result<Facts, String> {
    let (h, rows) = read_rows(&dir.join("kelurahan_facts.csv"))?;
    let (c_code, c_name, c_kec, c_lon, c_lat, c_area) = (
        col(&h, "kelurahan_code")?,
        col(&h, "kelurahan_name")?,
        col(&h, "kecamatan_code")?,
        col(&h, "lon")?,
        col(&h, "lat")?,
        col(&h, "area_km2")?,
    );
    let mut kelurahan = Vec::new();
    for r in &rows {
        kelurahan.push(Kelurahan {
            code: r[c_code].clone(),
            name: r[c_name].clone(),
            kecamatan_code: r[c_kec].clone(),
            lon: num(&r[c_lon], "lon")?,
            lat: num(&r[c_lat], "lat")?,
            area_km2: num(&r[c_area], "area_km2")?,
        });
    }
    let (h, rows) = read_rows(&dir.join("kecamatan_facts.csv"))?;
    let (c_code, c_name, c_pop, c_area, c_low, c_oth) = (
        col(&h, "kecamatan_code")?,
        col(&h, "kecamatan_name")?,
        col(&h, "population_2022")?,
        col(&h, "area_ha_2022")?,
        col(&h, "low_income_households_2017")?,
        col(&h, "other_households_2017")?,
    );
    let mut kecamatan = Vec::new();
    for r in &rows {
        kecamatan.push(Kecamatan {
            code: r[c_code].clone(),
            name: r[c_name].clone(),
            population_2022: num(&r[c_pop], "population_2022")?,
            area_ha_2022: num(&r[c_area], "area_ha_2022")?,
            low_income_households_2017: num(&r[c_low], "low_income_households_2017")?,
            other_households_2017: num(&r[c_oth], "other_households_2017")?,
        });
    }
    let facts = Facts {
        kelurahan,
        kecamatan,
    };
    let idx = facts.kecamatan_index();
    for k in &facts.kelurahan {
        if !idx.contains_key(&k.kecamatan_code) {
            return Err(format!(
                "kelurahan {} refers to unknown kecamatan {}",
                k.code, k.kecamatan_code
            ));
        }
    }
    for (i, kc) in facts.kecamatan.iter().enumerate() {
        if !facts.kelurahan.iter().any(|k| k.kecamatan_code == kc.code) {
            return Err(format!(
                "kecamatan {} (row {}) has no kelurahan",
                kc.code,
                i + 2
            ));
        }
    }
    Ok(facts)
}
