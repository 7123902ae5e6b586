//! The controlled vocabularies: partner types, program types, proposal categories and the
//! proposal lifecycle. Stored as the snake_case ids below (the same ids the CHECK constraints of
//! sql/migrations accept); labels for people live in the map's i18n files.

macro_rules! vocab {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $id:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $(#[serde(rename = $id)] $variant),+
        }

        impl $name {
            /// Every id, in display order.
            pub const ALL: &'static [&'static str] = &[$($id),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $id),+ }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s { $($id => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

vocab!(
    /// Who runs a program.
    PartnerType {
        Pemerintah = "pemerintah",
        Lsm = "lsm",
        Swasta = "swasta",
        Komunitas = "komunitas",
    }
);

vocab!(
    /// What a program does.
    ProgramType {
        PelatihanPertanian = "pelatihan_pertanian",
        PelatihanKerja = "pelatihan_kerja",
        Ukm = "ukm",
        Infrastruktur = "infrastruktur",
        Pendampingan = "pendampingan",
        Lainnya = "lainnya",
    }
);

vocab!(
    /// What a public facility is (the reference layer, usually from OpenStreetMap).
    FacilityCategory {
        Puskesmas = "puskesmas",
        Hospital = "hospital",
        Clinic = "clinic",
        School = "school",
        University = "university",
    }
);

vocab!(
    /// What a community proposal asks for.
    ProposalCategory {
        Jalan = "jalan",
        Drainase = "drainase",
        AirBersih = "air_bersih",
        Sanitasi = "sanitasi",
        PeneranganJalan = "penerangan_jalan",
        FasilitasUmum = "fasilitas_umum",
        Lainnya = "lainnya",
    }
);

vocab!(
    /// Where a proposal stands, in the spirit of Musrenbang.
    ProposalStatus {
        Diajukan = "diajukan",
        Diverifikasi = "diverifikasi",
        Ditolak = "ditolak",
        Digabung = "digabung",
        Diprioritaskan = "diprioritaskan",
        Dianggarkan = "dianggarkan",
        Dikerjakan = "dikerjakan",
        Selesai = "selesai",
    }
);

impl ProposalStatus {
    /// Statuses that are public: verified and every later stage of the build path.
    pub const PUBLIC: &'static [&'static str] = &[
        "diverifikasi",
        "diprioritaskan",
        "dianggarkan",
        "dikerjakan",
        "selesai",
    ];

    pub fn is_public(self) -> bool {
        Self::PUBLIC.contains(&self.as_str())
    }

    /// Statuses no transition leaves (`lifecycle::check_transition`): the proposal's story has
    /// ended, so its email followers get one last mail and are forgotten (docs/privacy.md).
    pub const FINAL: &'static [&'static str] = &["ditolak", "digabung", "selesai"];

    pub fn is_final(self) -> bool {
        Self::FINAL.contains(&self.as_str())
    }
}
