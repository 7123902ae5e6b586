//! proposals.geojson: citizen infrastructure proposals (usulan warga).

use crate::facts::Facts;
use crate::geom::*;
use crate::layers::Layers;
use crate::tables::apportion;
use chrono::{Duration, NaiveDate, NaiveDateTime};
use geo::{BoundingRect, Contains, Distance, Euclidean, MultiPolygon, Point};
use rand::seq::SliceRandom;
use rand::Rng;
use std::collections::HashSet;

pub const CATEGORIES: &[(&str, f64, f64, f64)] = &[
    // (category, share, min cost juta, max cost juta)
    ("jalan", 0.22, 25.0, 750.0),
    ("drainase", 0.24, 15.0, 450.0),
    ("air_bersih", 0.12, 10.0, 250.0),
    ("sanitasi", 0.12, 10.0, 200.0),
    ("penerangan_jalan", 0.15, 5.0, 80.0),
    ("fasilitas_umum", 0.10, 20.0, 500.0),
    ("lainnya", 0.05, 5.0, 150.0),
];

pub const STATUSES: &[(&str, f64, u8)] = &[
    // (status, share, stage: later stages go preferably to older proposals)
    ("diajukan", 0.20, 0),
    ("diverifikasi", 0.35, 1),
    ("ditolak", 0.08, 2),
    ("digabung", 0.03, 2),
    ("diprioritaskan", 0.12, 3),
    ("dianggarkan", 0.10, 4),
    ("dikerjakan", 0.06, 5),
    ("selesai", 0.06, 6),
];

