//! programs.csv and coverage.geojson: a hand-designed program portfolio whose
//! coverage geometries are generated from the kelurahan layer.
//!
//! Designed situations (checked and reported by `analyse`):
//! * follow-up gaps: trainings that ended in 2023–2024 where only part of their
//!   kelurahan got a pendampingan program within 6 months;
//! * duplicated effort: two partners running `ukm` programs in the same
//!   kelurahan at overlapping times;
//! * some of the poorest kelurahan are never covered (every coverage geometry
//!   stays clear of every kelurahan outside its program's target list).

use crate::facts::Facts;
use crate::geom::*;
use crate::layers::Layers;
use crate::tables::{csv_line, partner};
use chrono::{Duration, NaiveDate};
use geo::{
    Area, BooleanOps, BoundingRect, Contains, Coord, Distance, Euclidean, Intersects, LineString,
    MultiPolygon, Point, Validation,
};
use rand::Rng;
use std::collections::{BTreeSet, HashMap};

pub enum Shape {
    /// the target kelurahan (dissolved), pulled 25 m inside their boundary
    Area(&'static [&'static str]),
    /// a works corridor (buffered random polyline) inside these kelurahan
    Corridor(&'static [&'static str]),
    /// a site in one kelurahan, radius drawn in [min, max] metres but kept clear
    /// of every kelurahan outside the program's target list
    Site(&'static str, f64, f64),
}

pub struct CovSpec {
    pub shape: Shape,
    pub from: &'static str,
    pub to: &'static str,
    pub note: &'static str,
}

pub struct ProgramDef {
    pub code: &'static str,
    pub name: &'static str,
    pub partner: &'static str,
    pub kind: &'static str,
    pub start: &'static str,
    pub end: &'static str,
    pub target_group: &'static str,
    pub planned: u32,
    pub description: &'static str,
    pub kelurahan: &'static [&'static str],
    pub coverage: &'static [CovSpec],
}

const fn area(
    k: &'static [&'static str],
    from: &'static str,
    to: &'static str,
    note: &'static str,
) -> CovSpec {
    CovSpec {
        shape: Shape::Area(k),
        from,
        to,
        note,
    }
}
const fn corridor(
    k: &'static [&'static str],
    from: &'static str,
    to: &'static str,
    note: &'static str,
) -> CovSpec {
    CovSpec {
        shape: Shape::Corridor(k),
        from,
        to,
        note,
    }
}
const fn site(
    k: &'static str,
    rmin: f64,
    rmax: f64,
    from: &'static str,
    to: &'static str,
    note: &'static str,
) -> CovSpec {
    CovSpec {
        shape: Shape::Site(k, rmin, rmax),
        from,
        to,
        note,
    }
}

