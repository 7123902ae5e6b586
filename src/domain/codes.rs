//! Kemendagri area codes: `32.73` (kota/kabupaten), `32.73.01` (kecamatan),
//! `32.73.01.1001` (kelurahan/desa).

use std::fmt;
use std::str::FromStr;

/// The level of an administrative area, from its code's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AreaLevel {
    Region,
    Kecamatan,
    Kelurahan,
}

/// A validated Kemendagri code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AreaCode(String);

impl AreaCode {
    pub fn level(&self) -> AreaLevel {
        match self.0.len() {
            5 => AreaLevel::Region,
            8 => AreaLevel::Kecamatan,
            _ => AreaLevel::Kelurahan,
        }
    }

    /// The code of the area one level up (`None` for a region).
    ///
    /// ```
    /// use sigap::domain::AreaCode;
    /// let k: AreaCode = "32.73.01.1001".parse().unwrap();
    /// assert_eq!(k.parent().unwrap().as_str(), "32.73.01");
    /// ```
    pub fn parent(&self) -> Option<AreaCode> {
        match self.level() {
            AreaLevel::Region => None,
            AreaLevel::Kecamatan => Some(AreaCode(self.0[..5].to_owned())),
            AreaLevel::Kelurahan => Some(AreaCode(self.0[..8].to_owned())),
        }
    }

    /// True when `other` is this area or lies inside it.
    pub fn contains(&self, other: &AreaCode) -> bool {
        other.0 == self.0 || other.0.starts_with(&format!("{}.", self.0))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why a string is not an area code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a Kemendagri area code (expected e.g. 32.73, 32.73.01 or 32.73.01.1001)")]
pub struct BadAreaCode(pub String);

impl FromStr for AreaCode {
    type Err = BadAreaCode;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = s.split('.').collect();
        let widths: &[usize] = match parts.len() {
            2 => &[2, 2],
            3 => &[2, 2, 2],
            4 => &[2, 2, 2, 4],
            _ => return Err(BadAreaCode(s.to_owned())),
        };
        let ok = parts
            .iter()
            .zip(widths)
            .all(|(p, w)| p.len() == *w && p.bytes().all(|b| b.is_ascii_digit()));
        if ok {
            Ok(AreaCode(s.to_owned()))
        } else {
            Err(BadAreaCode(s.to_owned()))
        }
    }
}

impl fmt::Display for AreaCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Letters and digits that cannot be mistaken for each other when read aloud or copied by hand.
const TRACKING_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/// A new proposal tracking code, e.g. `USL-7K3M9Q`: short enough to write on paper, random
/// enough (31^6, about 887 million) not to be guessed.
pub fn new_tracking_code() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    let tail: String = (0..6)
        .map(|_| TRACKING_ALPHABET[rng.gen_range(0..TRACKING_ALPHABET.len())] as char)
        .collect();
    format!("USL-{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_and_parents() {
        let kel: AreaCode = "32.73.01.1001".parse().unwrap();
        assert_eq!(kel.level(), AreaLevel::Kelurahan);
        let kec = kel.parent().unwrap();
        assert_eq!(kec.as_str(), "32.73.01");
        assert_eq!(kec.parent().unwrap().as_str(), "32.73");
        assert!(kec.contains(&kel));
        assert!(!"32.73.02".parse::<AreaCode>().unwrap().contains(&kel));
        assert!("32.73.1".parse::<AreaCode>().is_err());
        assert!("32.73.01.100a".parse::<AreaCode>().is_err());
    }
}
