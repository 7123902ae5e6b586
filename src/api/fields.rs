//! A JSON object read field by field, so that every wrong value is answered with a 422 naming its
//! field, in Bahasa Indonesia and English (serde's own messages name a line and column, not the
//! field). Used by the partner routes, where an edit is the stored object merged with the patch
//! and then checked exactly like a new one.

use chrono::NaiveDate;
use serde_json::{Map, Value};

use crate::error::{ApiError, ApiResult};

/// The fields of a request body.
#[derive(Debug, Clone)]
pub struct Fields(Map<String, Value>);

fn wrong(field: &str, id: String, en: String) -> ApiError {
    ApiError::invalid_field(field, id, en)
}

impl Fields {
    /// Accepts an object holding only `allowed` keys.
    pub fn new(value: Value, allowed: &[&str]) -> ApiResult<Fields> {
        let Value::Object(map) = value else {
            return Err(ApiError::unprocessable(crate::error::Msg::new(
                "Kirim satu objek JSON.",
                "Send one JSON object.",
            )));
        };
        if let Some(key) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(wrong(
                key,
                format!(
                    "Kolom {key} tidak dikenal. Kolom yang diterima: {}.",
                    allowed.join(", ")
                ),
                format!(
                    "Unknown field {key}. Accepted fields: {}.",
                    allowed.join(", ")
                ),
            ));
        }
        Ok(Fields(map))
    }

    /// `base` (a stored object) with the keys of `patch` replacing its own.
    pub fn merged(base: Value, patch: Fields) -> Fields {
        let mut map = match base {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        map.extend(patch.0);
        Fields(map)
    }

    /// True when the key is there at all, even as null.
    pub fn present(&self, field: &str) -> bool {
        self.0.contains_key(field)
    }

    pub fn has(&self, field: &str) -> bool {
        self.0.get(field).is_some_and(|v| !v.is_null())
    }

    pub fn get(&self, field: &str) -> Option<&Value> {
        self.0.get(field).filter(|v| !v.is_null())
    }

    /// Trimmed text of at most `max` characters; absent, null and blank are `None`.
    pub fn text(&self, field: &str, max: usize) -> ApiResult<Option<String>> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::String(s)) => {
                let s = s.trim();
                if s.chars().count() > max {
                    Err(wrong(
                        field,
                        format!("Kolom {field} paling panjang {max} karakter."),
                        format!("The field {field} has at most {max} characters."),
                    ))
                } else {
                    Ok((!s.is_empty()).then(|| s.to_owned()))
                }
            }
            Some(_) => Err(wrong(
                field,
                format!("Kolom {field} harus berupa teks."),
                format!("The field {field} must be text."),
            )),
        }
    }

    /// Like [`text`](Self::text), but required.
    pub fn required_text(&self, field: &str, max: usize) -> ApiResult<String> {
        self.text(field, max)?.ok_or_else(|| {
            wrong(
                field,
                format!("Kolom {field} wajib diisi."),
                format!("The field {field} is required."),
            )
        })
    }

    /// A code of `[a-z0-9][a-z0-9_-]{0,63}` (partners, programs, coverage areas).
    pub fn slug(&self, field: &str) -> ApiResult<String> {
        let s = self.required_text(field, 64)?;
        let b = s.as_bytes();
        let ok = (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
            && b.iter()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_' || *c == b'-');
        if ok {
            Ok(s)
        } else {
            Err(wrong(
                field,
                format!("Kolom {field} berisi 1–64 huruf kecil, angka, '_' atau '-', diawali huruf atau angka (mis. pelatihan-umkm-2025)."),
                format!("The field {field} holds 1–64 lowercase letters, digits, '_' or '-', starting with a letter or digit (e.g. pelatihan-umkm-2025)."),
            ))
        }
    }

    /// A whole number in `min..=max`.
    pub fn int(&self, field: &str, min: i64, max: i64) -> ApiResult<Option<i32>> {
        let Some(v) = self.get(field) else {
            return Ok(None);
        };
        match v.as_i64() {
            Some(n) if (min..=max).contains(&n) => Ok(i32::try_from(n).ok()),
            _ => Err(wrong(
                field,
                format!("Kolom {field} harus bilangan bulat antara {min} dan {max}."),
                format!("The field {field} must be a whole number between {min} and {max}."),
            )),
        }
    }

    /// A number in `min..=max`.
    pub fn number(&self, field: &str, min: f64, max: f64) -> ApiResult<Option<f64>> {
        let Some(v) = self.get(field) else {
            return Ok(None);
        };
        match v.as_f64() {
            Some(n) if n.is_finite() && n >= min && n <= max => Ok(Some(n)),
            _ => Err(wrong(
                field,
                format!("Kolom {field} harus angka antara {min} dan {max}."),
                format!("The field {field} must be a number between {min} and {max}."),
            )),
        }
    }

    /// A calendar date, `YYYY-MM-DD`.
    pub fn date(&self, field: &str) -> ApiResult<Option<NaiveDate>> {
        let Some(v) = self.get(field) else {
            return Ok(None);
        };
        v.as_str()
            .and_then(|s| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok())
            .map(Some)
            .ok_or_else(|| {
                wrong(
                    field,
                    format!(
                        "Kolom {field} harus tanggal dengan format YYYY-MM-DD (mis. 2025-07-01)."
                    ),
                    format!(
                        "The field {field} must be a date written YYYY-MM-DD (e.g. 2025-07-01)."
                    ),
                )
            })
    }

    /// Like [`date`](Self::date), but required.
    pub fn required_date(&self, field: &str) -> ApiResult<NaiveDate> {
        self.date(field)?.ok_or_else(|| {
            wrong(
                field,
                format!("Kolom {field} wajib diisi (tanggal YYYY-MM-DD)."),
                format!("The field {field} is required (a date, YYYY-MM-DD)."),
            )
        })
    }

    /// One id of a vocabulary (`ids` lists them).
    pub fn vocab<T>(
        &self,
        field: &str,
        ids: &[&str],
        parse: impl Fn(&str) -> Option<T>,
    ) -> ApiResult<T> {
        let s = self.required_text(field, 64)?;
        parse(&s).ok_or_else(|| {
            wrong(
                field,
                format!("Kolom {field} harus salah satu dari: {}.", ids.join(", ")),
                format!("The field {field} must be one of: {}.", ids.join(", ")),
            )
        })
    }
}
