//! The coordinate reference systems SIGAP answers in (OGC API Features Part 2): their URIs,
//! SRIDs, and axis order. Storage is always EPSG:4326 with lon/lat order (CRS84).

/// One supported CRS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Crs {
    /// The OGC URI, as used in `crs`, `bbox-crs`, `Content-Crs` and `storageCrs`.
    pub uri: &'static str,
    /// The PostGIS SRID.
    pub srid: i32,
    /// True when the CRS's axis order is lat/lon (EPSG:4326), so coordinates are flipped on the way
    /// out and bbox values are read as lat/lon.
    pub lat_lon: bool,
    /// Decimals written in GeoJSON: 7 for degrees (about 1 cm), 3 for metres.
    pub decimals: i32,
}

pub const CRS84: Crs = Crs {
    uri: "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
    srid: 4326,
    lat_lon: false,
    decimals: 7,
};

/// Every CRS of `crs` and `bbox-crs`, storage CRS first.
pub const SUPPORTED: &[Crs] = &[
    CRS84,
    Crs {
        uri: "http://www.opengis.net/def/crs/EPSG/0/4326",
        srid: 4326,
        lat_lon: true,
        decimals: 7,
    },
    Crs {
        uri: "http://www.opengis.net/def/crs/EPSG/0/3857",
        srid: 3857,
        lat_lon: false,
        decimals: 3,
    },
    Crs {
        uri: "http://www.opengis.net/def/crs/EPSG/0/32748",
        srid: 32748,
        lat_lon: false,
        decimals: 3,
    },
];

impl Crs {
    /// Reads a CRS from its URI, or the short forms `CRS84`, `EPSG:n` and `[EPSG:n]`.
    ///
    /// ```
    /// use sigap::domain::crs::Crs;
    /// assert_eq!(Crs::parse("EPSG:32748").unwrap().srid, 32748);
    /// assert!(Crs::parse("EPSG:4326").unwrap().lat_lon);
    /// assert!(Crs::parse("EPSG:9999").is_none());
    /// ```
    pub fn parse(s: &str) -> Option<Crs> {
        let s = s.trim();
        let s = s
            .strip_prefix('[')
            .and_then(|t| t.strip_suffix(']'))
            .unwrap_or(s);
        if let Some(c) = SUPPORTED.iter().find(|c| c.uri == s) {
            return Some(*c);
        }
        let short = match s {
            "CRS84" | "OGC:CRS84" => return Some(CRS84),
            _ => s.strip_prefix("EPSG:")?,
        };
        SUPPORTED
            .iter()
            .find(|c| c.uri.rsplit('/').next() == Some(short) && c.uri.contains("/EPSG/"))
            .copied()
    }
}
