//! `switchyard listen`: a webhook receiver for trying Switchyard out. Prints every request it
//! gets and answers with a chosen status.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};

pub async fn listen(addr: SocketAddr, status: StatusCode) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!(
        "listening for webhooks on http://{}/ (answering {status})",
        listener.local_addr()?
    );
    let app = Router::new().fallback(print_request).with_state(status);
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

async fn print_request(
    State(status): State<StatusCode>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    println!("{method} {uri}");
    for (name, value) in &headers {
        println!("  {name}: {}", value.to_str().unwrap_or("<binary>"));
    }
    match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(json) => println!(
            "{}",
            serde_json::to_string_pretty(&json).unwrap_or_default()
        ),
        Err(_) => println!("{}", String::from_utf8_lossy(&body)),
    }
    println!();
    status
}
