//! Lossless nginx config parser, server-block selection, patcher, `nginx -t` / reload / rollback.