/// (title template, matching problem sentences) per category.
type Topic = (&'static str, &'static [&'static str]);

fn topics(cat: &str) -> &'static [Topic] {
    match cat {
        "jalan" => &[
            ("Perbaikan jalan berlubang di {loc}", &[
                "Jalan sepanjang kurang lebih {m} meter berlubang dan tergenang saat hujan.",
                "Lubang di tengah jalan makin lebar dan sudah menyebabkan beberapa kecelakaan kecil.",
            ]),
            ("Jalan lingkungan rusak parah di {loc}", &[
                "Permukaan jalan retak dan mengelupas sejak {b} bulan terakhir.",
                "Aspal jalan lingkungan sudah habis dan tinggal batu lepas sepanjang {m} meter.",
            ]),
            ("Pengaspalan ulang jalan di {loc}", &[
                "Aspal terakhir dipasang lebih dari sepuluh tahun lalu dan kini bergelombang.",
            ]),
            ("Paving block gang rusak di {loc}", &[
                "Paving block di gang utama lepas sehingga pengendara motor sering tergelincir.",
            ]),
            ("Jalan amblas dekat saluran di {loc}", &[
                "Badan jalan di tepi saluran amblas sekitar {m} meter dan retakannya terus melebar.",
            ]),
        ],
        "drainase" => &[
            ("Saluran drainase tersumbat di {loc}", &[
                "Saluran di depan rumah warga tertutup sampah dan sedimen sehingga air meluap ke jalan setiap hujan deras.",
            ]),
            ("Banjir cileuncang setiap hujan di {loc}", &[
                "Genangan setinggi 20 sampai 40 cm muncul setiap hujan lebat dan baru surut setelah beberapa jam.",
                "Selokan terlalu kecil untuk menampung air dari permukiman di atasnya.",
            ]),
            ("Normalisasi selokan di {loc}", &[
                "Selokan sepanjang {m} meter dangkal karena sedimen dan dinding salurannya runtuh di beberapa titik.",
            ]),
            ("Gorong-gorong ambruk di {loc}", &[
                "Gorong-gorong di mulut gang runtuh sehingga aliran air tertahan.",
            ]),
            ("Tutup saluran drainase hilang di {loc}", &[
                "Tutup saluran dari beton hilang dan lubangnya membahayakan pejalan kaki pada malam hari.",
            ]),
        ],
        "air_bersih" => &[
            ("Warga kesulitan air bersih di {loc}", &[
                "Sumur warga mengering pada musim kemarau dan air PDAM hanya mengalir pada malam hari.",
                "Warga membeli air jeriken setiap hari dengan biaya yang cukup memberatkan.",
            ]),
            ("Pembuatan sumur bor umum di {loc}", &[
                "Sumur gali warga keruh dan berbau sehingga tidak layak untuk kebutuhan sehari-hari.",
            ]),
            ("Pipa air bersih bocor di {loc}", &[
                "Pipa distribusi bocor sehingga tekanan air sangat kecil di rumah-rumah bagian atas.",
            ]),
            ("Air PDAM tidak mengalir di {loc}", &[
                "Sudah {b} bulan air PDAM tidak mengalir ke rumah warga di bagian atas gang.",
            ]),
        ],
        "sanitasi" => &[
            ("MCK umum rusak di {loc}", &[
                "MCK umum yang dipakai sekitar {n} KK rusak dan pintunya tidak bisa ditutup.",
            ]),
            ("Pembangunan MCK komunal di {loc}", &[
                "Sekitar {n} KK belum memiliki jamban sendiri dan masih menumpang ke tetangga.",
            ]),
            ("Septic tank komunal penuh di {loc}", &[
                "Septic tank komunal sudah penuh dan menimbulkan bau tidak sedap.",
            ]),
            ("Tempat pembuangan sampah liar di {loc}", &[
                "Sampah menumpuk di lahan kosong dan belum terangkut lebih dari seminggu.",
            ]),
            ("Warga masih membuang limbah ke sungai di {loc}", &[
                "Sebagian warga masih membuang limbah rumah tangga langsung ke selokan dan sungai.",
            ]),
        ],
        "penerangan_jalan" => &[
            ("Lampu penerangan jalan mati di {loc}", &[
                "Lampu jalan di sepanjang gang sudah mati sekitar {b} bulan.",
            ]),
            ("Penambahan lampu PJU di {loc}", &[
                "Jarak antartiang lampu terlalu jauh sehingga sebagian ruas jalan gelap total.",
            ]),
            ("Gang gelap dan rawan kejahatan di {loc}", &[
                "Jalan ini gelap pada malam hari dan sudah beberapa kali terjadi penjambretan.",
            ]),
            ("Tiang lampu jalan miring di {loc}", &[
                "Tiang lampu miring dan kabelnya menjuntai rendah di atas jalan.",
            ]),
        ],
        "fasilitas_umum" => &[
            ("Renovasi pos ronda di {loc}", &[
                "Pos ronda sudah lapuk, atapnya bocor, dan lantainya retak.",
            ]),
            ("Perbaikan atap posyandu di {loc}", &[
                "Atap posyandu bocor sehingga kegiatan penimbangan balita terganggu saat hujan.",
            ]),
            ("Taman bermain anak rusak di {loc}", &[
                "Alat permainan anak sudah berkarat dan membahayakan.",
            ]),
            ("Balai warga bocor di {loc}", &[
                "Balai warga dipakai warga dari {r} RW untuk kegiatan bersama tetapi atapnya bocor di banyak titik.",
            ]),
            ("Perbaikan bangunan PAUD di {loc}", &[
                "Dinding ruang kelas PAUD retak dan plafonnya mulai turun.",
            ]),
        ],
        _ => &[
            ("Penanganan pohon rawan tumbang di {loc}", &[
                "Pohon besar di pinggir jalan condong ke arah rumah warga.",
            ]),
            ("Perbaikan tembok penahan tanah di {loc}", &[
                "Tembok penahan tanah di tepi sungai retak dan mulai longsor.",
            ]),
            ("Penertiban kabel semrawut di {loc}", &[
                "Kabel listrik dan telekomunikasi menjuntai rendah di atas jalan.",
            ]),
            ("Pengadaan tempat sampah terpilah di {loc}", &[
                "Belum ada tempat sampah terpilah sehingga sampah rumah tangga dibuang bercampur di pinggir jalan.",
            ]),
        ],
    }
}

const IMPACTS: &[&str] = &[
    "Sekitar {n} KK terdampak langsung.",
    "Anak-anak sekolah melewati lokasi ini setiap hari.",
    "Masalah ini sudah disampaikan dalam musyawarah RW namun belum ditindaklanjuti.",
    "Kondisinya makin parah saat musim hujan.",
    "Warga sudah bergotong royong memperbaiki sementara, tetapi tidak bertahan lama.",
    "Lokasi ini dekat dengan pasar dan ramai dilalui warga.",
];

fn request(cat: &str) -> &'static str {
    match cat {
        "jalan" => "Mohon dilakukan perbaikan dan pengaspalan ulang.",
        "drainase" => "Mohon dilakukan pengerukan dan perbaikan saluran.",
        "air_bersih" => "Mohon dibantu pembangunan sumur bor atau perbaikan jaringan pipa.",
        "sanitasi" => "Mohon dibantu perbaikan atau pembangunan sarana sanitasi komunal.",
        "penerangan_jalan" => "Mohon dipasang atau diperbaiki lampu penerangan jalan.",
        "fasilitas_umum" => "Mohon dibantu renovasi agar fasilitas dapat dipakai kembali.",
        _ => "Mohon segera ditangani oleh dinas terkait.",
    }
}

