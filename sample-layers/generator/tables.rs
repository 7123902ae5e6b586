//! indicators.csv and partners.csv, plus small CSV helpers.

use crate::facts::Facts;
use std::collections::HashMap;

pub const SRC_2022: &str = "Sampel SIGAP: populasi kecamatan 2022 dibagi per luas (perkiraan)";
pub const SRC_2017: &str =
    "Sampel SIGAP: rumah tangga berpenghasilan rendah kecamatan 2017 dibagi per luas (perkiraan)";

pub fn csv_field(s: &str) -> String {
    if s.contains(',') || s.contains('"') || s.contains('\n') || s.contains('\r') {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

pub fn csv_line(fields: &[String]) -> String {
    let mut l = fields
        .iter()
        .map(|f| csv_field(f))
        .collect::<Vec<_>>()
        .join(",");
    l.push('\n');
    l
}

/// Largest-remainder apportionment of `total` by `weights` (sum is exact).
pub fn apportion(total: u64, weights: &[f64]) -> Vec<u64> {
    let sw: f64 = weights.iter().sum();
    let quotas: Vec<f64> = weights.iter().map(|w| total as f64 * w / sw).collect();
    let mut out: Vec<u64> = quotas.iter().map(|q| q.floor() as u64).collect();
    let assigned: u64 = out.iter().sum();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| {
        let ra = quotas[a] - quotas[a].floor();
        let rb = quotas[b] - quotas[b].floor();
        rb.partial_cmp(&ra).unwrap().then(a.cmp(&b))
    });
    for &i in order.iter().take((total - assigned) as usize) {
        out[i] += 1;
    }
    out
}

pub struct Indicators {
    pub population_2022: Vec<u64>,
    pub households_2017: Vec<u64>,
    pub low_income_2017: Vec<u64>,
}

impl Indicators {
    /// Low-income households per km² (fact area) — the "poorest" ranking.
    pub fn low_income_density(&self, facts: &Facts) -> Vec<f64> {
        facts
            .kelurahan
            .iter()
            .enumerate()
            .map(|(i, k)| self.low_income_2017[i] as f64 / k.area_km2)
            .collect()
    }
}

/// Spreads each kecamatan's facts over its kelurahan in proportion to their official areas
/// (kelurahan_facts.csv), with largest-remainder rounding so that every kecamatan sums to its
/// facts exactly. No variation is invented: within a kecamatan the density is uniform, and the
/// source column says so.
pub fn indicators(facts: &Facts) -> Indicators {
    let n = facts.kelurahan.len();
    let mut pop = vec![0u64; n];
    let mut hh = vec![0u64; n];
    let mut low = vec![0u64; n];
    let mut members: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, k) in facts.kelurahan.iter().enumerate() {
        members
            .entry(k.kecamatan_code.as_str())
            .or_default()
            .push(i);
    }
    for kc in &facts.kecamatan {
        let m = &members[kc.code.as_str()];
        let w: Vec<f64> = m.iter().map(|&i| facts.kelurahan[i].area_km2).collect();
        let p = apportion(kc.population_2022, &w);
        let h = apportion(kc.low_income_households_2017 + kc.other_households_2017, &w);
        let mut l = apportion(kc.low_income_households_2017, &w);
        // keep low_income <= households on every row, moving the excess to the
        // rows with the most room (sums stay exact)
        loop {
            let over = (0..m.len()).find(|&k| l[k] > h[k]);
            let Some(k) = over else { break };
            let excess = l[k] - h[k];
            let room = (0..m.len())
                .filter(|&j| j != k)
                .max_by_key(|&j| (h[j] - l[j].min(h[j]), std::cmp::Reverse(j)))
                .unwrap();
            let mv = excess.min(h[room] - l[room]);
            if mv == 0 {
                break;
            }
            l[k] -= mv;
            l[room] += mv;
        }
        for (k, &i) in m.iter().enumerate() {
            pop[i] = p[k];
            hh[i] = h[k];
            low[i] = l[k];
        }
    }
    Indicators {
        population_2022: pop,
        households_2017: hh,
        low_income_2017: low,
    }
}

