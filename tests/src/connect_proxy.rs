//! A recording HTTP proxy on 127.0.0.1 for the proxy tests: it answers `CONNECT host:port`
//! with a tunnel (or a refusal, when told to), forwards plain requests in absolute form, and
//! keeps every request head it received, so a test can prove what reached the proxy and that a
//! denied request never did.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A running proxy. Dropping it does not stop it; it lives as long as the test's runtime.
pub struct ConnectProxy {
    /// Where it listens.
    pub address: SocketAddr,
    heads: Arc<Mutex<Vec<String>>>,
}

impl ConnectProxy {
    /// Starts a proxy that tunnels every `CONNECT`, or answers each with `refuse` (a status such
    /// as 407) when given.
    pub async fn start(refuse: Option<u16>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("the proxy binds");
        let address = listener.local_addr().expect("a bound address");
        let heads = Arc::new(Mutex::new(Vec::new()));
        let recorded = heads.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(serve(client, recorded.clone(), refuse));
            }
        });
        Self { address, heads }
    }

    /// The request heads received so far (request line and headers).
    pub fn heads(&self) -> Vec<String> {
        self.heads.lock().map(|h| h.clone()).unwrap_or_default()
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }
}

async fn read_head(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.push(stream.read_u8().await.ok()?);
        if head.len() > 64 * 1024 {
            return None;
        }
    }
    Some(head)
}

async fn serve(mut client: TcpStream, heads: Arc<Mutex<Vec<String>>>, refuse: Option<u16>) {
    let Some(head) = read_head(&mut client).await else { return };
    let text = String::from_utf8_lossy(&head).into_owned();
    if let Ok(mut heads) = heads.lock() {
        heads.push(text.clone());
    }
    let mut words = text.split_whitespace();
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    if let Some(status) = refuse {
        let _ = client
            .write_all(format!("HTTP/1.1 {status} Refused\r\nContent-Length: 0\r\n\r\n").as_bytes())
            .await;
        return;
    }
    if method == "CONNECT" {
        let Ok(mut upstream) = TcpStream::connect(target).await else {
            let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n").await;
            return;
        };
        if client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").await.is_err() {
            return;
        }
        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
        return;
    }
    // Plain HTTP in absolute form: one request, forwarded with its path only.
    let Ok(uri) = target.parse::<http::Uri>() else { return };
    let Some(authority) = uri.authority().map(|a| a.to_string()) else { return };
    let Ok(mut upstream) = TcpStream::connect(authority.as_str()).await else { return };
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let rewritten = text.replacen(target, path, 1);
    if upstream.write_all(rewritten.as_bytes()).await.is_err() {
        return;
    }
    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
}