const GANG: &[&str] = &[
    "Sukamaju",
    "Mawar",
    "Melati",
    "Haji Umar",
    "Kebon Jati",
    "Babakan",
    "Saluyu",
    "Mekarsari",
    "Sirnagalih",
    "Nyalindung",
    "Margaluyu",
    "Kencana",
    "Rahayu",
    "Sari Asih",
    "Cempaka Putih",
    "Bojong",
    "Sukaresmi",
    "Pasundan",
    "Haji Sanusi",
    "Karya Bakti",
];

fn location<R: Rng>(rng: &mut R, kel: &str) -> String {
    let rw = rng.gen_range(1..=14);
    let rt = rng.gen_range(1..=10);
    match rng.gen_range(0..6) {
        0 => format!("RW {rw:02}"),
        1 => format!("RT {rt:02} RW {rw:02}"),
        2 => format!("Gang {}", GANG.choose(rng).unwrap()),
        3 => format!("Gang {} RW {rw:02}", GANG.choose(rng).unwrap()),
        4 => format!("RW {rw:02} Kelurahan {kel}"),
        _ => format!("Jalan {kel}"),
    }
}

fn fill<R: Rng>(t: &str, rng: &mut R) -> String {
    t.replace("{m}", &(rng.gen_range(3..=30) * 10).to_string())
        .replace("{b}", &rng.gen_range(2..=8).to_string())
        .replace("{n}", &(rng.gen_range(3..=24) * 5).to_string())
        .replace("{r}", &rng.gen_range(2..=5).to_string())
}

fn description<R: Rng>(cat: &str, topic: &Topic, rng: &mut R) -> String {
    let mut s = fill(topic.1.choose(rng).unwrap(), rng);
    let k = rng.gen_range(0..3);
    if k >= 1 {
        s.push(' ');
        s += &fill(IMPACTS.choose(rng).unwrap(), rng);
    }
    if k >= 2 || rng.gen_bool(0.5) {
        s.push(' ');
        s += request(cat);
    }
    s
}

const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

fn tracking_code<R: Rng>(rng: &mut R, used: &mut HashSet<String>) -> String {
    loop {
        let tail: String = (0..6)
            .map(|_| CODE_ALPHABET[rng.gen_range(0..CODE_ALPHABET.len())] as char)
            .collect();
        let code = format!("USL-{tail}");
        if used.insert(code.clone()) {
            return code;
        }
    }
}

fn cost<R: Rng>(cat: &str, rng: &mut R) -> i64 {
    let (_, _, lo, hi) = CATEGORIES.iter().find(|c| c.0 == cat).unwrap();
    let juta = (lo.ln() + rng.gen::<f64>() * (hi.ln() - lo.ln())).exp();
    let rp = juta * 1e6;
    let step = if rp >= 50e6 { 500_000.0 } else { 100_000.0 };
    ((rp / step).round() * step) as i64
}

pub struct Proposal {
    pub code: String,
    pub kel: usize,
    pub point: IP,
    pub category: &'static str,
    pub title: String,
    pub description: String,
    pub cost: Option<i64>,
    pub status: &'static str,
    pub created_at: NaiveDateTime,
    pub cluster: Option<usize>,
}

