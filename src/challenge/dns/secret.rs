//! The DNS credentials' secrets (TSIG key, API token) use the crate's one redacting type.

pub use crate::types::Secret;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_hide_the_value() {
        let s = Secret::new("c2VjcmV0");
        assert_eq!(format!("{s:?} {s}"), "<redacted> <redacted>");
        assert_eq!(s.expose(), "c2VjcmV0");
    }
}