pub const PROGRAMS: &[ProgramDef] = &[
    ProgramDef {
        code: "tani-modern-2023",
        name: "Pelatihan Pertanian Perkotaan Modern bagi Kelompok Tani",
        partner: "dkpp",
        kind: "pelatihan_pertanian",
        start: "2023-02-06",
        end: "2023-09-29",
        target_group: "Kelompok tani dan kelompok wanita tani (KWT)",
        planned: 180,
        description: "Pelatihan budidaya sayuran dengan irigasi tetes, hidroponik sederhana, dan pengendalian hama terpadu bagi kelompok tani di wilayah timur dan tenggara kota. Setiap kelompok mendapat paket benih dan alat demplot.",
        kelurahan: &["Cisaranten Kidul", "Rancabolang", "Rancanumpang", "Cimincrang", "Derwati", "Mekar Jaya"],
        coverage: &[
            area(&["Cisaranten Kidul", "Rancabolang", "Rancanumpang", "Cimincrang", "Derwati", "Mekar Jaya"], "2023-02-06", "2023-09-29", "Wilayah sasaran pelatihan kelompok tani"),
            site("Cisaranten Kidul", 600.0, 1200.0, "2023-03-01", "2023-09-29", "Demplot irigasi tetes dan hidroponik"),
            site("Derwati", 500.0, 1000.0, "2023-04-03", "2023-09-15", "Kebun percontohan kelompok wanita tani"),
        ],
    },
    ProgramDef {
        code: "dampingan-tani-2023",
        name: "Pendampingan Lanjutan Kelompok Tani Pascapelatihan",
        partner: "ytkm",
        kind: "pendampingan",
        start: "2023-11-01",
        end: "2024-10-31",
        target_group: "Kelompok tani alumni pelatihan pertanian perkotaan 2023",
        planned: 90,
        description: "Kunjungan lapangan dua mingguan, klinik tanaman, dan pendampingan pencatatan hasil panen bagi kelompok tani alumni pelatihan 2023. Belum menjangkau seluruh kelurahan peserta pelatihan.",
        kelurahan: &["Cisaranten Kidul", "Rancabolang", "Cimincrang"],
        coverage: &[
            area(&["Cisaranten Kidul"], "2023-11-01", "2024-10-31", "Pendampingan kelompok tani"),
            area(&["Rancabolang"], "2023-11-01", "2024-10-31", "Pendampingan kelompok tani"),
            area(&["Cimincrang"], "2024-01-08", "2024-10-31", "Pendampingan kelompok tani"),
            site("Rancabolang", 500.0, 900.0, "2024-02-01", "2024-08-30", "Klinik tanaman keliling"),
        ],
    },
    ProgramDef {
        code: "dampingan-kwt-2024",
        name: "Pendampingan KWT dan Pemasaran Hasil Panen",
        partner: "kkwl",
        kind: "pendampingan",
        start: "2024-07-01",
        end: "2025-03-31",
        target_group: "Kelompok wanita tani alumni pelatihan 2023",
        planned: 60,
        description: "Pendampingan kelompok wanita tani untuk pengolahan dan pemasaran hasil panen. Dimulai lebih dari enam bulan setelah pelatihan selesai.",
        kelurahan: &["Derwati", "Mekar Jaya"],
        coverage: &[
            area(&["Derwati", "Mekar Jaya"], "2024-07-01", "2025-03-31", "Pendampingan KWT"),
            site("Mekar Jaya", 400.0, 800.0, "2024-09-02", "2025-03-31", "Rumah kemas hasil panen"),
        ],
    },
    ProgramDef {
        code: "kerja-muda-2024",
        name: "Pelatihan Keterampilan Kerja Pemuda bersama Industri Lokal",
        partner: "disnaker",
        kind: "pelatihan_kerja",
        start: "2024-01-15",
        end: "2024-07-31",
        target_group: "Pemuda usia 18–30 tahun yang belum bekerja",
        planned: 300,
        description: "Pelatihan berbasis kompetensi (menjahit, alas kaki, logistik gudang, dan pemasaran digital) bekerja sama dengan perusahaan lokal, diakhiri uji kompetensi dan bursa kerja.",
        kelurahan: &["Kopo", "Suka Asih", "Cibaduyut", "Kebon Lega", "Situsaeur", "Caringin", "Cigondewah Kaler"],
        coverage: &[
            area(&["Kopo", "Suka Asih"], "2024-01-15", "2024-07-31", "Rekrutmen peserta pelatihan kerja"),
            area(&["Cibaduyut", "Kebon Lega", "Situsaeur"], "2024-01-15", "2024-07-31", "Rekrutmen peserta pelatihan kerja"),
            area(&["Caringin", "Cigondewah Kaler"], "2024-02-01", "2024-07-31", "Rekrutmen peserta pelatihan kerja"),
            site("Kebon Lega", 500.0, 1200.0, "2024-02-05", "2024-07-31", "Tempat pelatihan bersama industri alas kaki"),
        ],
    },
    ProgramDef {
        code: "dampingan-kerja-2024",
        name: "Pendampingan Pencari Kerja Muda Pascapelatihan",
        partner: "lrb",
        kind: "pendampingan",
        start: "2024-09-02",
        end: "2025-06-30",
        target_group: "Alumni pelatihan kerja 2024 yang belum terserap kerja",
        planned: 120,
        description: "Konseling karier, pendampingan melamar kerja, dan magang singkat bagi alumni pelatihan kerja. Baru menjangkau sebagian kelurahan peserta.",
        kelurahan: &["Kopo", "Suka Asih", "Cibaduyut"],
        coverage: &[
            area(&["Kopo"], "2024-09-02", "2025-06-30", "Pendampingan pencari kerja"),
            area(&["Suka Asih"], "2024-09-02", "2025-06-30", "Pendampingan pencari kerja"),
            area(&["Cibaduyut"], "2024-10-01", "2025-06-30", "Pendampingan pencari kerja"),
            site("Kopo", 400.0, 900.0, "2024-09-02", "2025-03-31", "Pos konsultasi karier"),
        ],
    },
    ProgramDef {
        code: "garmen-2023",
        name: "Pelatihan Operator Jahit dan Magang Industri Garmen",
        partner: "mtp",
        kind: "pelatihan_kerja",
        start: "2023-05-02",
        end: "2023-12-15",
        target_group: "Pemuda dan ibu rumah tangga di sentra tekstil",
        planned: 120,
        description: "Pelatihan operator mesin jahit industri selama enam minggu dilanjutkan magang tiga bulan di pabrik mitra.",
        kelurahan: &["Cigondewah Kidul", "Cigondewah Rahayu", "Gempol Sari"],
        coverage: &[
            area(&["Cigondewah Kidul", "Cigondewah Rahayu", "Gempol Sari"], "2023-05-02", "2023-12-15", "Wilayah rekrutmen peserta"),
            site("Cigondewah Kidul", 400.0, 900.0, "2023-05-02", "2023-12-15", "Workshop jahit mitra"),
        ],
    },
    ProgramDef {
        code: "dampingan-usaha-2024",
        name: "Pendampingan Usaha Mikro Alumni Pelatihan",
        partner: "diskopukm",
        kind: "pendampingan",
        start: "2024-02-01",
        end: "2024-12-20",
        target_group: "Alumni pelatihan jahit yang membuka usaha konveksi rumahan",
        planned: 80,
        description: "Pendampingan perizinan usaha, pembukuan sederhana, dan akses permodalan bagi alumni pelatihan jahit yang memulai usaha konveksi.",
        kelurahan: &["Cigondewah Kidul", "Cigondewah Rahayu", "Gempol Sari"],
        coverage: &[
            area(&["Cigondewah Kidul"], "2024-02-01", "2024-12-20", "Pendampingan usaha konveksi"),
            area(&["Cigondewah Rahayu"], "2024-02-01", "2024-12-20", "Pendampingan usaha konveksi"),
            area(&["Gempol Sari"], "2024-03-01", "2024-12-20", "Pendampingan usaha konveksi"),
            site("Gempol Sari", 400.0, 800.0, "2024-04-01", "2024-12-20", "Klinik usaha keliling"),
        ],
    },
    ProgramDef {
        code: "kuliner-2023",
        name: "Pelatihan Usaha Kuliner Rumahan dan Pengemasan",
        partner: "diskopukm",
        kind: "ukm",
        start: "2023-03-01",
        end: "2023-10-31",
        target_group: "Perempuan pelaku usaha kuliner rumahan",
        planned: 150,
        description: "Pelatihan keamanan pangan, pengemasan, perhitungan harga pokok, dan pengurusan izin PIRT bagi pelaku usaha kuliner rumahan.",
        kelurahan: &["Ciroyom", "Dungus Cariang", "Maleber", "Garuda"],
        coverage: &[
            area(&["Ciroyom", "Dungus Cariang"], "2023-03-01", "2023-10-31", "Wilayah peserta pelatihan kuliner"),
            area(&["Maleber", "Garuda"], "2023-04-03", "2023-10-31", "Wilayah peserta pelatihan kuliner"),
            site("Ciroyom", 400.0, 900.0, "2023-03-01", "2023-10-31", "Dapur produksi bersama"),
        ],
    },
    ProgramDef {
        code: "dampingan-kuliner-2023",
        name: "Pendampingan Pemasaran Produk Kuliner Warga",
        partner: "ppum",
        kind: "pendampingan",
        start: "2023-12-01",
        end: "2024-08-31",
        target_group: "Alumni pelatihan kuliner 2023",
        planned: 70,
        description: "Pendampingan pemasaran daring, bazar bulanan, dan kemitraan dengan warung sekitar bagi alumni pelatihan kuliner.",
        kelurahan: &["Ciroyom", "Dungus Cariang"],
        coverage: &[
            area(&["Ciroyom"], "2023-12-01", "2024-08-31", "Pendampingan pemasaran"),
            area(&["Dungus Cariang"], "2023-12-01", "2024-08-31", "Pendampingan pemasaran"),
            site("Dungus Cariang", 300.0, 700.0, "2024-01-15", "2024-08-31", "Bazar produk warga"),
        ],
    },
    ProgramDef {
        code: "ukm-perempuan-2024",
        name: "Pelatihan Usaha dan Akses Pasar bagi UKM Perempuan",
        partner: "diskopukm",
        kind: "ukm",
        start: "2024-03-01",
        end: "2025-02-28",
        target_group: "Perempuan pelaku usaha mikro dari keluarga berpenghasilan rendah",
        planned: 200,
        description: "Pelatihan manajemen usaha, sertifikasi halal, dan kurasi produk untuk masuk ke ritel modern dan pasar daring.",
        kelurahan: &["Sukapura", "Kebon Kangkung", "Babakan Surabaya", "Cicaheum", "Antapani Kidul"],
        coverage: &[
            area(&["Sukapura", "Kebon Kangkung"], "2024-03-01", "2025-02-28", "Peserta pelatihan UKM perempuan"),
            area(&["Babakan Surabaya", "Cicaheum"], "2024-03-01", "2024-12-31", "Peserta pelatihan UKM perempuan"),
            area(&["Antapani Kidul"], "2024-06-03", "2025-02-28", "Peserta pelatihan UKM perempuan"),
            site("Sukapura", 500.0, 1000.0, "2024-05-01", "2025-02-28", "Pasar UMKM bulanan"),
        ],
    },
    ProgramDef {
        code: "ukm-digital-2024",
        name: "Pemasaran Digital untuk UMKM Perempuan (CSR)",
        partner: "skn",
        kind: "ukm",
        start: "2024-08-01",
        end: "2025-06-30",
        target_group: "Perempuan pelaku UMKM",
        planned: 150,
        description: "Program tanggung jawab sosial perusahaan: pelatihan foto produk, toko daring, dan pembayaran digital. Sasaran sebagian tumpang tindih dengan program pemerintah di kecamatan yang sama.",
        kelurahan: &["Sukapura", "Kebon Kangkung", "Babakan Surabaya", "Binong", "Gumuruh"],
        coverage: &[
            area(&["Sukapura", "Kebon Kangkung"], "2024-08-01", "2025-06-30", "Peserta pelatihan pemasaran digital"),
            area(&["Babakan Surabaya"], "2024-08-01", "2025-03-31", "Peserta pelatihan pemasaran digital"),
            area(&["Binong", "Gumuruh"], "2024-10-01", "2025-06-30", "Peserta pelatihan pemasaran digital"),
            site("Kebon Kangkung", 300.0, 800.0, "2024-08-01", "2025-06-30", "Pojok digital UMKM"),
        ],
    },
    ProgramDef {
        code: "drainase-musrenbang-2023",
        name: "Perbaikan Drainase dan Jalan Lingkungan Hasil Musrenbang",
        partner: "dsdabm",
        kind: "infrastruktur",
        start: "2023-06-01",
        end: "2024-03-28",
        target_group: "Warga RW pengusul musrenbang kelurahan",
        planned: 4200,
        description: "Pekerjaan saluran drainase, gorong-gorong, dan jalan lingkungan yang diusulkan warga melalui musyawarah perencanaan pembangunan kelurahan.",
        kelurahan: &["Babakan Ciparay", "Margahayu Utara", "Cirangrang", "Margasuka"],
        coverage: &[
            corridor(&["Babakan Ciparay", "Margahayu Utara"], "2023-06-01", "2023-12-22", "Ruas saluran drainase yang direhabilitasi"),
            corridor(&["Cirangrang", "Margasuka"], "2023-08-01", "2024-03-28", "Ruas saluran drainase yang direhabilitasi"),
            site("Babakan Ciparay", 300.0, 700.0, "2023-07-03", "2023-11-30", "Penggantian gorong-gorong"),
            site("Margasuka", 300.0, 700.0, "2023-09-04", "2024-02-29", "Perbaikan jalan lingkungan"),
            site("Cirangrang", 300.0, 700.0, "2023-10-02", "2024-03-28", "Sumur resapan komunal"),
        ],
    },
    ProgramDef {
        code: "mck-komunal-2024",
        name: "Pembangunan MCK Komunal Berbasis Musyawarah Warga",
        partner: "dsdabm",
        kind: "infrastruktur",
        start: "2024-04-01",
        end: "2025-03-31",
        target_group: "Warga permukiman padat tanpa jamban layak",
        planned: 2600,
        description: "Pembangunan MCK komunal dan tangki septik bersama di lokasi yang disepakati dalam rembuk warga, dikelola oleh kelompok pemanfaat.",
        kelurahan: &["Cibangkong", "Samoja", "Kacapiring", "Cikutra", "Sukamaju", "Cicadas"],
        coverage: &[
            site("Cibangkong", 300.0, 600.0, "2024-04-01", "2024-09-30", "MCK komunal"),
            site("Samoja", 300.0, 600.0, "2024-05-02", "2024-10-31", "MCK komunal"),
            site("Kacapiring", 300.0, 600.0, "2024-06-03", "2024-12-20", "MCK komunal"),
            site("Cikutra", 300.0, 600.0, "2024-07-01", "2025-01-31", "MCK komunal dan tangki septik bersama"),
            site("Sukamaju", 300.0, 600.0, "2024-09-02", "2025-03-31", "MCK komunal"),
            site("Cicadas", 300.0, 600.0, "2024-10-01", "2025-03-31", "MCK komunal"),
        ],
    },
    ProgramDef {
        code: "drainase-cileuncang-2025",
        name: "Rehabilitasi Drainase Kawasan Rawan Cileuncang",
        partner: "dsdabm",
        kind: "infrastruktur",
        start: "2025-01-15",
        end: "2025-12-15",
        target_group: "Warga kawasan rawan genangan",
        planned: 6800,
        description: "Normalisasi saluran, pembangunan sumur resapan, dan penggantian gorong-gorong di kawasan yang sering tergenang saat hujan deras.",
        kelurahan: &["Margasari", "Cijaura", "Sekejati", "Batununggal", "Mengger", "Kujangsari"],
        coverage: &[
            corridor(&["Margasari", "Cijaura", "Sekejati"], "2025-01-15", "2025-08-29", "Ruas normalisasi saluran"),
            corridor(&["Batununggal", "Mengger", "Kujangsari"], "2025-04-01", "2025-12-15", "Ruas normalisasi saluran"),
            site("Cijaura", 400.0, 900.0, "2025-02-03", "2025-07-31", "Sumur resapan dan kolam retensi mini"),
            site("Mengger", 400.0, 900.0, "2025-05-05", "2025-11-28", "Penggantian gorong-gorong"),
            site("Kujangsari", 300.0, 800.0, "2025-06-02", "2025-12-15", "Sumur resapan komunal"),
        ],
    },
    ProgramDef {
        code: "pju-jalan-2026",
        name: "Penambahan PJU dan Perbaikan Jalan Lingkungan",
        partner: "dsdabm",
        kind: "infrastruktur",
        start: "2026-02-02",
        end: "2026-11-27",
        target_group: "Warga gang gelap dan jalan lingkungan rusak",
        planned: 3500,
        description: "Pemasangan lampu penerangan jalan umum tenaga surya dan perbaikan jalan lingkungan berdasarkan usulan warga yang telah diverifikasi.",
        kelurahan: &["Pasirlayung", "Padasuka", "Jatihandap", "Karang Pamulang"],
        coverage: &[
            corridor(&["Pasirlayung", "Padasuka"], "2026-02-02", "2026-07-31", "Ruas pemasangan PJU"),
            site("Jatihandap", 400.0, 900.0, "2026-03-02", "2026-09-30", "Perbaikan jalan lingkungan"),
            site("Karang Pamulang", 400.0, 900.0, "2026-05-04", "2026-11-27", "Pemasangan PJU tenaga surya"),
            site("Padasuka", 300.0, 700.0, "2026-06-01", "2026-11-27", "Perbaikan jalan dan saluran"),
        ],
    },
    ProgramDef {
        code: "hidroponik-kwt-2025",
        name: "Pelatihan Hidroponik dan Budidaya Ikan bagi KWT",
        partner: "kkwl",
        kind: "pelatihan_pertanian",
        start: "2025-03-03",
        end: "2025-10-31",
        target_group: "Kelompok wanita tani dan karang taruna",
        planned: 140,
        description: "Pelatihan sistem hidroponik NFT, budidaya ikan dalam ember, dan pembuatan kompos dari sampah organik rumah tangga.",
        kelurahan: &["Sukamiskin", "Cisaranten Endah", "Cisaranten Kulon", "Palasari", "Cisurupan"],
        coverage: &[
            area(&["Sukamiskin", "Cisaranten Endah", "Cisaranten Kulon"], "2025-03-03", "2025-10-31", "Peserta pelatihan hidroponik"),
            area(&["Palasari", "Cisurupan"], "2025-04-07", "2025-10-31", "Peserta pelatihan hidroponik"),
            site("Sukamiskin", 500.0, 1000.0, "2025-03-03", "2025-10-31", "Kebun hidroponik percontohan"),
        ],
    },
    ProgramDef {
        code: "dampingan-hidroponik-2025",
        name: "Pendampingan Kebun Hidroponik Warga",
        partner: "ytkm",
        kind: "pendampingan",
        start: "2025-12-01",
        end: "2026-09-30",
        target_group: "Alumni pelatihan hidroponik 2025",
        planned: 70,
        description: "Pendampingan perawatan instalasi hidroponik, pencatatan panen, dan penjualan ke warung sayur sekitar.",
        kelurahan: &["Sukamiskin", "Cisaranten Kulon", "Palasari"],
        coverage: &[
            area(&["Sukamiskin", "Cisaranten Kulon"], "2025-12-01", "2026-09-30", "Pendampingan kebun hidroponik"),
            area(&["Palasari"], "2026-01-05", "2026-09-30", "Pendampingan kebun hidroponik"),
            site("Cisaranten Kulon", 400.0, 800.0, "2026-02-02", "2026-09-30", "Titik kumpul panen"),
        ],
    },
    ProgramDef {
        code: "kerja-digital-2025",
        name: "Pelatihan Teknisi dan Operator Digital bagi Pemuda",
        partner: "disnaker",
        kind: "pelatihan_kerja",
        start: "2025-04-14",
        end: "2025-11-28",
        target_group: "Lulusan SMA/SMK usia 18–25 tahun",
        planned: 220,
        description: "Pelatihan teknisi jaringan, perbaikan telepon seluler, dan operator administrasi perkantoran digital, dengan sertifikasi kompetensi.",
        kelurahan: &["Cipadung", "Pasir Biru", "Cipadung Kidul", "Mekar Mulya", "Cisaranten Wetan"],
        coverage: &[
            area(&["Cipadung", "Pasir Biru"], "2025-04-14", "2025-11-28", "Peserta pelatihan kerja digital"),
            area(&["Cipadung Kidul", "Mekar Mulya", "Cisaranten Wetan"], "2025-05-05", "2025-11-28", "Peserta pelatihan kerja digital"),
            site("Cipadung Kidul", 500.0, 1000.0, "2025-04-14", "2025-11-28", "Laboratorium pelatihan mitra"),
        ],
    },
    ProgramDef {
        code: "kerja-las-2026",
        name: "Pelatihan Las dan Perbengkelan bersama Bengkel Mitra",
        partner: "skn",
        kind: "pelatihan_kerja",
        start: "2026-03-02",
        end: "2026-10-30",
        target_group: "Pemuda putus sekolah dan pencari kerja",
        planned: 90,
        description: "Pelatihan pengelasan dasar dan perawatan sepeda motor di bengkel mitra, dilanjutkan penempatan magang.",
        kelurahan: &["Sukaraja", "Sukawarna", "Campaka"],
        coverage: &[
            area(&["Sukaraja", "Sukawarna", "Campaka"], "2026-03-02", "2026-10-30", "Peserta pelatihan las dan perbengkelan"),
            site("Sukaraja", 400.0, 900.0, "2026-03-02", "2026-10-30", "Bengkel mitra pelatihan"),
            site("Campaka", 300.0, 700.0, "2026-05-04", "2026-10-30", "Bengkel mitra pelatihan"),
        ],
    },
    ProgramDef {
        code: "lumbung-pangan-2026",
        name: "Lumbung Pangan dan Dapur Sehat Warga",
        partner: "dinsos",
        kind: "lainnya",
        start: "2026-01-05",
        end: "2026-12-18",
        target_group: "Keluarga rawan pangan, lansia, dan balita berisiko gizi kurang",
        planned: 900,
        description: "Lumbung pangan RW dan dapur sehat yang menyediakan makanan bergizi mingguan, dikelola kader PKK dan karang taruna.",
        kelurahan: &["Sarijadi", "Sukarasa", "Gegerkalong"],
        coverage: &[
            site("Sarijadi", 400.0, 800.0, "2026-01-05", "2026-12-18", "Lumbung pangan RW"),
            site("Sukarasa", 400.0, 800.0, "2026-02-02", "2026-12-18", "Dapur sehat warga"),
            site("Gegerkalong", 400.0, 900.0, "2026-03-02", "2026-12-18", "Lumbung pangan RW"),
        ],
    },
    ProgramDef {
        code: "dampingan-keluarga-2025",
        name: "Pendampingan Keluarga Prasejahtera Terpadu",
        partner: "dinsos",
        kind: "pendampingan",
        start: "2025-05-05",
        end: "2026-04-30",
        target_group: "Keluarga penerima bantuan sosial",
        planned: 400,
        description: "Pendampingan keluarga oleh pekerja sosial: rencana keluarga, rujukan layanan kesehatan dan pendidikan, serta penghubung ke program pelatihan.",
        kelurahan: &["Cigereleng", "Ancol", "Ciseureuh", "Pasirluyu"],
        coverage: &[
            area(&["Cigereleng", "Ancol"], "2025-05-05", "2026-04-30", "Keluarga dampingan"),
            area(&["Ciseureuh", "Pasirluyu"], "2025-07-01", "2026-04-30", "Keluarga dampingan"),
            site("Ancol", 300.0, 700.0, "2025-06-02", "2026-04-30", "Posko pekerja sosial"),
        ],
    },
    // Its coverage is drawn from the facility layer (coverage_rules.csv below), not designed here.
    ProgramDef {
        code: "gizi-puskesmas-2025",
        name: "Kelas Gizi dan Pendampingan Ibu Balita di Puskesmas",
        partner: "dinsos",
        kind: "pendampingan",
        start: "2025-02-03",
        end: "2026-12-18",
        target_group: "Ibu hamil dan ibu balita dari keluarga prasejahtera",
        planned: 1200,
        description: "Kelas gizi bulanan dan kunjungan rumah oleh kader, berpusat di setiap puskesmas; warga dalam radius 500 m dari puskesmas dihitung terjangkau.",
        kelurahan: &[],
        coverage: &[],
    },
];

