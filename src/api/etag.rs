//! Entity tags, one way for every conditional response SIGAP makes (tiles, public JSON, PMTiles
//! basemaps): a strong tag from the body's SHA-256, and the `If-None-Match` test.

use axum::http::{header, HeaderMap};
use sha2::{Digest, Sha256};

/// A strong ETag for `bytes`: the first 96 bits of their SHA-256, quoted.
pub fn of(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    format!("\"{}\"", hex::encode(&digest[..12]))
}

/// True when an `If-None-Match` list names `etag` (weak comparison, as RFC 9110 asks there).
pub fn none_match_hits(list: &str, etag: &str) -> bool {
    list.split(',').map(str::trim).any(|tag| {
        tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag.trim_start_matches("W/")
    })
}

/// True when the request's `If-None-Match` names `etag`.
pub fn request_hits(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|list| none_match_hits(list, etag))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_and_listed_tags_match_a_strong_one() {
        let tag = of(b"tile");
        assert_eq!(tag.len(), 26);
        assert!(none_match_hits(&tag, &tag));
        assert!(none_match_hits(&format!("\"x\", W/{tag}"), &tag));
        assert!(none_match_hits("*", &tag));
        assert!(!none_match_hits("\"x\"", &tag));
    }
}