pub fn indicators_csv(facts: &Facts, ind: &Indicators) -> String {
    let mut s =
        String::from("kelurahan_code,year,population,households,low_income_households,source\n");
    for (i, k) in facts.kelurahan.iter().enumerate() {
        s += &csv_line(&[
            k.code.clone(),
            "2022".into(),
            ind.population_2022[i].to_string(),
            String::new(),
            String::new(),
            SRC_2022.into(),
        ]);
        s += &csv_line(&[
            k.code.clone(),
            "2017".into(),
            String::new(),
            ind.households_2017[i].to_string(),
            ind.low_income_2017[i].to_string(),
            SRC_2017.into(),
        ]);
    }
    s
}

pub struct Partner {
    pub code: &'static str,
    pub name: &'static str,
    pub kind: &'static str,
    pub description: &'static str,
}

pub const PARTNERS: &[Partner] = &[
    Partner {
        code: "dkpp",
        name: "Dinas Ketahanan Pangan dan Pertanian",
        kind: "pemerintah",
        description: "Perangkat daerah urusan pangan dan pertanian perkotaan; menyelenggarakan pelatihan dan demplot bagi kelompok tani.",
    },
    Partner {
        code: "disnaker",
        name: "Dinas Tenaga Kerja",
        kind: "pemerintah",
        description: "Perangkat daerah urusan ketenagakerjaan; pelatihan keterampilan kerja, pemagangan, dan informasi lowongan.",
    },
    Partner {
        code: "diskopukm",
        name: "Dinas Koperasi dan UKM",
        kind: "pemerintah",
        description: "Pembinaan koperasi dan usaha mikro, kecil, dan menengah: pelatihan usaha, perizinan, dan akses pasar.",
    },
    Partner {
        code: "dsdabm",
        name: "Dinas Sumber Daya Air dan Bina Marga",
        kind: "pemerintah",
        description: "Pembangunan dan pemeliharaan jalan lingkungan, drainase, dan prasarana permukiman.",
    },
    Partner {
        code: "dinsos",
        name: "Dinas Sosial",
        kind: "pemerintah",
        description: "Perlindungan dan pemberdayaan sosial keluarga prasejahtera, termasuk pendampingan keluarga.",
    },
    Partner {
        code: "ytkm",
        name: "Yayasan Tani Kota Mandiri",
        kind: "lsm",
        description: "Lembaga fiktif untuk data sampel: pendampingan pertanian perkotaan, kelompok tani, dan kelompok wanita tani.",
    },
    Partner {
        code: "lrb",
        name: "Lembaga Rumah Berdaya (fiktif)",
        kind: "lsm",
        description: "Lembaga fiktif untuk data sampel: pendampingan pencari kerja muda dan keluarga prasejahtera.",
    },
    Partner {
        code: "skn",
        name: "PT Sinar Karya Nusantara (fiktif)",
        kind: "swasta",
        description: "Perusahaan fiktif untuk data sampel; program tanggung jawab sosial di bidang pelatihan kerja dan UMKM.",
    },
    Partner {
        code: "mtp",
        name: "PT Mitra Tekstil Priangan (fiktif)",
        kind: "swasta",
        description: "Perusahaan garmen fiktif untuk data sampel; pelatihan operator jahit dan program magang.",
    },
    Partner {
        code: "kkwl",
        name: "Komunitas Kebun Warga Lestari (fiktif)",
        kind: "komunitas",
        description: "Komunitas fiktif untuk data sampel: kebun warga, hidroponik, dan pengolahan sampah organik.",
    },
    Partner {
        code: "ppum",
        name: "Paguyuban Perempuan Usaha Mandiri (fiktif)",
        kind: "komunitas",
        description: "Paguyuban fiktif untuk data sampel: jejaring perempuan pelaku usaha mikro dan kuliner rumahan.",
    },
];

pub fn partners_csv() -> String {
    let mut s = String::from("code,name,type,description\n");
    for p in PARTNERS {
        s += &csv_line(&[
            p.code.into(),
            p.name.into(),
            p.kind.into(),
            p.description.into(),
        ]);
    }
    s
}

pub fn partner(code: &str) -> &'static Partner {
    PARTNERS
        .iter()
        .find(|p| p.code == code)
        .expect("unknown partner code")
}