/// coverage_rules.csv: coverage drawn from the facility layer (every puskesmas, 500 m).
pub fn coverage_rules_csv() -> String {
    let mut s = csv_line(&[
        "code".into(),
        "program_code".into(),
        "facility_category".into(),
        "radius_m".into(),
        "valid_from".into(),
        "valid_to".into(),
        "note".into(),
    ]);
    s += &csv_line(&[
        "gizi-puskesmas-2025-puskesmas".into(),
        "gizi-puskesmas-2025".into(),
        "puskesmas".into(),
        "500".into(),
        "2025-02-03".into(),
        "2026-12-18".into(),
        "Kelas gizi di puskesmas".into(),
    ]);
    s
}

pub fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("bad date in program design")
}

pub fn programs_csv() -> String {
    let mut s = String::from(
        "code,name,partner_code,type,start_date,end_date,target_group,planned_beneficiaries,description\n",
    );
    for p in PROGRAMS {
        partner(p.partner);
        s += &csv_line(&[
            p.code.into(),
            p.name.into(),
            p.partner.into(),
            p.kind.into(),
            p.start.into(),
            p.end.into(),
            p.target_group.into(),
            p.planned.to_string(),
            p.description.into(),
        ]);
    }
    s
}

pub enum CovGeom {
    Area(IMulti),
    Site(IP, f64),
}