/// A point strictly inside kelurahan k, at least `edge` metres from its border.
fn point_in<R: Rng>(
    layers: &Layers,
    metric: &MultiPolygon<f64>,
    k: usize,
    edge: f64,
    rng: &mut R,
) -> IP {
    let bb = metric.bounding_rect().unwrap();
    loop {
        let p = Point::new(
            rng.gen_range(bb.min().x..bb.max().x),
            rng.gen_range(bb.min().y..bb.max().y),
        );
        if !metric.contains(&p) {
            continue;
        }
        let d = metric
            .0
            .iter()
            .flat_map(|poly| std::iter::once(poly.exterior()).chain(poly.interiors()))
            .map(|r| Euclidean.distance(&p, r))
            .fold(f64::MAX, f64::min);
        if d < edge {
            continue;
        }
        let ip = layers.proj.inv_i((p.x(), p.y()));
        if layers.only_in(ip, k) {
            return ip;
        }
    }
}

fn random_time<R: Rng>(rng: &mut R, start: NaiveDate, days: i64) -> NaiveDateTime {
    // more proposals later on (the channel grows): density ∝ t^0.35
    let u: f64 = rng.gen::<f64>().powf(1.0 / 1.35);
    let d = start + Duration::days((u * days as f64).floor() as i64);
    // 06:00–21:59 WIB = 23:00–14:59 UTC
    let local_h = rng.gen_range(6..22);
    d.and_hms_opt(0, 0, 0).unwrap()
        + Duration::hours(local_h - 7)
        + Duration::minutes(rng.gen_range(0..60))
        + Duration::seconds(rng.gen_range(0..60))
}

