//! From an incoming HTTP request line to what to do.
//! Plain functions on plain data, so that they are tested without wasm.

use crate::bindings::s3_connector::s3::types::ByteRange;

/// What an incoming request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `GET /{bucket}/{key}`: the object, streamed.
    GetObject {
        /// The bucket.
        bucket: String,
        /// The key (percent-decoded).
        key: String,
    },
    /// `HEAD /{bucket}/{key}`: the object's headers.
    HeadObject {
        /// The bucket.
        bucket: String,
        /// The key.
        key: String,
    },
    /// `PUT /{bucket}/{key}`: the request body becomes the object.
    PutObject {
        /// The bucket.
        bucket: String,
        /// The key.
        key: String,
    },
    /// `DELETE /{bucket}/{key}`.
    DeleteObject {
        /// The bucket.
        bucket: String,
        /// The key.
        key: String,
    },
    /// `GET /{bucket}/?prefix=&delimiter=&continuation-token=&max-keys=`: a JSON listing.
    List {
        /// The bucket.
        bucket: String,
        /// Query parameters, decoded, in order.
        query: Vec<(String, String)>,
    },
    /// `POST /actions`: a JSON action.
    Actions,
}

/// Why a request has no route: the HTTP status and a one-line reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoRoute {
    /// 400, 404 or 405.
    pub status: u16,
    /// What is wrong and what is served.
    pub message: String,
}

const SERVED: &str = "served: GET/HEAD/PUT/DELETE /{bucket}/{key}, GET /{bucket}/?prefix=..., POST /actions";

/// Routes `method` on `path_with_query`.
pub fn route(method: &str, path_with_query: &str) -> Result<Route, NoRoute> {
    let (path, query) = path_with_query.split_once('?').unwrap_or((path_with_query, ""));
    let no = |status: u16, why: String| Err(NoRoute { status, message: format!("{why}; {SERVED}") });
    if path == "/actions" {
        return match method {
            "POST" => Ok(Route::Actions),
            other => no(405, format!("{other} /actions is not served (POST it)")),
        };
    }
    let Some(rest) = path.strip_prefix('/').filter(|rest| !rest.is_empty()) else {
        return no(404, format!("{method} {path} names no bucket"));
    };
    let (bucket, key) = match rest.split_once('/') {
        Some((bucket, key)) => (bucket, key),
        None => (rest, ""),
    };
    let bucket = decode(bucket).map_err(|message| NoRoute { status: 400, message })?;
    if key.is_empty() {
        return match method {
            "GET" => Ok(Route::List { bucket, query: decode_query(query)? }),
            other => no(405, format!("{other} on the bucket s3://{bucket} is not served")),
        };
    }
    let key = decode(key).map_err(|message| NoRoute { status: 400, message })?;
    match method {
        "GET" => Ok(Route::GetObject { bucket, key }),
        "HEAD" => Ok(Route::HeadObject { bucket, key }),
        "PUT" => Ok(Route::PutObject { bucket, key }),
        "DELETE" => Ok(Route::DeleteObject { bucket, key }),
        other => no(405, format!("{other} on an object is not served")),
    }
}

fn decode(text: &str) -> Result<String, String> {
    percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| format!("{text:?} does not decode to UTF-8"))
}

fn decode_query(query: &str) -> Result<Vec<(String, String)>, NoRoute> {
    let bad = |message| NoRoute { status: 400, message };
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let plus = |s: &str| s.replace('+', " ");
            Ok((decode(&plus(name)).map_err(bad)?, decode(&plus(value)).map_err(bad)?))
        })
        .collect()
}

/// A `Range` header: one range of `bytes=a-b`, `bytes=a-` or `bytes=-n`.
pub fn byte_range(header: &str) -> Result<ByteRange, String> {
    let bad = || format!("Range {header:?} is not one byte range (bytes=A-B, bytes=A- or bytes=-N)");
    let spec = header.trim().strip_prefix("bytes=").ok_or_else(bad)?;
    if spec.contains(',') {
        return Err(format!("Range {header:?} asks for several ranges; ask for one"));
    }
    let (first, last) = spec.split_once('-').ok_or_else(bad)?;
    let number = |s: &str| s.trim().parse::<u64>().map_err(|_| bad());
    match (first.trim().is_empty(), last.trim().is_empty()) {
        (false, false) => Ok(ByteRange::Closed((number(first)?, number(last)?))),
        (false, true) => Ok(ByteRange::StartingAt(number(first)?)),
        (true, false) => Ok(ByteRange::Suffix(number(last)?)),
        (true, true) => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(bucket: &str, key: &str) -> (String, String) {
        (bucket.to_owned(), key.to_owned())
    }

    #[test]
    fn requests_route_by_method_and_path() {
        let (b, k) = object("photos", "a b/c.jpg");
        assert_eq!(
            route("GET", "/photos/a%20b/c.jpg"),
            Ok(Route::GetObject { bucket: b.clone(), key: k.clone() })
        );
        assert_eq!(
            route("HEAD", "/photos/a%20b/c.jpg"),
            Ok(Route::HeadObject { bucket: b.clone(), key: k.clone() })
        );
        assert_eq!(
            route("PUT", "/photos/a%20b/c.jpg?x=1"),
            Ok(Route::PutObject { bucket: b.clone(), key: k.clone() })
        );
        assert_eq!(route("DELETE", "/photos/a%20b/c.jpg"), Ok(Route::DeleteObject { bucket: b, key: k }));
        assert_eq!(
            route("GET", "/photos/?prefix=2026%2F&delimiter=/&continuation-token=a+b"),
            Ok(Route::List {
                bucket: "photos".into(),
                query: vec![
                    ("prefix".into(), "2026/".into()),
                    ("delimiter".into(), "/".into()),
                    ("continuation-token".into(), "a b".into())
                ]
            })
        );
        assert_eq!(route("GET", "/photos"), Ok(Route::List { bucket: "photos".into(), query: vec![] }));
        assert_eq!(route("POST", "/actions"), Ok(Route::Actions));
    }

    #[test]
    fn other_requests_get_a_status_and_a_reason() {
        let table: &[(&str, &str, u16, &str)] = &[
            ("GET", "/actions", 405, "POST it"),
            ("GET", "/", 404, "names no bucket"),
            ("POST", "/photos/k", 405, "POST on an object"),
            ("PUT", "/photos/", 405, "PUT on the bucket"),
            ("GET", "/photos/%FF", 400, "UTF-8"),
        ];
        for (method, path, status, fragment) in table {
            let error = route(method, path).unwrap_err();
            assert_eq!(error.status, *status, "{method} {path}");
            assert!(error.message.contains(fragment), "{method} {path}: {}", error.message);
        }
    }

    #[test]
    fn ranges_parse_or_are_refused() {
        assert!(matches!(byte_range("bytes=0-99"), Ok(ByteRange::Closed((0, 99)))));
        assert!(matches!(byte_range("bytes=100-"), Ok(ByteRange::StartingAt(100))));
        assert!(matches!(byte_range("bytes=-5"), Ok(ByteRange::Suffix(5))));
        for bad in ["bytes=-", "items=0-1", "bytes=a-b", "bytes=0-1,5-6"] {
            assert!(byte_range(bad).is_err(), "{bad}");
        }
    }
}