pub struct Coverage {
    pub code: String,
    pub program: usize,
    pub geom: CovGeom,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub note: String,
    /// kelurahan (indices) the geometry touches (circle for sites)
    pub hits: Vec<usize>,
}

struct Ctx<'a> {
    layers: &'a Layers,
    metric: Vec<MultiPolygon<f64>>,
    by_name: HashMap<&'a str, usize>,
}

impl<'a> Ctx<'a> {
    fn ids(&self, names: &[&str]) -> Vec<usize> {
        names
            .iter()
            .filter_map(|n| {
                let r = self.by_name.get(n).copied();
                if r.is_none() {
                    eprintln!(
                        "warning: kelurahan {n:?} from the program design is not in the facts"
                    );
                }
                r
            })
            .collect()
    }

    /// Dissolved kelurahan, pulled `inset` metres inside (metric plane).
    fn inner(&self, ids: &[usize], inset: f64) -> MultiPolygon<f64> {
        // The real boundaries overlap their neighbours in places, so a boolean union (not an
        // edge-cancelling dissolve) joins them.
        let d = geo::unary_union(ids.iter().map(|&i| &self.metric[i]));
        buffer_safe(&d, -inset)
    }

    fn random_point_in<R: Rng>(
        &self,
        m: &MultiPolygon<f64>,
        min_edge: f64,
        rng: &mut R,
    ) -> Option<P> {
        let bb = m.bounding_rect()?;
        for _ in 0..2000 {
            let p = Point::new(
                rng.gen_range(bb.min().x..bb.max().x),
                rng.gen_range(bb.min().y..bb.max().y),
            );
            if !m.contains(&p) {
                continue;
            }
            let d =
                m.0.iter()
                    .flat_map(|poly| std::iter::once(poly.exterior()).chain(poly.interiors()))
                    .map(|r| Euclidean.distance(&p, r))
                    .fold(f64::MAX, f64::min);
            if d >= min_edge {
                return Some((p.x(), p.y()));
            }
        }
        None
    }