pub fn generate<R: Rng>(
    facts: &Facts,
    layers: &Layers,
    low_income: &[u64],
    total: usize,
    rng: &mut R,
) -> Vec<Proposal> {
    let n = facts.kelurahan.len();
    let metric: Vec<MultiPolygon<f64>> = layers
        .kel
        .iter()
        .map(|m| to_metric_multi(m, &layers.proj))
        .collect();
    let area_sum: f64 = facts.kelurahan.iter().map(|k| k.area_km2).sum();
    let low_sum: f64 = low_income.iter().map(|&x| x as f64).sum();
    let weight: Vec<f64> = (0..n)
        .map(|i| {
            0.3 * facts.kelurahan[i].area_km2 / area_sum + 0.7 * low_income[i] as f64 / low_sum
        })
        .collect();
    let pick = |rng: &mut R| -> usize {
        let mut u = rng.gen::<f64>() * weight.iter().sum::<f64>();
        for (i, w) in weight.iter().enumerate() {
            if u < *w {
                return i;
            }
            u -= w;
        }
        n - 1
    };
    let pick_cat = |rng: &mut R| -> &'static str {
        let mut u = rng.gen::<f64>();
        for c in CATEGORIES {
            if u < c.1 {
                return c.0;
            }
            u -= c.1;
        }
        "lainnya"
    };
    let start = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    let last = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
    let days = (last - start).num_days();
    let mut used = HashSet::new();
    let mut out: Vec<Proposal> = Vec::new();

    // clusters of near-duplicate reports (5–10 points within ~100 m)
    let n_clusters = 5;
    for c in 0..n_clusters {
        let k = pick(rng);
        let center = point_in(layers, &metric[k], k, 80.0, rng);
        let cat = pick_cat(rng);
        let loc = location(rng, &facts.kelurahan[k].name);
        let topic = topics(cat).choose(rng).unwrap();
        let title = topic.0.replace("{loc}", &loc);
        let t0 = random_time(rng, start, days - 60);
        let size = rng.gen_range(5..=10);
        let cm = layers.proj.fwd_i(center);
        for m in 0..size {
            // within 45 m of the centre: any two are < 100 m apart
            let ip = loop {
                let a = rng.gen_range(0.0..std::f64::consts::TAU);
                let r = 45.0 * rng.gen::<f64>().sqrt();
                let ip = layers.proj.inv_i((cm.0 + r * a.cos(), cm.1 + r * a.sin()));
                let pt = layers.proj.fwd_i(ip);
                let inside = layers.only_in(ip, k)
                    && metric[k].0.iter().all(|poly| {
                        Euclidean.distance(&Point::new(pt.0, pt.1), poly.exterior()) > 5.0
                    });
                if inside {
                    break ip;
                }
            };
            let t = if m == 0 {
                title.clone()
            } else {
                match rng.gen_range(0..3) {
                    0 => title.clone(),
                    1 => format!("{} (laporan warga)", title),
                    _ => format!("{}, mohon segera ditangani", title),
                }
            };
            out.push(Proposal {
                code: tracking_code(rng, &mut used),
                kel: k,
                point: ip,
                category: cat,
                title: t,
                description: description(cat, topic, rng),
                cost: if rng.gen_bool(0.15) {
                    None
                } else {
                    Some(cost(cat, rng))
                },
                status: "",
                created_at: t0 + Duration::hours(rng.gen_range(0..24 * 40)),
                cluster: Some(c),
            });
        }
    }
    while out.len() < total {
        let k = pick(rng);
        let cat = pick_cat(rng);
        let loc = location(rng, &facts.kelurahan[k].name);
        let topic = topics(cat).choose(rng).unwrap();
        let title = topic.0.replace("{loc}", &loc);
        out.push(Proposal {
            code: tracking_code(rng, &mut used),
            kel: k,
            point: point_in(layers, &metric[k], k, 8.0, rng),
            category: cat,
            title,
            description: description(cat, topic, rng),
            cost: if rng.gen_bool(0.15) {
                None
            } else {
                Some(cost(cat, rng))
            },
            status: "",
            created_at: random_time(rng, start, days),
            cluster: None,
        });
    }

    // statuses: exact mix; "digabung" goes to the later reports of a cluster,
    // the rest by age (older proposals further along the pipeline, with noise)
    let counts = apportion(
        out.len() as u64,
        &STATUSES.iter().map(|s| s.1).collect::<Vec<_>>(),
    );
    let mut pool: Vec<(&'static str, u8)> = Vec::new();
    for (s, c) in STATUSES.iter().zip(&counts) {
        for _ in 0..*c {
            pool.push((s.0, s.2));
        }
    }
    let mut merged_left = pool.iter().filter(|p| p.0 == "digabung").count();
    pool.retain(|p| p.0 != "digabung");
    let mut idx: Vec<usize> = (0..out.len()).collect();
    idx.sort_by_key(|&i| (out[i].cluster, out[i].created_at));
    for w in 1..idx.len() {
        let (a, b) = (idx[w - 1], idx[w]);
        if merged_left > 0
            && out[b].cluster.is_some()
            && out[a].cluster == out[b].cluster
            && rng.gen_bool(0.6)
        {
            out[b].status = "digabung";
            merged_left -= 1;
        }
    }
    // any digabung left over go to random cluster members, then anywhere
    while merged_left > 0 {
        let cand: Vec<usize> = (0..out.len())
            .filter(|&i| out[i].status.is_empty() && out[i].cluster.is_some())
            .collect();
        let cand = if cand.is_empty() {
            (0..out.len())
                .filter(|&i| out[i].status.is_empty())
                .collect()
        } else {
            cand
        };
        let i = *cand.choose(rng).unwrap();
        out[i].status = "digabung";
        merged_left -= 1;
    }
    let mut rest: Vec<(f64, usize)> = (0..out.len())
        .filter(|&i| out[i].status.is_empty())
        .map(|i| {
            let age = (last - out[i].created_at.date()).num_days() as f64 / days as f64;
            (age + rng.gen_range(-0.3..0.3), i)
        })
        .collect();
    rest.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap());
    // rejected ones are spread over all ages: shuffle them into random slots
    pool.sort_by_key(|p| std::cmp::Reverse(p.1));
    let rejected: Vec<(&str, u8)> = pool.iter().filter(|p| p.0 == "ditolak").copied().collect();
    pool.retain(|p| p.0 != "ditolak");
    for r in rejected {
        let at = rng.gen_range(0..=pool.len());
        pool.insert(at, r);
    }
    for ((_, i), (s, _)) in rest.iter().zip(pool.iter()) {
        out[*i].status = s;
    }
    // newest proposals are still "diajukan"-ish; keep order by creation
    out.sort_by_key(|p| p.created_at);
    out
}
