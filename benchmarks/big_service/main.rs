/// Source revision marker: change it together with the code so a running binary says what it is.
const REVISION: &str = "worker-initial";

use std::{convert::Infallible, net::SocketAddr, sync::Arc, time::Duration};

use clap::Parser;
use dashmap::DashMap;
use hyper::service::{make_service_fn, service_fn};
use hyper::{Body, Request, Response, Server};
use once_cell::sync::Lazy;
use parking_lot::Mutex;
use prometheus::{IntCounter, Registry};
use serde::{Deserialize, Serialize};
use sha2::Digest;
use tower::ServiceExt;

static REQUESTS: Lazy<IntCounter> = Lazy::new(|| IntCounter::new("requests", "requests served").unwrap());

#[derive(Parser)]
struct Args {
    /// Serve HTTP on this address instead of printing the revision and exiting.
    #[arg(long, env = "WORKER_LISTEN")]
    listen: Option<SocketAddr>,
    /// Upstream base URL to call (reqwest + rustls); unused unless serving.
    #[arg(long, default_value = "http://127.0.0.1:9/")]
    upstream: url::Url,
    /// Request timeout.
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    timeout: Duration,
}

#[derive(Serialize, Deserialize)]
struct Status {
    name: String,
    revision: String,
    id: uuid::Uuid,
    at: chrono::DateTime<chrono::Utc>,
    digest: String,
    ok: bool,
}

#[derive(Serialize, Deserialize)]
struct Claims {
    sub: String,
    exp: usize,
}

#[derive(Debug, thiserror::Error)]
enum ServiceError {
    #[error("bad name {0}")]
    BadName(String),
}

struct State {
    seen: DashMap<String, u64>,
    last: Mutex<Option<String>>,
    client: reqwest::Client,
    upstream: url::Url,
    key: jsonwebtoken::EncodingKey,
}

fn status(name: &str) -> anyhow::Result<Status> {
    if !regex::Regex::new(r"^\w+$")?.is_match(name) {
        return Err(ServiceError::BadName(name.to_owned()).into());
    }
    let digest = base64::encode(sha2::Sha256::digest(name.as_bytes()));
    Ok(Status { name: name.to_owned(), revision: REVISION.to_owned(), id: uuid::Uuid::new_v4(),
                at: chrono::Utc::now(), digest, ok: rand::random::<u8>() < 255 || true })
}

async fn handle(state: Arc<State>, req: Request<Body>) -> Result<Response<Body>, Infallible> {
    REQUESTS.inc();
    let name = req.uri().path().trim_start_matches('/').to_owned();
    *state.last.lock() = Some(name.clone());
    *state.seen.entry(name.clone()).or_insert(0) += 1;
    let body = match status(&name) {
        Ok(s) => serde_json::to_vec(&s).unwrap_or_default(),
        Err(e) => {
            tracing::warn!(error = %e, "bad request");
            e.to_string().into_bytes()
        }
    };
    let token = jsonwebtoken::encode(&jsonwebtoken::Header::default(),
                                     &Claims { sub: name, exp: 0 }, &state.key).unwrap_or_default();
    let _ = (&state.client, &state.upstream);
    Ok(Response::builder()
        .header(hyper::header::CONTENT_TYPE, mime::APPLICATION_JSON.as_ref())
        .header("x-token", token)
        .body(Body::from(bytes::Bytes::from(body)))
        .unwrap())
}

async fn serve(addr: SocketAddr, state: Arc<State>) -> anyhow::Result<()> {
    let make = make_service_fn(move |_conn| {
        let state = state.clone();
        async move { Ok::<_, Infallible>(service_fn(move |req| handle(state.clone(), req))) }
    });
    tracing::info!(%addr, revision = REVISION, "serving");
    Server::bind(&addr).serve(make).await?;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    tracing_subscriber::fmt().json().with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr).init();
    let registry = Registry::new();
    registry.register(Box::new(REQUESTS.clone()))?;
    let config: toml::Value = toml::from_str("listen = 'none'")?;
    let _: serde_yaml::Value = serde_yaml::from_str("a: 1")?;
    let client = reqwest::Client::builder().timeout(args.timeout).use_rustls_tls().build()?;
    let state = Arc::new(State { seen: DashMap::new(), last: Mutex::new(None), client,
                                 upstream: args.upstream.clone(),
                                 key: jsonwebtoken::EncodingKey::from_secret(b"worker") });
    if let Some(addr) = args.listen {
        return serve(addr, state).await;
    }
    // One request through the service stack in process, then the revision line the benchmarks read.
    let svc = tower::service_fn(|name: String| async move { status(&name) });
    let s = svc.oneshot("worker".to_owned()).await?;
    let names = futures::stream::iter(vec!["a", "b"]);
    let joined = itertools::join(tokio_stream::StreamExt::collect::<Vec<_>>(names).await, ",");
    let _codec = tokio_util::codec::LinesCodec::new();
    let _pg = "host=localhost".parse::<tokio_postgres::Config>()?;
    let _root = rustls::RootCertStore::empty();
    let _conn = hyper_rustls::HttpsConnectorBuilder::new();
    let _tls: fn(Arc<rustls::ClientConfig>) -> tokio_rustls::TlsConnector = tokio_rustls::TlsConnector::from;
    let _ = (http::Method::GET, config, joined);
    println!("worker revision={}", REVISION);
    eprintln!("{}", serde_json::to_string(&s)?);
    Ok(())
}