    fn to_lonlat(&self, m: &MultiPolygon<f64>) -> Option<IMulti> {
        let im = from_metric_multi(m, &self.layers.proj);
        if im.is_empty() {
            return None;
        }
        let g = to_geo_multi(&im);
        if g.is_valid() {
            return Some(im);
        }
        // rounding to 1e-6° broke something: simplify slightly and retry
        for eps in [0.5, 1.0, 2.0, 4.0] {
            let s = geo::Simplify::simplify(m, eps);
            let im = from_metric_multi(&s, &self.layers.proj);
            if !im.is_empty() && to_geo_multi(&im).is_valid() {
                return Some(im);
            }
        }
        None
    }
}

fn hits_area(ctx: &Ctx, g: &IMulti) -> Vec<usize> {
    let gg = to_geo_multi(g);
    (0..ctx.layers.kel.len())
        .filter(|&i| gg.intersects(&to_geo_multi(&ctx.layers.kel[i])))
        .collect()
}

fn hits_site(ctx: &Ctx, p: IP, r: f64) -> Vec<usize> {
    let pm = ctx.layers.proj.fwd_i(p);
    let pt = Point::new(pm.0, pm.1);
    (0..ctx.metric.len())
        .filter(|&i| Euclidean.distance(&pt, &ctx.metric[i]) <= r)
        .collect()
}

pub fn coverage<R: Rng>(facts: &Facts, layers: &Layers, rng: &mut R) -> Vec<Coverage> {
    let ctx = Ctx {
        layers,
        metric: layers
            .kel
            .iter()
            .map(|m| to_metric_multi(m, &layers.proj))
            .collect(),
        by_name: facts
            .kelurahan
            .iter()
            .enumerate()
            .map(|(i, k)| (k.name.as_str(), i))
            .collect(),
    };
    let mut out = Vec::new();
    for (pi, p) in PROGRAMS.iter().enumerate() {
        let targets: BTreeSet<usize> = ctx.ids(p.kelurahan).into_iter().collect();
        let (ps, pe) = (date(p.start), date(p.end));
        for spec in p.coverage {
            let (from, to) = (date(spec.from), date(spec.to));
            assert!(
                ps <= from && from <= to && to <= pe,
                "coverage dates outside program {}",
                p.code
            );
            let (geom, note) = match &spec.shape {
                Shape::Area(names) => {
                    let ids = ctx.ids(names);
                    assert!(
                        ids.iter().all(|i| targets.contains(i)),
                        "{}: area outside targets",
                        p.code
                    );
                    let Some(g) = ctx.to_lonlat(&ctx.inner(&ids, 25.0)) else {
                        eprintln!("warning: {}: empty coverage area", p.code);
                        continue;
                    };
                    (
                        CovGeom::Area(g),
                        format!("{}: {}", spec.note, names.join(", ")),
                    )
                }
                Shape::Corridor(names) => {
                    let ids = ctx.ids(names);
                    let inner = ctx.inner(&ids, 25.0);
                    let mut best: Option<MultiPolygon<f64>> = None;
                    for _ in 0..20 {
                        let Some(start) = ctx.random_point_in(&inner, 80.0, rng) else {
                            break;
                        };
                        let mut pts = vec![Coord {
                            x: start.0,
                            y: start.1,
                        }];
                        let mut heading = rng.gen_range(0.0..std::f64::consts::TAU);
                        let steps = rng.gen_range(9..15);
                        for _ in 0..steps {
                            let mut moved = false;
                            for _try in 0..12 {
                                let h = heading + rng.gen_range(-0.6..0.6);
                                let len = rng.gen_range(120.0..260.0);
                                let last = *pts.last().unwrap();
                                let c = Coord {
                                    x: last.x + len * h.cos(),
                                    y: last.y + len * h.sin(),
                                };
                                if inner.contains(&Point::from(c)) {
                                    pts.push(c);
                                    heading = h;
                                    moved = true;
                                    break;
                                }
                            }
                            if !moved {
                                heading += std::f64::consts::PI * rng.gen_range(0.5..1.5);
                            }
                        }
                        if pts.len() < 4 {
                            continue;
                        }
                        let half_width = rng.gen_range(40.0..80.0);
                        let band =
                            buffer_safe(&LineString::new(pts), half_width).intersection(&inner);
                        if band.unsigned_area() > 150_000.0 {
                            best = Some(band);
                            break;
                        }
                        if best
                            .as_ref()
                            .is_none_or(|b| band.unsigned_area() > b.unsigned_area())
                        {
                            best = Some(band);
                        }
                    }
                    let Some(g) = best.and_then(|b| ctx.to_lonlat(&b)) else {
                        eprintln!("warning: {}: no corridor", p.code);
                        continue;
                    };
                    (
                        CovGeom::Area(g),
                        format!("{}: {}", spec.note, names.join(", ")),
                    )
                }
                Shape::Site(name, rmin, rmax) => {
                    let ids = ctx.ids(&[name]);
                    let Some(&k) = ids.first() else { continue };
                    let cell = &ctx.metric[k];
                    let mut best: Option<(f64, IP)> = None;
                    let mut chosen: Option<(IP, f64)> = None;
                    for _ in 0..300 {
                        let Some(pm) = ctx.random_point_in(cell, 60.0, rng) else {
                            break;
                        };
                        let ip = layers.proj.inv_i(pm);
                        if !layers.only_in(ip, k) {
                            continue;
                        }
                        let pr = layers.proj.fwd_i(ip);
                        let pt = Point::new(pr.0, pr.1);
                        // The circle stays inside the one kelurahan its note names.
                        let clear = (0..ctx.metric.len())
                            .filter(|&j| j != k)
                            .map(|j| Euclidean.distance(&pt, &ctx.metric[j]))
                            .fold(f64::MAX, f64::min)
                            - 20.0;
                        if clear >= *rmin {
                            let hi = rmax.min(clear);
                            let r = (rng.gen_range(*rmin..=hi) / 50.0).floor() * 50.0;
                            chosen = Some((ip, r.max(*rmin).min(hi).floor()));
                            break;
                        }
                        if best.is_none_or(|b| clear > b.0) {
                            best = Some((clear, ip));
                        }
                    }
                    let (ip, r) = match (chosen, best) {
                        (Some(c), _) => c,
                        (None, Some((clear, ip))) if clear >= 100.0 => {
                            (ip, (clear / 10.0).floor() * 10.0)
                        }
                        _ => {
                            eprintln!("warning: {}: no site in {name}", p.code);
                            continue;
                        }
                    };
                    (
                        CovGeom::Site(ip, r),
                        format!("{} di Kelurahan {}", spec.note, name),
                    )
                }
            };
            let hits = match &geom {
                CovGeom::Area(g) => hits_area(&ctx, g),
                CovGeom::Site(p, r) => hits_site(&ctx, *p, *r),
            };
            if let Some(bad) = hits.iter().find(|h| !targets.contains(h)) {
                eprintln!(
                    "warning: {} coverage touches non-target kelurahan {}",
                    p.code, facts.kelurahan[*bad].name
                );
            }
            out.push(Coverage {
                code: String::new(),
                program: pi,
                geom,
                from,
                to,
                note,
                hits,
            });
        }
    }
    // codes in chronological order of validity
    out.sort_by(|a, b| {
        a.from
            .cmp(&b.from)
            .then(a.program.cmp(&b.program))
            .then(a.to.cmp(&b.to))
    });
    for (k, c) in out.iter_mut().enumerate() {
        c.code = format!("cov-{:03}", k + 1);
    }
    out
}

pub struct Analysis {
    pub lines: Vec<String>,
    pub covered: BTreeSet<usize>,
    /// the 12 kelurahan with the highest low-income household density
    pub poorest: Vec<usize>,
}

const TRAINING: &[&str] = &["pelatihan_pertanian", "pelatihan_kerja", "ukm"];

/// Follow-up gaps, duplicated effort and uncovered poor kelurahan, computed
/// from the generated coverage (the same way an analyst would).
pub fn analyse(facts: &Facts, cov: &[Coverage], density: &[f64]) -> Analysis {
    let mut lines = Vec::new();
    let name = |i: usize| facts.kelurahan[i].name.clone();
    // kelurahan covered per program
    let mut by_prog: HashMap<usize, BTreeSet<usize>> = HashMap::new();
    for c in cov {
        by_prog
            .entry(c.program)
            .or_default()
            .extend(c.hits.iter().copied());
    }
    // 1. follow-up gaps
    for (pi, p) in PROGRAMS.iter().enumerate() {
        let end = date(p.end);
        if !TRAINING.contains(&p.kind) || !(2023..=2024).contains(&chrono::Datelike::year(&end)) {
            continue;
        }
        let window_end = end + Duration::days(183);
        let kel = by_prog.get(&pi).cloned().unwrap_or_default();
        let (mut ok, mut gap) = (Vec::new(), Vec::new());
        for &k in &kel {
            let followed = cov.iter().any(|c| {
                PROGRAMS[c.program].kind == "pendampingan"
                    && c.hits.contains(&k)
                    && c.from <= window_end
                    && c.to > end
            });
            if followed {
                ok.push(name(k))
            } else {
                gap.push(name(k))
            }
        }
        lines.push(format!(
            "follow-up {} (ended {}): pendampingan <=6 mo in [{}]; GAP in [{}]",
            p.code,
            p.end,
            ok.join(", "),
            gap.join(", ")
        ));
    }
    // 2. duplicated effort: same type, different partners, shared kelurahan, overlapping dates
    let mut seen = BTreeSet::new();
    for a in cov {
        for b in cov {
            let (pa, pb) = (&PROGRAMS[a.program], &PROGRAMS[b.program]);
            if a.program >= b.program || pa.kind != pb.kind || pa.partner == pb.partner {
                continue;
            }
            let shared: Vec<usize> = a
                .hits
                .iter()
                .filter(|k| b.hits.contains(k))
                .copied()
                .collect();
            let from = a.from.max(b.from);
            let to = a.to.min(b.to);
            if shared.is_empty() || from > to {
                continue;
            }
            for k in shared {
                seen.insert((a.program, b.program, k, from, to));
            }
        }
    }
    let mut dup: HashMap<(usize, usize), (BTreeSet<usize>, NaiveDate, NaiveDate)> = HashMap::new();
    for (a, b, k, f, t) in seen {
        let e = dup.entry((a, b)).or_insert((BTreeSet::new(), f, t));
        e.0.insert(k);
        e.1 = e.1.min(f);
        e.2 = e.2.max(t);
    }
    let mut dups: Vec<_> = dup.into_iter().collect();
    dups.sort_by_key(|d| d.0);
    for ((a, b), (ks, f, t)) in dups {
        lines.push(format!(
            "duplicated effort ({}): {} [{}] & {} [{}] in [{}], {}..{}",
            PROGRAMS[a].kind,
            PROGRAMS[a].code,
            PROGRAMS[a].partner,
            PROGRAMS[b].code,
            PROGRAMS[b].partner,
            ks.iter().map(|&k| name(k)).collect::<Vec<_>>().join(", "),
            f,
            t
        ));
    }
    // 3. poorest kelurahan and their coverage
    let covered: BTreeSet<usize> = cov.iter().flat_map(|c| c.hits.iter().copied()).collect();
    let mut rank: Vec<usize> = (0..facts.kelurahan.len()).collect();
    rank.sort_by(|&a, &b| density[b].partial_cmp(&density[a]).unwrap());
    let top: Vec<String> = rank
        .iter()
        .take(12)
        .enumerate()
        .map(|(r, &k)| {
            format!(
                "#{} {} {:.0}/km²{}",
                r + 1,
                name(k),
                density[k],
                if covered.contains(&k) {
                    ""
                } else {
                    " UNCOVERED"
                }
            )
        })
        .collect();
    lines.push(format!(
        "poorest (low-income households per km²): {}",
        top.join("; ")
    ));
    rank.truncate(12);
    Analysis {
        lines,
        covered,
        poorest: rank,
    }
}
